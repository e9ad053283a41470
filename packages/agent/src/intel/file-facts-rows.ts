import type { InstalledFile, Queryable } from '@kiln/shared';

/**
 * Adds the ELF facts of a build's files to its `package_files` rows (written
 * by the build store just before, in the same transaction). Only files with
 * a fact to record are touched.
 */
export async function writeFileFacts(db: Queryable, buildId: string, files: readonly InstalledFile[]): Promise<void> {
  const withFacts = files.filter(
    (f) => f.relro !== undefined || f.setuid || f.setgid || f.soname !== undefined || f.machine !== undefined,
  );
  if (withFacts.length === 0) return;
  const column = <T>(pick: (f: InstalledFile) => T | undefined) => withFacts.map((f) => pick(f) ?? null);
  await db.query(
    `UPDATE package_files f
        SET soname = t.soname, runpath = t.runpath, pie = t.pie, relro = t.relro, bind_now = t.bind_now,
            nx_stack = t.nx_stack, stripped = t.stripped, setuid = t.setuid, setgid = t.setgid, gnu_build_id = t.gnu_build_id,
            machine = t.machine
       FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[], $6::text[], $7::boolean[], $8::boolean[],
                   $9::boolean[], $10::boolean[], $11::boolean[], $12::text[], $13::text[])
            AS t(path, soname, runpath, pie, relro, bind_now, nx_stack, stripped, setuid, setgid, gnu_build_id, machine)
      WHERE f.build_id = $1 AND f.path = t.path`,
    [
      buildId,
      column((f) => f.path),
      column((f) => f.soname),
      column((f) => f.runpath),
      column((f) => f.pie),
      column((f) => f.relro),
      column((f) => f.bindNow),
      column((f) => f.nxStack),
      column((f) => f.stripped),
      withFacts.map((f) => f.setuid === true),
      withFacts.map((f) => f.setgid === true),
      column((f) => f.buildId),
      column((f) => f.machine),
    ],
  );
}
