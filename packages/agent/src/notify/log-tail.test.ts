import { logTail, secretValues } from './log-tail.js';

describe('logTail', () => {
  test('keeps the last lines and says whether there were more', () => {
    const text = Array.from({ length: 80 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
    const tail = logTail(text, { maxLines: 50, maxLineLength: 100 });
    expect(tail.lines).toHaveLength(50);
    expect(tail.lines[0]).toBe('line 31');
    expect(tail.lines[49]).toBe('line 80');
    expect(tail.truncated).toBe(true);
    expect(logTail('a\nb', { maxLines: 50, maxLineLength: 100 })).toEqual({ lines: ['a', 'b'], truncated: false });
  });

  test('removes terminal escapes and control characters, keeps what a progress bar last showed', () => {
    const tail = logTail('\u001b[1;31merror:\u001b[0m bad\u0007\r\n 10%\r 50%\r100% done\n\u001b]0;title\u0007ok\n', {
      maxLines: 10,
      maxLineLength: 100,
    });
    expect(tail.lines).toEqual(['error: bad', '100% done', 'ok']);
  });

  test('masks secret values and URL credentials, and cuts long lines', () => {
    const tail = logTail('token is s3cr3t-value\ncloning https://bot:pa55@git.example.org/x.git\n' + 'x'.repeat(30), {
      maxLines: 10,
      maxLineLength: 20,
      secrets: ['s3cr3t-value', 'ab'],
    });
    expect(tail.lines).toEqual(['token is ***', 'cloning https://***@…', `${'x'.repeat(20)}…`]);
  });
});

test('secretValues picks variables named like secrets', () => {
  expect(
    secretValues([
      { name: 'GREETING', value: 'hello' },
      { name: 'API_TOKEN', value: 't' },
      { name: 'DB_PASSWORD', value: 'p' },
      { name: 'SSH_KEY', value: 'k' },
      { name: 'EMPTY_SECRET', value: '' },
    ]),
  ).toEqual(['t', 'p', 'k']);
});
