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
 * costs the server far less than decoding it field by field. row_to_json of
 * a row whose columns carry the API's names: it looks up the JSON type of
 * each column value once per value, where json_build_object also does so for
 * every key (about a third less work per file), and its output is compact.
 */
export const FILE_JSON = `(SELECT row_to_json(x) FROM (SELECT f.path, f.size, f.mode, f.sha256, f.kind, f.linkage, f.needed,
  f.soname, f.target, f.runpath, f.pie, f.relro, f.bind_now AS "bindNow", f.nx_stack AS "nxStack", f.stripped,
  f.setuid, f.setgid, f.gnu_build_id AS "buildId", f.machine) x)`;
