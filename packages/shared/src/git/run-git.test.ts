import { gitReason } from './run-git.js';

describe('gitReason', () => {
  it('takes the fatal line, not the advice after it', () => {
    const stderr = [
      "fatal: '/etc' does not appear to be a git repository",
      'fatal: Could not read from remote repository.',
      '',
      'Please make sure you have the correct access rights',
      'and the repository exists.',
    ].join('\n');
    expect(gitReason(stderr, 128)).toBe("'/etc' does not appear to be a git repository");
  });

  it('falls back to the last line, then to the exit status', () => {
    expect(gitReason('warning: x\nsomething broke\n', 1)).toBe('something broke');
    expect(gitReason('', 128)).toBe('git exited with 128');
  });
});
