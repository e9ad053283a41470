import type { FileFactRow } from '@kiln/shared';
import type { InstalledFileOut } from '../schemas/common.js';

/** The columns of `package_files` the API shows (with the ELF facts, DESIGN.md): shared's one list and row type. */
export { FILE_FACT_COLUMNS as FILE_COLUMNS, type FileFactRow as FileRow } from '@kiln/shared';

export function toFile(row: FileFactRow): InstalledFileOut {
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
    runpath: row.runpath,
    pie: row.pie,
    relro: row.relro,
    bindNow: row.bind_now,
    nxStack: row.nx_stack,
    stripped: row.stripped,
    setuid: row.setuid,
    setgid: row.setgid,
    buildId: row.gnu_build_id,
    machine: row.machine,
  };
}

/**
 * A `package_files` row (aliased `f`) as a JSON object in the API's shape,
 * built by PostgreSQL: a list of files then arrives as one JSON value, which
 * costs the server far less than decoding it field by field.
 */
export const FILE_JSON = `json_build_object('path', f.path, 'size', f.size, 'mode', f.mode, 'sha256', f.sha256,
  'kind', f.kind, 'linkage', f.linkage, 'needed', f.needed, 'soname', f.soname, 'target', f.target,
  'runpath', f.runpath, 'pie', f.pie, 'relro', f.relro, 'bindNow', f.bind_now, 'nxStack', f.nx_stack,
  'stripped', f.stripped, 'setuid', f.setuid, 'setgid', f.setgid, 'buildId', f.gnu_build_id,
  'machine', f.machine)`;
