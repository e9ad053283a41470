import { createProgress } from './run-progress.js';

const ESC = String.fromCharCode(27);

function drive(live: boolean): string {
  let text = '';
  const progress = createProgress((t) => (text += t), { live, columns: 60 });
  const e = progress.events;
  e.stageStarted?.({ stage: 'build', position: 0, image: 'img:1' });
  e.log?.({ stage: 'build', stream: 'system', text: '$ make\n', at: 0 });
  e.commandStarted?.({ stage: 'build', position: 0, index: 0, command: 'make' });
  e.log?.({ stage: 'build', stream: 'stdout', text: 'cc -c a.c\ncc -c b', at: 0 });
  e.log?.({ stage: 'build', stream: 'stderr', text: '.c\nwarning: \x1b[31mred\x1b[0m\n', at: 0 });
  e.commandFinished?.({ stage: 'build', position: 0, index: 0, command: 'make', exitCode: 2, durationMs: 1500 });
  e.stageFinished?.({
    name: 'build',
    position: 0,
    status: 'failed',
    exitCode: 2,
    durationMs: 1600,
    commands: [],
    error: 'exited 2',
  });
  progress.close();
  return text;
}

describe('kiln run progress', () => {
  test('plain (not a terminal): stage lines and the output as it comes, escape sequences shown as text', () => {
    expect(drive(false)).toBe(
      '==> build (img:1)\n$ make\ncc -c a.c\ncc -c b.c\nwarning: ^[[31mred^[[0m\n    exit 2 after 1.5s\n<== build failed in 1.6s\n',
    );
  });

  test('live (a terminal): a redrawn block with the command and a clean tail, lines that stay above it', () => {
    const text = drive(true);
    expect(text).toContain('\u2717 make');
    expect(text).toContain('\u2717 build: failed in 1.6s (exited 2)');
    // Escape sequences from the build are dropped from the tail: they would break the redraw.
    expect(text).toContain('\x1b[2m  warning: red\x1b[0m');
    // Every redraw first moves up over the previous block and clears it.
    expect(text).toMatch(new RegExp(`${ESC}\\[\\d+A${ESC}\\[J`));
    // Once the stage is over no live block is left drawn: its result line is the last thing.
    expect(text.endsWith('\u2717 build: failed in 1.6s (exited 2)\n')).toBe(true);
  });

  test('live: the payload phase after the install stage is one line, bytes done of the total, gone when done', () => {
    let text = '';
    const progress = createProgress((t) => (text += t), { live: true, columns: 80 });
    const payload = { bytesDone: 512 * 1024 ** 2, bytesTotal: 1024 ** 3, files: 1234, elapsedMs: 3200 };
    progress.events.payload?.({ ...payload, done: false });
    expect(text).toBe('\x1b[1mpayload\x1b[0m 512 MiB of at most 1.0 GiB (50%), 1234 files, 3.2s\n');
    progress.events.payload?.({ ...payload, done: true });
    expect(text.endsWith(`${ESC}[1A${ESC}[J`)).toBe(true);
    progress.close();
  });

  test('plain: the payload phase is told by the log lines, nothing else', () => {
    let text = '';
    const progress = createProgress((t) => (text += t), { live: false });
    progress.events.payload?.({ bytesDone: 1, bytesTotal: 2, files: 1, elapsedMs: 1, done: false });
    expect(text).toBe('');
  });
});
