import { createPool } from '@kiln/shared';
import { FILE_JSON } from '../packages/server/src/db/file-rows.js';
const db = createPool(`postgres://postgres@127.0.0.1:5432/${process.argv[2]}`, { max: 1 });
const HITS = `SELECT COALESCE(json_agg(json_build_object('package', json_build_object('name', h.name, 'version', h.version),
                                                    'buildId', h.build_id, 'file', h.file)
                                   ORDER BY h.name, h.version, h.path), '[]') AS hits`;
const variants: Record<string, string> = {
  current: `${HITS}
            FROM (SELECT n.package_name AS name, n.package_version AS version, n.build_id, n.path, f.file
                    FROM package_needs n
                    CROSS JOIN LATERAL (SELECT 1 FROM packages p WHERE p.name = n.package_name
                                           AND p.version = n.package_version AND p.build_id = n.build_id OFFSET 0) p
                    CROSS JOIN LATERAL (SELECT ${FILE_JSON} AS file FROM package_files f
                                         WHERE f.build_id = n.build_id AND f.path = n.path OFFSET 0) f
                   WHERE n.soname = $1
                   ORDER BY n.package_name, n.package_version, n.path
                   LIMIT $2) h`,
  byBuild: `${HITS}
            FROM (SELECT n.package_name AS name, n.package_version AS version, n.build_id, n.path, f.file
                    FROM package_needs n
                    CROSS JOIN LATERAL (SELECT 1 FROM packages p WHERE p.build_id = n.build_id
                                           AND p.name = n.package_name AND p.version = n.package_version OFFSET 0) p
                    CROSS JOIN LATERAL (SELECT ${FILE_JSON} AS file FROM package_files f
                                         WHERE f.build_id = n.build_id AND f.path = n.path OFFSET 0) f
                   WHERE n.soname = $1
                   ORDER BY n.package_name, n.package_version, n.path
                   LIMIT $2) h`,
  exists: `${HITS}
            FROM (SELECT n.package_name AS name, n.package_version AS version, n.build_id, n.path,
                         (SELECT ${FILE_JSON} FROM package_files f WHERE f.build_id = n.build_id AND f.path = n.path) AS file
                    FROM package_needs n
                   WHERE n.soname = $1
                     AND EXISTS (SELECT 1 FROM packages p WHERE p.build_id = n.build_id AND p.name = n.package_name AND p.version = n.package_version)
                   ORDER BY n.package_name, n.package_version, n.path
                   LIMIT $2) h`,
};
const value = process.argv[3]!;
for (let round = 0; round < 3; round++)
  for (const [name, sql] of Object.entries(variants)) {
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = performance.now();
      await db.query(sql, [value, 200]);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(name.padEnd(10), 'p50', times[20]!.toFixed(2), 'p95', times[38]!.toFixed(2));
  }
if (process.argv[4]) {
  const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${variants[process.argv[4]]!}`, [value, 200]);
  for (const r of plan.rows) console.log(r['QUERY PLAN']);
}
await db.end();
