import type { Readable } from 'node:stream';

/**
 * What the engine needs from a container engine, in Kiln's words. One
 * implementation talks to Docker (docker/docker-runtime.ts); nothing else in the
 * engine sees dockerode.
 */
export interface ContainerSpec {
  name: string;
  image: string;
  entrypoint: string[];
  command: string[];
  workingDir: string;
  labels: Record<string, string>;
  mounts: Mount[];
  /** Keep stdin open for attach() to write once (and close). */
  stdin: boolean;
  memoryBytes: number;
  cpus: number;
  pids: number;
  /** `none`, `host`, `bridge` (Docker's default) or the name of a network (Kiln's isolated `kiln-build`). */
  network: string;
  /** The container's host name (default: its id), and the CPUs it may run on (default: all); a reproducibility check varies both. */
  hostname?: string;
  cpuset?: string;
}

export interface Mount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

export type OutputStreamName = 'stdout' | 'stderr';
export type OutputListener = (stream: OutputStreamName, chunk: Buffer) => void;

export interface ContainerExit {
  exitCode: number;
  oomKilled: boolean;
}

export interface FileChange {
  path: string;
  change: 'added' | 'modified' | 'deleted';
}

export interface PathStat {
  mode: number;
  size: number;
  isDirectory: boolean;
}

export interface StageContainer {
  readonly id: string;
  readonly name: string;
  /**
   * Connects to the output before the start, so nothing is missed; `ended`
   * settles when the output closes. `input` is written to stdin, which is
   * then closed (the container must be created with `stdin`).
   */
  attach(listener: OutputListener, input?: string): Promise<{ ended: Promise<void> }>;
  start(): Promise<void>;
  /** Resolves when the container has stopped. */
  wait(): Promise<ContainerExit>;
  /** How many processes run in the container now, against its limit; null when it cannot be told. */
  processCount(): Promise<{ current: number; limit: number } | null>;
  /** Kills every process in the container; harmless when it has already stopped. */
  kill(): Promise<void>;
  /** The container's filesystem changes against its image (mounts excluded). */
  changes(): Promise<FileChange[]>;
  /**
   * Bytes the container wrote to its own filesystem layer, counted by the
   * engine without reading any file; null when the engine cannot tell.
   */
  writtenBytes(): Promise<number | null>;
  stat(path: string): Promise<PathStat | null>;
  /** A tar stream of `path` (a file or a directory), named relative to its parent. */
  readTar(path: string): Promise<Readable>;
  /** Saves the filesystem as a new image; returns its id. */
  commit(image: { repository: string; tag: string; labels: Record<string, string>; base: ImageInfo }): Promise<string>;
  /** Removes the container and its anonymous volumes; harmless when already gone. */
  remove(): Promise<void>;
}

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  /**
   * The Debian arch its programs are for: its `org.kiln.arch` label when it
   * has one (Docker calls an imported image amd64 whatever it holds), else
   * what Docker says (right for pulled images).
   */
  arch: string;
  entrypoint: string[] | null;
  command: string[] | null;
  workingDir: string;
}

export interface PullProgress {
  status: string;
  /** Bytes downloaded so far over all layers, and their total when known. */
  current?: number;
  total?: number;
}

export interface ImageStore {
  /** The image as it is locally, or null when it is not there. */
  inspect(ref: string): Promise<ImageInfo | null>;
  /** `platform` (`linux/arm64`) picks the variant of a multi-arch image; default: the host's. */
  pull(
    ref: string,
    onProgress: (progress: PullProgress) => void,
    signal?: AbortSignal,
    platform?: string,
  ): Promise<void>;
  /** Gives the image `image` (an id or a reference) the name `ref` too. */
  tag(image: string, ref: string): Promise<void>;
  /** Takes the name `ref` off its image; the image stays under its other names. */
  untag(ref: string): Promise<void>;
}

export type ResourceType = 'container' | 'volume' | 'image';

export interface LabelledResource {
  type: ResourceType;
  id: string;
  labels: Record<string, string>;
}

export interface ContainerRuntime {
  readonly images: ImageStore;
  create(spec: ContainerSpec): Promise<StageContainer>;
  /** Creates the named volume unless it exists. */
  ensureVolume(name: string, labels: Record<string, string>): Promise<void>;
  /** Creates the named bridge network unless it exists; its containers cannot reach one another. */
  ensureNetwork(name: string, options: { bridge: string; labels: Record<string, string> }): Promise<void>;
  /** Resources carrying every one of `labels` (a value of `null` means: the label is present). */
  list(labels: Record<string, string | null>): Promise<LabelledResource[]>;
  remove(resource: LabelledResource): Promise<void>;
}
