import { redactRepo, type BuildJob } from '@kiln/shared';
import type { ProvenanceRequest } from './attest.js';

/** An agent build's origin, for its provenance: the repository without credentials, the commit, the manifest. */
export function provenanceOf(
  job: Pick<BuildJob, 'repo'>,
  checkedOut: { commit: string; branch: string | null },
  manifest: { file: string; sha256: string } | undefined,
  agent: string,
): ProvenanceRequest {
  return {
    repository: redactRepo(job.repo),
    commit: checkedOut.commit,
    branch: checkedOut.branch,
    ...(manifest ? { manifest } : {}),
    builder: `kiln-agent:${agent}`,
  };
}
