import { Writable } from 'node:stream';
import { pino } from 'pino';
import { WatchList } from './watch-list.js';

function list(repos: string[]) {
  const lines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  return { watch: new WatchList({ repos, logger }), lines };
}

test('one repository however its path is written; refused locations are logged redacted', () => {
  const { watch, lines } = list([
    '/srv/git/a.git',
    '/srv/git/a.git/',
    'ext::sh -c id',
    'https://u:hunter2@-x.example.org/r.git',
    'https://u:tok@git.example.org/t/r.git',
  ]);
  expect(watch.repos.map((r) => r.location)).toEqual(['/srv/git/a.git', 'https://u:tok@git.example.org/t/r.git']);
  expect(watch.repos[1]?.label).toBe('https://***@git.example.org/t/r.git');
  expect(lines).toHaveLength(2);
  expect(lines.join('')).not.toMatch(/hunter2|tok@/);
});

test('webhook URLs find the watched repository by host and path', async () => {
  const { watch } = list(['git@git.example.org:team/app.git', '/srv/git/lib.git']);
  expect((await watch.findByUrls(['https://git.example.org/team/app']))?.location).toBe(
    'git@git.example.org:team/app.git',
  );
  expect((await watch.findByUrls(['file:///srv/git/lib']))?.location).toBe('/srv/git/lib.git');
  expect(await watch.findByUrls(['https://elsewhere.example.org/team/app.git'])).toBeUndefined();
  expect(await watch.findByUrls([])).toBeUndefined();
});
