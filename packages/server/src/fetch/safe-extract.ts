import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, open, symlink, unlink, constants } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract, type Header as TarHeaders } from 'tar-stream';
import { InvalidInputError, type ArtifactFormat } from '@kiln/shared';
import { createDecompressor, sniffArtifactFormat } from './decompress.js';

export interface ExtractOptions {
  /** Keep setuid, setgid and sticky bits (off: they are removed, as a package manager would by policy). */
  allowSetuid?: boolean;
}

export interface ExtractResult {
  files: number;
  directories: number;
  symlinks: number;
  /** Entries whose setuid/setgid/sticky bits were removed. */
  strippedModes: string[];
}

/** Why an archive is refused: nothing of it was written. */
export class UnsafeArchiveError extends InvalidInputError {}

/**
 * Extracts a .tar.gz or .tar.zst (told apart by their first bytes) into
 * `dir` the way a package manager must: the archive
 * is read twice, first to check every entry (no absolute or `..` path, no
 * device, FIFO or hard link) so a hostile archive writes nothing; then to
 * write, never through a symlink (every parent is checked with lstat and
 * files are opened with O_NOFOLLOW), and without setuid bits unless asked.
 */
export async function safeExtract(archive: string, dir: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  const format = await sniffArtifactFormat(archive);
  if (!format) throw new UnsafeArchiveError('the artifact is neither a .tar.gz nor a .tar.zst');
  await walk(archive, format, async (header) => {
    checkEntry(header);
  });
  const root = path.resolve(dir);
  await mkdir(root, { recursive: true });
  const result: ExtractResult = { files: 0, directories: 0, symlinks: 0, strippedModes: [] };
  await walk(archive, format, async (header, body) => {
    const relative = checkEntry(header);
    if (relative === '') return;
    const target = path.join(root, relative);
    await ensureParents(root, relative);
    let mode = (header.mode ?? 0o644) & 0o7777;
    if (!options.allowSetuid && mode & 0o7000) {
      result.strippedModes.push(`/${relative}`);
      mode &= 0o777;
    }
    if (header.type === 'directory') {
      await mkdir(target, { recursive: true });
      await refuseSymlink(target, relative);
      await chmod(target, mode | 0o700);
      result.directories++;
    } else if (header.type === 'symlink') {
      await unlink(target).catch(() => undefined);
      await symlink(header.linkname ?? '', target);
      result.symlinks++;
    } else {
      const handle = await open(
        target,
        constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        for await (const chunk of body) await handle.write(chunk as Buffer);
        await handle.chmod(mode);
      } finally {
        await handle.close();
      }
      result.files++;
      return;
    }
  });
  return result;
}

/** The entry's path relative to the folder; throws for anything a package must not contain. */
export function checkEntry(header: Pick<TarHeaders, 'name' | 'type'>): string {
  const name = header.name;
  if (name.includes('\0')) throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} has a NUL byte in its name`);
  const relative = path.posix.normalize(name.replace(/^(\.\/|\/)+/, '')).replace(/\/+$/, '');
  if (relative === '..' || relative.startsWith('../') || path.posix.isAbsolute(relative)) {
    throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} leaves the target folder`);
  }
  switch (header.type) {
    case 'file':
    case 'contiguous-file':
    case 'directory':
    case 'symlink':
      break;
    case 'character-device':
    case 'block-device':
      throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} is a device file`);
    case 'link':
      throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} is a hard link`);
    default:
      throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} is a ${header.type ?? 'special file'}`);
  }
  if (relative === '.' && header.type !== 'directory') {
    throw new UnsafeArchiveError(`entry ${JSON.stringify(name)} has no name`);
  }
  return relative === '.' ? '' : relative;
}

async function ensureParents(root: string, relative: string): Promise<void> {
  const parts = relative.split('/').slice(0, -1);
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    await mkdir(current).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await refuseSymlink(current, relative);
  }
}

async function refuseSymlink(at: string, entry: string): Promise<void> {
  const info = await lstat(at);
  if (info.isSymbolicLink()) {
    throw new UnsafeArchiveError(`entry ${JSON.stringify(entry)} would be written through the symlink ${at}`);
  }
  if (!info.isDirectory()) throw new UnsafeArchiveError(`entry ${JSON.stringify(entry)}: ${at} is not a folder`);
}

async function walk(
  archive: string,
  format: ArtifactFormat,
  visit: (header: TarHeaders, body: AsyncIterable<unknown>) => Promise<void>,
): Promise<void> {
  const reader = extract();
  const done = pipeline(createReadStream(archive), createDecompressor(format), reader);
  try {
    for await (const entry of reader) {
      await visit(entry.header, entry);
      entry.resume();
    }
    await done;
  } catch (err) {
    reader.destroy();
    await done.catch(() => undefined);
    throw err;
  }
}
