import type { ArtifactFormat } from '../artifact-format.js';
import type { Queryable } from '../db/queryable.js';
import type { BuildAnalysis } from '../intel/analysis.js';
import type {
  Attestation,
  FileKind,
  InstalledFile,
  PhaseName,
  PhaseTiming,
  PolicyFlag,
  ReproducibilityCheck,
} from '../report.js';
import { SUMMARY_COLUMNS, isoTime, toSummary, type BuildSummary, type SummaryRow } from './build-summary.js';

export interface CommandDetails {
  position: number;
  command: string;
  exitCode: number | null;
  startedAt: string | null;
  durationMs: number | null;
}

export interface StageDetails {
  position: number;
  name: string;
  image: string | null;
  status: string;
  exitCode: number | null;
  startedAt: string | null;
  durationMs: number | null;
  error: string | null;
  commands: CommandDetails[];
}

/** One build with its stages, commands and timings; its files as totals. */
export interface BuildRecord extends BuildSummary {
  failedStage: string | null;
  failedCommand: string | null;
  exitCode: number | null;
  heartbeatAt: string | null;
  /** What the content policy flagged in the payload. */
  flags: PolicyFlag[];
  /** Provides, unresolved needs, policy findings, what changed (report `analysis`). */
  analysis: BuildAnalysis | null;
  /** The reproducibility check's verdict without diffoscope's text; null when the build was not checked. */
  reproducibility: ReproducibilityVerdict | null;
  /** The SBOM and provenance recorded for it (their bodies stay in `build_attestations`). */
  attestations: Array<Pick<Attestation, 'kind' | 'sha256' | 'signedBy'>>;
  stages: StageDetails[];
  files: { count: number; sizeBytes: number };
  /** Whether `packages` points at this build (it is its version's current build). */
  current: boolean;
  /** The current build's artifact, as `packages` records it; null when not current. */
  artifact: { path: string | null; sha256: string | null; format: ArtifactFormat | null } | null;
  /** Where the current attempt's time went (build_phases). */
  timings: PhaseTiming[];
}

/** A build as `kiln status <id>` shows it: with the list of files it installed. */
export interface BuildDetails extends BuildRecord {
  files: { count: number; sizeBytes: number; list: InstalledFile[] };
}

export type ReproducibilityVerdict = Pick<ReproducibilityCheck, 'status' | 'differing' | 'error'>;

interface DetailsRow extends SummaryRow {
  failed_stage: string | null;
  failed_command: string | null;
  exit_code: number | null;
  heartbeat_at: string | null;
  policy_flags: PolicyFlag[] | null;
  analysis: BuildAnalysis | null;
  reproducibility: ReproducibilityVerdict | null;
  attestations: Array<{ kind: Attestation['kind']; sha256: string; signedBy: string | null }> | null;
  stages: Array<Omit<StageDetails, 'commands'> & { commands: CommandDetails[] | null }> | null;
  file_count: number;
  file_bytes: number;
  current: boolean;
  artifact: string | null;
  payload_sha256: string | null;
  artifact_format: ArtifactFormat | null;
  timings: Array<{ phase: PhaseName; stage: string | null; startMs: number; durationMs: number }> | null;
}

// One statement, so one round trip: the stages with their commands and the phases come as JSON,
// the current attempt's only (an earlier attempt's rows stay as it left them).
const DETAILS_SQL = `
SELECT ${SUMMARY_COLUMNS}, b.failed_stage, b.failed_command, b.exit_code,
  ${isoTime('b.heartbeat_at')} AS heartbeat_at, b.policy_flags, b.report->'analysis' AS analysis,
  -- Without diffoscope's text, which can be long: GET /api/v1/builds/{id}/reproducibility has it.
  b.reproducibility_report - 'differences' - 'variations' AS reproducibility,
  (SELECT json_agg(json_build_object('kind', a.kind, 'sha256', a.sha256, 'signedBy', a.signed_by) ORDER BY a.kind)
     FROM build_attestations a WHERE a.build_id = b.id) AS attestations,
  (SELECT json_agg(json_build_object(
            'position', s.position, 'name', s.name, 'image', s.image, 'status', s.status, 'exitCode', s.exit_code,
            'startedAt', ${isoTime('s.started_at')}, 'durationMs', s.duration_ms, 'error', s.error,
            'commands', (SELECT json_agg(json_build_object(
                                  'position', c.position, 'command', c.command, 'exitCode', c.exit_code,
                                  'startedAt', ${isoTime('c.started_at')}, 'durationMs', c.duration_ms) ORDER BY c.position)
                           FROM build_commands c
                          WHERE c.build_id = s.build_id AND c.attempt = s.attempt AND c.stage_position = s.position))
          ORDER BY s.position)
     FROM build_stages s WHERE s.build_id = b.id AND s.attempt = GREATEST(b.attempt, 1)) AS stages,
  f.file_count, f.file_bytes,
  p.build_id IS NOT NULL AS current, p.artifact, p.payload_sha256, p.artifact_format,
  (SELECT json_agg(json_build_object(
            'phase', ph.phase, 'stage', ph.stage, 'durationMs', ph.duration_ms,
            'startMs', round(extract(epoch FROM ph.started_at - ph.first) * 1000)) ORDER BY ph.started_at, ph.position)
     FROM (SELECT *, min(started_at) OVER () AS first FROM build_phases
            WHERE build_id = b.id AND attempt = b.attempt) ph) AS timings
FROM builds b
LEFT JOIN packages p ON p.build_id = b.id
CROSS JOIN LATERAL (SELECT count(*)::int AS file_count, COALESCE(sum(size), 0)::float8 AS file_bytes
                      FROM package_files WHERE build_id = b.id) f
WHERE b.id = $1`;

/** One build with stages, commands, timings and file totals; null when there is none. */
export async function readBuild(db: Queryable, id: string): Promise<BuildRecord | null> {
  const { rows } = await db.query<DetailsRow>({ name: 'kiln-build-details', text: DETAILS_SQL, values: [id] });
  const row = rows[0];
  if (!row) return null;
  return {
    ...toSummary(row),
    failedStage: row.failed_stage,
    failedCommand: row.failed_command,
    exitCode: row.exit_code,
    heartbeatAt: row.heartbeat_at,
    flags: row.policy_flags ?? [],
    analysis: row.analysis ?? null,
    reproducibility: row.reproducibility
      ? {
          status: row.reproducibility.status,
          differing: row.reproducibility.differing ?? [],
          ...(row.reproducibility.error ? { error: row.reproducibility.error } : {}),
        }
      : null,
    attestations: (row.attestations ?? []).map((a) => ({
      kind: a.kind,
      sha256: a.sha256,
      ...(a.signedBy ? { signedBy: a.signedBy } : {}),
    })),
    stages: (row.stages ?? []).map((s) => ({ ...s, commands: s.commands ?? [] })),
    files: { count: row.file_count, sizeBytes: row.file_bytes },
    current: row.current,
    artifact: row.current ? { path: row.artifact, sha256: row.payload_sha256, format: row.artifact_format } : null,
    timings: (row.timings ?? []).map((t) => ({
      phase: t.phase,
      ...(t.stage === null ? {} : { stage: t.stage }),
      startMs: t.startMs,
      durationMs: t.durationMs,
    })),
  };
}

/** One build as `readBuild` reads it, with the list of files it installed (path order). */
export async function getBuild(db: Queryable, id: string): Promise<BuildDetails | null> {
  const [build, list] = await Promise.all([readBuild(db, id), readInstalledFiles(db, id)]);
  return build ? { ...build, files: { ...build.files, list } } : null;
}

export async function readInstalledFiles(db: Queryable, id: string): Promise<InstalledFile[]> {
  const { rows } = await db.query<{
    path: string;
    size: number;
    mode: string;
    sha256: string | null;
    kind: FileKind;
    linkage: 'static' | 'dynamic' | null;
    needed: string[] | null;
    target: string | null;
  }>(
    'SELECT path, size::float8 AS size, mode, sha256, kind, linkage, needed, target FROM package_files WHERE build_id = $1 ORDER BY path',
    [id],
  );
  return rows.map((f) => ({
    path: f.path,
    size: f.size,
    mode: f.mode,
    kind: f.kind,
    ...(f.sha256 ? { sha256: f.sha256 } : {}),
    ...(f.linkage ? { linkage: f.linkage } : {}),
    ...(f.needed ? { needed: f.needed } : {}),
    ...(f.target ? { target: f.target } : {}),
  }));
}
