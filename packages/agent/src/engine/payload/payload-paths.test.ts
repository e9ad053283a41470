import type { FileChange, PathStat, StageContainer } from '../container-runtime.js';
import { archiveRoots, installedPath, isPayloadPath } from './payload-paths.js';

const PATHS = { destdir: '/kiln/destdir', kilnDir: '/kiln', workspace: '/workspace', mountTargets: ['/cache'] };

/** A container as the roots see it: its diff, and what stat says of a path. */
function containerWith(changes: FileChange[], directories: string[] = []): StageContainer {
  const stat = (p: string): Promise<PathStat | null> =>
    Promise.resolve({ mode: 0o755, size: 0, isDirectory: directories.includes(p) });
  return { changes: () => Promise.resolve(changes), stat } as unknown as StageContainer;
}

const added = (path: string): FileChange => ({ path, change: 'added' });
const modified = (path: string): FileChange => ({ path, change: 'modified' });

describe('archiveRoots', () => {
  test('the fewest paths: an added directory brings its tree, a changed directory only its changed children', async () => {
    const container = containerWith(
      [
        added('/kiln'),
        added('/kiln/destdir'),
        added('/kiln/destdir/usr'),
        added('/kiln/destdir/usr/bin/tool'),
        added('/kiln/stage.sh'),
        modified('/etc'),
        modified('/etc/passwd'),
        added('/etc/app'),
        added('/etc/app/app.conf'),
        modified('/usr/lib'),
        added('/tmp/scratch'),
        { path: '/usr/share/gone', change: 'deleted' },
      ],
      ['/usr/lib'],
    );
    expect(await archiveRoots(container, PATHS)).toEqual(['/etc/app', '/etc/passwd', '/kiln/destdir']);
  });

  test('a directory added only for what is not payload is not fetched; an empty one made by the install is', async () => {
    const container = containerWith([
      added('/sbin'),
      added('/sbin/docker-init'),
      added('/opt/empty'),
      added('/cache'),
      added('/cache/x'),
    ]);
    expect(await archiveRoots(container, PATHS)).toEqual(['/opt/empty']);
  });
});

describe('payload paths', () => {
  test('under DESTDIR a file counts below it; Kiln, the workspace, mounts and scratch space are not payload', () => {
    expect(installedPath('/kiln/destdir/usr/bin/tool', PATHS)).toBe('/usr/bin/tool');
    expect(installedPath('/usr/local/bin/tool', PATHS)).toBe('/usr/local/bin/tool');
    expect(installedPath('/kiln/destdir', PATHS)).toBeNull();
    const payload = ['/kiln/destdir/x', '/usr/local/bin/tool', '/etc/app.conf'];
    const not = ['/kiln/stage.sh', '/workspace/a.o', '/cache/x', '/tmp/x', '/var/cache/apt/x', '/root/.bashrc'];
    expect(payload.filter((p) => isPayloadPath(p, PATHS))).toEqual(payload);
    expect(not.filter((p) => isPayloadPath(p, PATHS))).toEqual([]);
  });
});
