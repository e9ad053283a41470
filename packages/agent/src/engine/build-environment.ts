import type { EnvVar, Manifest } from '@kiln/shared';

/** Names whose values are masked in logs. */
export const SECRET_NAME = /TOKEN|SECRET|PASSW|PASS|KEY|CREDENTIAL|AUTH/i;
const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/**
 * Never inherited: they describe the agent's own process and machine, or hold
 * Kiln's and Docker's own credentials.
 */
const NOT_INHERITED =
  /^(PATH|HOME|PWD|OLDPWD|SHLVL|HOSTNAME|SHELL|USER|LOGNAME|TERM|TMPDIR|_|DESTDIR|LD_.*|KILN_.*|DOCKER_.*|npm_.*|NODE_.*|INIT_CWD|SSH_.*|XDG_.*)$/;

export interface BuildEnvironment {
  /** Exported in every stage, inherited first so the manifest wins. */
  vars: EnvVar[];
  /** Values to mask. */
  secrets: string[];
  /** Things a person should know (shown in the build's log). */
  notes: string[];
}

export function resolveEnvironment(
  manifest: Manifest,
  hostEnv: Record<string, string | undefined> | undefined,
  allowInherit: boolean,
): BuildEnvironment {
  const notes: string[] = [];
  const byName = new Map<string, string>();
  const secrets: string[] = [];
  if (manifest.environment.inherit) {
    if (!allowInherit) {
      notes.push(
        'environment.inherit is ignored: this Kiln does not pass its environment to builds (KILN_ALLOW_INHERIT_ENV)',
      );
    } else {
      for (const [name, value] of Object.entries(hostEnv ?? {})) {
        if (value === undefined || !VALID_NAME.test(name) || NOT_INHERITED.test(name)) continue;
        byName.set(name, value);
      }
    }
  }
  for (const { name, value } of manifest.environment.vars) byName.set(name, value);
  for (const [name, value] of byName) if (SECRET_NAME.test(name) && value) secrets.push(value);
  return { vars: [...byName].map(([name, value]) => ({ name, value })), secrets, notes };
}

/** The manifest as it may be stored and shown: values of secret-named variables replaced by the mask. */
export function withSecretsMasked(manifest: Manifest): Manifest {
  if (!manifest.environment.vars.some((v) => SECRET_NAME.test(v.name))) return manifest;
  const vars = manifest.environment.vars.map((v) => (SECRET_NAME.test(v.name) ? { ...v, value: '***' } : v));
  return { ...manifest, environment: { ...manifest.environment, vars } };
}
