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

/**
 * A `package_files` row (aliased `f`) as a JSON object in the API's shape,
 * built by PostgreSQL: a list of files then arrives as one JSON value, which
 * costs the server far less than decoding it field by field.
 */
export const FILE_JSON = `json_build_object('path', f.path, 'size', f.size, 'mode', f.mode, 'sha256', f.sha256,
  'kind', f.kind, 'linkage', f.linkage, 'needed', f.needed, 'soname', f.soname, 'target', f.target)`;
