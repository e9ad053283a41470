import type { FileKind, InstalledFile, Relro } from '../report.js';

/** The columns of `package_files` that make an InstalledFile, facts included (alias `f`). */
export const FILE_FACT_COLUMNS = `f.path, f.size::float8 AS size, f.mode, f.sha256, f.kind, f.linkage, f.needed, f.target,
  f.soname, f.runpath, f.pie, f.relro, f.bind_now, f.nx_stack, f.stripped, f.setuid, f.setgid, f.gnu_build_id,
  f.machine`;

export interface FileFactRow {
  path: string;
  size: number;
  mode: string;
  sha256: string | null;
  kind: FileKind;
  linkage: 'static' | 'dynamic' | null;
  needed: string[] | null;
  target: string | null;
  soname: string | null;
  runpath: string | null;
  pie: boolean | null;
  relro: Relro | null;
  bind_now: boolean | null;
  nx_stack: boolean | null;
  stripped: boolean | null;
  setuid: boolean;
  setgid: boolean;
  gnu_build_id: string | null;
  machine: string | null;
}

/** A stored file as the report has it: absent facts stay absent. */
export function fileFromRow(row: FileFactRow): InstalledFile {
  const file: InstalledFile = { path: row.path, size: row.size, mode: row.mode, kind: row.kind };
  if (row.sha256) file.sha256 = row.sha256;
  if (row.linkage) file.linkage = row.linkage;
  if (row.needed) file.needed = row.needed;
  if (row.target) file.target = row.target;
  if (row.soname) file.soname = row.soname;
  if (row.runpath) file.runpath = row.runpath;
  if (row.pie !== null) file.pie = row.pie;
  if (row.relro) file.relro = row.relro;
  if (row.bind_now !== null) file.bindNow = row.bind_now;
  if (row.nx_stack !== null) file.nxStack = row.nx_stack;
  if (row.stripped !== null) file.stripped = row.stripped;
  if (row.setuid) file.setuid = true;
  if (row.setgid) file.setgid = true;
  if (row.gnu_build_id) file.buildId = row.gnu_build_id;
  if (row.machine) file.machine = row.machine;
  return file;
}
