import type { FileKind } from '@kiln/shared';
import type { InstalledFileOut } from '../schemas/common.js';

/** The columns of `package_files` the API shows, as one constant list. */
export const FILE_COLUMNS = `f.path, f.size::float8 AS size, f.mode, f.sha256, f.kind, f.linkage, f.needed, f.soname, f.target`;

export interface FileRow {
  path: string;
  size: number;
  mode: string;
  sha256: string | null;
  kind: FileKind;
  linkage: 'static' | 'dynamic' | null;
  needed: string[] | null;
  soname: string | null;
  target: string | null;
}

export function toFile(row: FileRow): InstalledFileOut {
  return {
    path: row.path,
    size: row.size,
    mode: row.mode,
    sha256: row.sha256,
    kind: row.kind,
    linkage: row.linkage,
    needed: row.needed,
    soname: row.soname,
    target: row.target,
  };
}
