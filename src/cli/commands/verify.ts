import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig, toError } from '@kiln/shared';
import { loadSigner, provenanceFileOf, verifyArtifact } from '@kiln/agent';
import { EXIT, type Io } from '../output.js';

interface VerifyOptions {
  provenance?: string;
  key?: string;
  repo?: string;
  commit?: string;
  json?: boolean;
}

export function registerVerify(program: Command, io: Io, done: (code: number) => void): void {
  program
    .command('verify <artifact>')
    .description("check an artifact against its signed provenance: the farm's signature, its sha256, its origin")
    .option('--provenance <file>', 'the provenance (default: <artifact without .tar.*>.intoto.jsonl beside it)')
    .option('--key <file>', "the farm's public key (default: KILN_REPO_KEY, else KILN_SIGNING_KEY's public half)")
    .option('--repo <url>', 'the repository the artifact must come from')
    .option('--commit <sha>', 'the commit it must be built from (at least 7 hex digits)')
    .option('--json', 'print the verdict as JSON')
    .addHelpText(
      'after',
      `
Exit status: 0 everything holds; 1 something does not (the reason is printed); 2 usage.

Examples:
  $ kiln verify zlib-1.3.1-<build>.tar.gz --key /etc/kiln/repo-key.asc
  $ kiln verify ./zlib.tar.gz --provenance zlib.intoto.jsonl --repo /srv/git/zlib.git --commit 3f2a9c1
`,
    )
    .action(async (artifact: string, opts: VerifyOptions) => {
      done(await verify(artifact, opts, io));
    });
}

async function verify(artifact: string, opts: VerifyOptions, io: Io): Promise<number> {
  const config = loadConfig(io.env);
  if (opts.commit !== undefined && !/^[0-9a-fA-F]{7,64}$/.test(opts.commit)) {
    io.err('kiln: --commit: give a commit id (7 to 64 hex digits)\n');
    return EXIT.usage;
  }
  let trustedKey: string;
  try {
    const keyFile = opts.key ?? config.KILN_REPO_KEY;
    if (keyFile) trustedKey = await readFile(keyFile, 'utf8');
    else if (config.KILN_SIGNING_KEY) trustedKey = (await loadSigner(config.KILN_SIGNING_KEY)).publicKey;
    else {
      io.err('kiln: no key to trust: give --key <file>, or set KILN_REPO_KEY (or KILN_SIGNING_KEY)\n');
      return EXIT.usage;
    }
  } catch (err) {
    io.err(`kiln: cannot read the trusted key: ${toError(err).message}\n`);
    return EXIT.usage;
  }
  const provenanceFile = opts.provenance ?? provenanceFileOf(artifact);
  let provenance: string;
  try {
    provenance = await readFile(provenanceFile, 'utf8');
  } catch (err) {
    const reason = `cannot read the provenance ${provenanceFile}: ${toError(err).message}`;
    if (opts.json) io.out(`${JSON.stringify({ ok: false, reason })}\n`);
    io.err(`kiln: ${reason}\n`);
    return EXIT.failed;
  }
  const verdict = await verifyArtifact({
    artifact,
    provenance,
    trustedKey,
    ...(opts.repo !== undefined ? { repo: opts.repo } : {}),
    ...(opts.commit !== undefined ? { commit: opts.commit } : {}),
  });
  if (opts.json) io.out(`${JSON.stringify(verdict)}\n`);
  if (!verdict.ok) {
    io.err(`kiln: ${artifact} does not verify: ${verdict.reason}\n`);
    return EXIT.failed;
  }
  if (!opts.json) {
    io.out(
      `${artifact}: verified\n  sha256 ${verdict.sha256}\n  from ${verdict.repository}` +
        `${verdict.commit ? ` at ${verdict.commit}` : ''}\n  built by ${verdict.builder}, signed by ${verdict.signedBy}\n`,
    );
  }
  return EXIT.ok;
}
