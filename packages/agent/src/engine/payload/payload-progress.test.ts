import type { PayloadProgress } from '../types.js';
import { ProgressMeter, progressLines } from './payload-progress.js';

const at = (elapsedMs: number, done = false): PayloadProgress => ({
  bytesDone: 512 * 1024 ** 2,
  bytesTotal: 1024 ** 3,
  files: 1234,
  elapsedMs,
  done,
});

describe('payload progress', () => {
  test('log lines: none for a short phase, then one every 5 s with bytes done of the total', () => {
    const lines: string[] = [];
    const tell = progressLines((line) => lines.push(line));
    tell(at(0));
    tell(at(4900));
    expect(lines).toEqual([]);
    tell(at(5000));
    tell(at(9000));
    tell(at(10_000));
    tell(at(20_000, true));
    expect(lines).toEqual([
      'payload: 512 MiB of at most 1 GiB (50%) read, 1234 files, 102.4 MiB/s\n',
      'payload: 512 MiB of at most 1 GiB (50%) read, 1234 files, 51.2 MiB/s\n',
    ]);
  });

  test('the meter tells at the start and at the end, with what passed', () => {
    const told: PayloadProgress[] = [];
    const meter = new ProgressMeter(100, (p) => told.push(p));
    meter.bytes(60);
    meter.file();
    meter.bytes(70);
    meter.file();
    meter.finish();
    expect(told[0]).toMatchObject({ bytesDone: 0, bytesTotal: 100, files: 0, done: false });
    // More passed than Docker counted (a hard link read twice): the total is not left behind.
    expect(told.at(-1)).toMatchObject({ bytesDone: 130, bytesTotal: 130, files: 2, done: true });
  });
});
