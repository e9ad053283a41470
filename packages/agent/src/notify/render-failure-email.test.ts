import type { FailureEmailData } from './failure-email-data.js';
import { escapeHtml, renderFailureEmail, sanitizeSubject } from './render-failure-email.js';

const ID = '6f1e3c2a-9b7d-4e11-8a0c-0d5b2f9e7a41';

function failed(overrides: Partial<FailureEmailData> = {}): FailureEmailData {
  return {
    buildId: ID,
    status: 'failed',
    repo: 'https://kiln:t0ken-s3cret@git.example.org/libs/zlib.git',
    branch: 'zlib-1.3.1',
    commit: '0123456789abcdef0123456789abcdef01234567',
    packageName: 'zlib',
    packageVersion: '1.3.1',
    attempt: 1,
    startedAt: new Date('2026-11-21T05:00:00Z'),
    finishedAt: new Date('2026-11-21T05:00:41Z'),
    durationMs: 41_234,
    error: 'build: make -j2 exited 2',
    failedStage: 'build',
    failedCommand: 'make -j2',
    exitCode: 2,
    failure: { stage: 'build', command: 'make -j2', exitCode: 2, reason: 'exited 2' },
    flags: [],
    stages: [
      { name: 'prepare', status: 'succeeded', exitCode: 0, durationMs: 12_000, error: null, commands: [] },
      {
        name: 'build',
        status: 'failed',
        exitCode: 2,
        durationMs: 29_000,
        error: 'exited 2',
        commands: [
          { command: './configure', exitCode: 0, durationMs: 3_000 },
          { command: 'make -j2', exitCode: 2, durationMs: 26_000 },
        ],
      },
      { name: 'test', status: 'skipped', exitCode: null, durationMs: null, error: null, commands: [] },
    ],
    logTail: [
      'gcc -c adler32.c',
      'adler32.c:12:3: error: unknown type name ‘uLong’',
      'make: *** [Makefile:3: all] Error 2',
    ],
    logTruncated: true,
    ...overrides,
  };
}

describe('renderFailureEmail', () => {
  test('a failed command: subject, fields, stages, log tail and the whole-log command', () => {
    const email = renderFailureEmail(failed());
    expect(email.subject).toBe('[kiln] zlib-1.3.1 failed in build: make -j2 exited 2');
    expect(email.text).toContain('Repository:     https://***@git.example.org/libs/zlib.git\n');
    expect(email.text).not.toContain('t0ken-s3cret');
    expect(email.text).toMatch(/^Branch: +zlib-1\.3\.1$/m);
    expect(email.text).toMatch(/^Commit: +0123456789abcdef0123456789abcdef01234567$/m);
    expect(email.text).toMatch(/^Failed stage: +build$/m);
    expect(email.text).toMatch(/^Failed command: +make -j2$/m);
    expect(email.text).toMatch(/^Exit code: +2$/m);
    expect(email.text).toMatch(/^Duration: +41\.2s \(2026-11-21 05:00:00 UTC to 2026-11-21 05:00:41 UTC\)$/m);
    expect(email.text).toMatch(/^ {2}prepare +succeeded +12\.0s$/m);
    expect(email.text).toMatch(/^ {2}build +failed +29\.0s +exited 2$/m);
    expect(email.text).toMatch(/^ {2}test +skipped$/m);
    expect(email.text).toContain('Last 3 lines of the log:\n  gcc -c adler32.c\n');
    expect(email.text).toContain('  make: *** [Makefile:3: all] Error 2\n');
    expect(email.text).toContain(`The whole log: kiln logs ${ID}\n`);
    expect(email.html).toContain(`<code>kiln logs ${ID}</code>`);
    expect(email.html).toContain('adler32.c:12:3: error: unknown type name ‘uLong’');
    expect(email.html).not.toContain('t0ken-s3cret');
  });

  test('a timeout and an out-of-memory kill say so instead of an exit code', () => {
    const timeout = renderFailureEmail(
      failed({
        exitCode: null,
        failure: { stage: 'build', command: 'make -j2', exitCode: null, reason: 'timed out after 20m' },
        stages: [
          {
            name: 'build',
            status: 'failed',
            exitCode: null,
            durationMs: 1_200_000,
            error: 'timed out after 20m',
            commands: [],
          },
        ],
      }),
    );
    expect(timeout.subject).toBe('[kiln] zlib-1.3.1 failed in build: make -j2 timed out after 20m');
    expect(timeout.text).toMatch(/^Reason: +timed out after 20m$/m);
    expect(timeout.text).not.toMatch(/^Exit code:/m);

    const oom = renderFailureEmail(
      failed({
        exitCode: 137,
        stages: [
          {
            name: 'build',
            status: 'failed',
            exitCode: 137,
            durationMs: 5_000,
            error: 'killed: out of memory',
            commands: [],
          },
        ],
      }),
    );
    expect(oom.subject).toBe('[kiln] zlib-1.3.1 failed in build: make -j2 killed: out of memory');
    expect(oom.text).toMatch(/^Exit code: +137$/m);
    expect(oom.text).toMatch(/^Reason: +killed: out of memory$/m);
  });

  test('an invalid manifest names the file and line, with the whole error in the body', () => {
    const error = '.kiln.yml: stages[1]: "tset" has no section (line 14)\n.kiln.yml: imagee: unknown key (line 2)';
    const email = renderFailureEmail(
      failed({
        status: 'errored',
        error,
        failedStage: null,
        failedCommand: null,
        exitCode: null,
        failure: null,
        stages: [],
        logTail: [],
        logTruncated: false,
      }),
    );
    expect(email.subject).toBe('[kiln] zlib-1.3.1 errored: invalid manifest .kiln.yml line 14');
    expect(email.text).toContain(
      `The manifest is invalid:\n  .kiln.yml: stages[1]: "tset" has no section (line 14)\n  .kiln.yml: imagee: unknown key (line 2)\n`,
    );
    expect(email.text).not.toContain('lines of the log');
    expect(email.html).toContain('&quot;tset&quot; has no section (line 14)');

    const buildr = renderFailureEmail(
      failed({
        status: 'errored',
        error: '.buildr.yml: YAML: bad indentation',
        failedStage: 'manifest',
        failedCommand: null,
        exitCode: null,
        failure: null,
      }),
    );
    expect(buildr.subject).toBe('[kiln] zlib-1.3.1 errored: invalid manifest .buildr.yml');
  });

  test('a clone error names the stage and the error', () => {
    const email = renderFailureEmail(
      failed({
        status: 'errored',
        error: 'clone: commit 0123456 is not on branch zlib-1.3.1 (was it force-pushed?)',
        failedStage: 'clone',
        failedCommand: null,
        exitCode: null,
        failure: { stage: 'clone', reason: 'commit 0123456 is not on branch zlib-1.3.1 (was it force-pushed?)' },
        stages: [],
      }),
    );
    expect(email.subject).toBe(
      '[kiln] zlib-1.3.1 errored in clone: commit 0123456 is not on branch zlib-1.3.1 (was it force-pushed?)',
    );
    expect(email.text).toContain('Error:\n  clone: commit 0123456 is not on branch');
  });

  test('without a package name, the branch labels the build', () => {
    const email = renderFailureEmail(failed({ packageName: null, packageVersion: null, branch: 'main' }));
    expect(email.subject).toBe('[kiln] main failed in build: make -j2 exited 2');
  });

  test('the command and reason come from the stages when the build row lacks them', () => {
    const email = renderFailureEmail(failed({ failedStage: null, failedCommand: null, exitCode: null, failure: null }));
    expect(email.subject).toBe('[kiln] zlib-1.3.1 failed in build: make -j2 exited 2');
  });

  test('whatever the build wrote cannot break out of the HTML or the subject line', () => {
    const email = renderFailureEmail(
      failed({
        failedCommand: 'echo "<script>alert(1)</script>"\r\nBcc: evil@example.org',
        logTail: ['</pre><img src=x onerror=alert(1)>', '& done'],
      }),
    );
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject).toBe(
      '[kiln] zlib-1.3.1 failed in build: echo "<script>alert(1)</script>" Bcc: evil@example.org exited 2',
    );
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<img');
    expect(email.html).toContain('&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;\n&amp; done');
  });

  test('a long command is shortened in the subject only', () => {
    const command = `gcc ${'-DFLAG '.repeat(40)}-o zlib`;
    const email = renderFailureEmail(failed({ failedCommand: command }));
    expect(email.subject.length).toBeLessThan(140);
    expect(email.subject).toMatch(/^\[kiln\] zlib-1\.3\.1 failed in build: gcc -DFLAG .*… exited 2$/);
    expect(email.text).toContain(command);
  });
});

test('sanitizeSubject keeps one printable line', () => {
  expect(sanitizeSubject('a\r\nb\u0000c\td')).toBe('a b c d');
  expect(sanitizeSubject('x'.repeat(300))).toHaveLength(200);
});

test('escapeHtml', () => {
  expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

describe('content policy flags in the email', () => {
  it('lists each flag in the text and the HTML, escaped', () => {
    const mail = renderFailureEmail(
      failed({ flags: [{ path: '/usr/bin/<sh>', rule: 'setuid', message: 'is setuid: it runs as its owner' }] }),
    );
    expect(mail.text).toContain('The content policy flagged:');
    expect(mail.text).toContain('/usr/bin/<sh>: is setuid: it runs as its owner');
    expect(mail.html).toContain('<code>/usr/bin/&lt;sh&gt;</code>: is setuid');
  });
});

describe('the link to the build page', () => {
  test('is there when KILN_PUBLIC_URL is set, and only then', () => {
    const url = `https://kiln.example.org/builds/${ID}`;
    const linked = renderFailureEmail(failed({ pageUrl: url }));
    expect(linked.text).toContain(`Build page:`);
    expect(linked.text).toContain(url);
    expect(linked.html).toContain(url);
    expect(renderFailureEmail(failed()).text).not.toContain('Build page');
  });
});
