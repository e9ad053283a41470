import path from 'node:path';
import type { Readable } from 'node:stream';
import { extract, type Extract } from 'tar-stream';
import type { StageContainer } from '../container-runtime.js';
import { installedPath, isPayloadPath, type PayloadPaths } from './payload-paths.js';

/** An entry of a tar stream: its header, and its content as a stream. */
export type Entry = Extract extends AsyncIterable<infer T> ? T : never;

/** One payload entry of the container's tar streams, with the path it is installed at. */
export interface PayloadTarEntry {
  entry: Entry;
  /** Where it is in the container. */
  containerPath: string;
  /** Where it is installed: the container path, or the path below DESTDIR. */
  installed: string;
  /** The container path a hard link's name (`header.linkname`) refers to. */
  linkTarget?: string;
}

/**
 * Every payload entry of the roots' tar streams from the container, in
 * archive order. The caller reads or drains each entry's content before it
 * asks for the next; what is not payload is drained here. Leaving the loop
 * early (an error, a limit, a cancel) closes the stream from the engine.
 */
export async function* payloadEntries(
  container: StageContainer,
  roots: readonly string[],
  paths: PayloadPaths,
  signal?: AbortSignal,
): AsyncGenerator<PayloadTarEntry> {
  for (const root of roots) {
    signal?.throwIfAborted();
    const tar: Readable = await container.readTar(root);
    const reader = extract();
    const stop = () => reader.destroy(signal?.reason instanceof Error ? signal.reason : new Error('cancelled'));
    signal?.addEventListener('abort', stop, { once: true });
    tar.on('error', (err: Error) => reader.destroy(err));
    tar.pipe(reader);
    const parent = path.posix.dirname(root);
    try {
      for await (const entry of reader) {
        const header = entry.header;
        const containerPath = path.posix.join(parent, header.name).replace(/(.)\/+$/, '$1');
        const installed = installedPath(containerPath, paths);
        const inRoot = containerPath === root || containerPath.startsWith(`${root}/`);
        if (!inRoot || installed === null || !isPayloadPath(containerPath, paths)) {
          entry.resume();
          continue;
        }
        yield {
          entry,
          containerPath,
          installed,
          ...(header.type === 'link' ? { linkTarget: path.posix.join(parent, header.linkname ?? '') } : {}),
        };
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      tar.unpipe(reader);
      tar.destroy();
      reader.destroy();
    }
  }
}
