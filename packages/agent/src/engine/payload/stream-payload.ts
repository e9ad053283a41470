import type { ArtifactFormat, InstalledFile } from '@kiln/shared';
import type { StageContainer } from '../container-runtime.js';
import { classifyFile } from '../file-kind.js';
import { elfFacts } from '../inspect/elf-facts.js';
import type { PayloadProgress } from '../types.js';
import { ArtifactWriter, type Artifact } from './artifact-writer.js';
import { scanFile, type ScannedFile } from './file-scan.js';
import { payloadEntries } from './payload-entries.js';
import { countPayload, PayloadTooLargeError } from './payload-limit.js';
import { archiveRoots, type PayloadPaths } from './payload-paths.js';
import { ProgressMeter } from './payload-progress.js';

export interface PayloadOptions extends PayloadPaths {
  /** Where the artifact goes and its format; none is written when absent. */
  artifact?: { file: string; format: ArtifactFormat };
  /**
   * The largest payload (content bytes) to accept: a larger one fails with
   * PayloadTooLargeError before its content is read (Docker's count of what the
   * install wrote settles most builds; see countPayload for the rest).
   */
  limitBytes?: number;
  onProgress?(progress: PayloadProgress): void;
  signal?: AbortSignal;
}

/** The report's view of a payload: every file and symlink (directories are implied), by path. */
export interface Payload {
  files: InstalledFile[];
  sizeBytes: number;
  /** Device nodes and fifos the install made: never package content, but the content policy flags them. */
  special: Array<{ path: string; type: string }>;
  artifact?: Artifact;
}

/**
 * What an install stage put on the filesystem, read once from the container:
 * each file is hashed, classified (its first bytes and ELF headers, read as
 * they pass) and written to the artifact in the same pass, while the
 * compressor runs beside it. No copy of the payload is staged on the host.
 * Files under DESTDIR count at their path below it, files written anywhere
 * else count where they are (see payload-paths.ts).
 */
export async function streamPayload(container: StageContainer, options: PayloadOptions): Promise<Payload> {
  const { limitBytes, signal } = options;
  // Docker's diff, which finds the roots, takes a second or more on a large image. While it runs, DESTDIR
  // (where nearly every install writes) is read, when Docker's count already says the payload fits.
  const rootsFound = archiveRoots(container, options);
  rootsFound.catch(() => undefined);
  const written = await container.writtenBytes();
  const fits = limitBytes === undefined || (written !== null && written <= limitBytes);
  let totalBytes = written;
  const early: string[] = [];
  if (!fits) ({ totalBytes } = await countPayload(container, await rootsFound, options, limitBytes, signal));
  else if (await container.stat(options.destdir)) early.push(options.destdir);
  const notEarly = (root: string) => !early.some((e) => root === e || root.startsWith(`${e}/`));
  async function* entries() {
    yield* payloadEntries(container, early, options, signal);
    yield* payloadEntries(container, (await rootsFound).filter(notEarly), options, signal);
  }
  const meter = new ProgressMeter(totalBytes, options.onProgress ?? (() => undefined));
  const writer = options.artifact ? await ArtifactWriter.open(options.artifact.file, options.artifact.format) : null;
  const files = new Map<string, InstalledFile>();
  // Files by container path, for the hard links that follow them in the archive.
  const linkable = new Map<string, { name: string; file: InstalledFile }>();
  const special: Payload['special'] = [];
  let contentBytes = 0;
  try {
    for await (const { entry, installed, containerPath, linkTarget } of entries()) {
      const header = entry.header;
      const mode = (header.mode ?? 0) & 0o7777;
      const base = { name: installed.replace(/^\/+/, ''), mode, ...(header.mtime ? { mtime: header.mtime } : {}) };
      if (header.type === 'file' || header.type === 'contiguous-file') {
        const size = header.size ?? 0;
        contentBytes += size;
        // Docker's count said the payload fits; a hard-linked file counted twice may not.
        if (limitBytes !== undefined && contentBytes > limitBytes)
          throw new PayloadTooLargeError(contentBytes, limitBytes, false);
        const out = writer?.fileEntry({ ...base, size });
        const scanned = await scanFile(entry, size, out?.write ?? null, (bytes) => meter.bytes(bytes));
        await out?.end();
        const file = installedFile(installed, mode, scanned);
        files.set(installed, file);
        linkable.set(containerPath, { name: base.name, file });
        meter.file();
        continue;
      }
      entry.resume();
      if (header.type === 'link') {
        // A hard link: the same content as a file earlier in the archive.
        const original = linkTarget === undefined ? undefined : linkable.get(linkTarget);
        if (!original) continue;
        files.set(installed, { ...original.file, path: installed, mode: modeText(mode) });
        writer?.hardLink(base, original.name);
        meter.file();
      } else if (header.type === 'symlink') {
        const target = header.linkname ?? '';
        files.set(installed, {
          path: installed,
          size: Buffer.byteLength(target),
          mode: modeText(mode),
          kind: 'symlink',
          target,
        });
        writer?.symlink(base, target);
        meter.file();
      } else if (header.type === 'directory') {
        files.delete(installed);
        writer?.directory(base);
      } else {
        // Devices, fifos: nothing a package installs, and not packed; the content policy flags them.
        special.push({ path: installed, type: header.type });
      }
    }
    const artifact = writer ? await writer.finish() : undefined;
    meter.finish();
    const list = [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return {
      files: list,
      sizeBytes: list.reduce((sum, f) => sum + f.size, 0),
      special,
      ...(artifact ? { artifact } : {}),
    };
  } catch (err) {
    await writer?.abort();
    throw err;
  }
}

function installedFile(path: string, mode: number, scanned: ScannedFile): InstalledFile {
  const kind = classifyFile({ path, mode, head: scanned.head, elf: scanned.elf });
  return {
    path,
    size: scanned.size,
    mode: modeText(mode),
    sha256: scanned.sha256,
    kind: kind.kind,
    ...(kind.linkage ? { linkage: kind.linkage } : {}),
    ...(kind.needed ? { needed: kind.needed } : {}),
    ...elfFacts(kind.kind, scanned.elf, mode),
  };
}

function modeText(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}
