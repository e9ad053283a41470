import type { Manifest, ManifestSection, StageReport } from '@kiln/shared';
import type { ResourceRole } from '../labels.js';

/** A stage the build will run, in order: the manifest's stages, then install. */
export interface PlannedStage {
  name: string;
  role: ResourceRole;
  section: ManifestSection;
}

export function planStages(manifest: Manifest): PlannedStage[] {
  const plan: PlannedStage[] = manifest.stages.map((s) => ({ name: s.name, role: 'stage', section: s }));
  if (manifest.install) plan.push({ name: 'install', role: 'install', section: manifest.install });
  return plan;
}

/** The report of a stage that never ran because an earlier one ended the build. */
export function skippedStage(name: string): StageReport {
  return { name, status: 'skipped', exitCode: null, durationMs: 0, commands: [] };
}
