import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { DebianArchSchema } from '../arch/debian-arch.js';
import { POLICY_SCHEMA, toPolicy } from './policy.js';
import { ManifestError, type ManifestIssue } from './manifest-error.js';
import { MANIFEST_LIMITS as LIMITS, type EnvVar, type Manifest, type ManifestSection } from './types.js';

const RESERVED = new Set([
  'image',
  'package',
  'environment',
  'stages',
  'prepare',
  'install',
  'cache',
  'policy',
  'verify',
  'arch',
]);
/**
 * Kiln's `package` and `install` keys are also plausible stage names in
 * `.buildr.yml` files (the reference sample has a `package` stage). Listed in
 * `stages`, they are ordinary stages, as the earlier tool ran them.
 */
const STAGE_OR_KEY = new Set(['package', 'install']);
const STAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
// Docker's reference grammar: [registry[:port]/]path[:tag][@sha256:digest]; never starts with "-".
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_REF = new RegExp(
  `^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*` +
    '(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(?:@sha256:[a-f0-9]{64})?$',
);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const scriptLine = z
  .string({ message: 'must be a string (quote lines that YAML would read as something else)' })
  .min(1, 'must not be empty')
  .max(LIMITS.lineLength, `is longer than ${LIMITS.lineLength} characters`);
const timeout = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 90s, 20m or 1h' });
    return z.NEVER;
  }
  return ms;
});
const section = z.strictObject(
  {
    script: z
      .array(scriptLine, { message: 'must be a list of command lines' })
      .min(1, 'must list at least one command')
      .max(LIMITS.scriptLines, `has more than ${LIMITS.scriptLines} lines`),
    timeout: timeout.optional(),
    network: z.boolean({ message: 'must be true or false' }).optional(),
  },
  { message: 'must be a mapping with a "script" list' },
);
const envVars = z.union(
  [
    z.array(z.string({ message: 'must be a NAME=VALUE string' })),
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)),
  ],
  { message: 'must be a list of NAME=VALUE strings' },
);
const topLevel = z.looseObject({
  image: z
    .string({ message: 'is required: the Docker image every stage starts from (name:tag)' })
    .regex(IMAGE_REF, 'is not a valid image reference (name:tag)'),
  package: z
    .strictObject({
      name: z.string().max(200).optional(),
      version: z.string().max(200).optional(),
      maintainer: z.string().max(320).optional(),
    })
    .optional(),
  environment: z
    .strictObject({ inherit: z.boolean({ message: 'must be true or false' }).optional(), vars: envVars.optional() })
    .optional(),
  stages: z
    .array(z.string().regex(STAGE_NAME, 'must be a stage name of letters, digits, "-" and "_"'), {
      message: 'is required: the ordered list of stage names to run',
    })
    .max(LIMITS.stages, `has more than ${LIMITS.stages} stages`),
  prepare: section.optional(),
  install: section.optional(),
  cache: z
    .array(z.string().regex(/^\/[^\0]*$/, 'must be an absolute path'))
    .max(LIMITS.cachePaths, `has more than ${LIMITS.cachePaths} paths`)
    .optional(),
  policy: POLICY_SCHEMA.optional(),
  verify: z.array(z.enum(['reproducible'], { message: 'the only check is reproducible' })).optional(),
  arch: z
    .array(DebianArchSchema, { message: 'must be a list of Debian architecture names, such as [amd64, arm64]' })
    .min(1, 'must list at least one architecture')
    .optional(),
});

/**
 * Reads a manifest (`.kiln.yml`, or `.buildr.yml` unchanged). Every problem
 * is reported at once, each with the key path and the line it is on.
 */
export function parseManifest(text: string, file = '.kiln.yml'): Manifest {
  if (Buffer.byteLength(text) > LIMITS.bytes) {
    throw new ManifestError(file, [{ path: '', message: `is larger than ${LIMITS.bytes / 1024} KiB` }]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset).line);
  if (doc.errors.length > 0) {
    throw new ManifestError(
      file,
      doc.errors.map((e) => ({ path: '', message: `YAML: ${firstLine(e.message)}`, line: lineAt(e.pos[0]) })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: LIMITS.aliases });
  } catch (err) {
    const message = /alias/i.test((err as Error).message)
      ? `uses YAML aliases too heavily (more than ${LIMITS.aliases} expansions)`
      : `YAML: ${(err as Error).message}`;
    throw new ManifestError(file, [{ path: '', message }]);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ManifestError(file, [{ path: '', message: 'must be a YAML mapping with image and stages', line: 1 }]);
  }
  const locate = locator(doc, lineAt);
  const issues: ManifestIssue[] = [];
  const document = data as Record<string, unknown>;
  const listedNames = new Set(
    Array.isArray(document.stages) ? document.stages.filter((s) => typeof s === 'string') : [],
  );
  const metadata = Object.fromEntries(
    Object.entries(document).filter(([key]) => !(STAGE_OR_KEY.has(key) && listedNames.has(key))),
  );
  const parsed = topLevel.safeParse(metadata, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) issues.push(fromZod(issue, [], locate));
    throw new ManifestError(file, issues);
  }
  const raw = parsed.data;
  const listed = new Set<string>();
  raw.stages.forEach((name, i) => {
    const path = `stages[${i}]`;
    if (name === 'prepare') {
      issues.push({
        path,
        message: 'prepare always runs first by itself; remove it from stages',
        line: locate(['stages', i]),
      });
    } else if (listed.has(name)) {
      issues.push({ path, message: `stage "${name}" is listed twice`, line: locate(['stages', i]) });
    } else if (!(name in document)) {
      issues.push({ path, message: `stage "${name}" is listed but not defined`, line: locate(['stages', i]) });
    }
    listed.add(name);
  });
  for (const key of Object.keys(document)) {
    if (!RESERVED.has(key) && !listed.has(key)) {
      issues.push({
        path: key,
        message: `unknown key "${key}" (not a manifest key, nor a stage listed in stages)`,
        line: locate([key], true),
      });
    }
  }
  const stages: Manifest['stages'] = [];
  for (const name of listed) {
    if (name === 'prepare' || !(name in document)) continue;
    const result =
      RESERVED.has(name) && !STAGE_OR_KEY.has(name) ? null : section.safeParse(document[name], { reportInput: true });
    if (result === null) {
      issues.push({
        path: name,
        message: `"${name}" is a manifest key and cannot name a stage`,
        line: locate([name], true),
      });
    } else if (!result.success) {
      for (const issue of result.error.issues) issues.push(fromZod(issue, [name], locate));
    } else {
      stages.push({ name, ...toSection(result.data) });
    }
  }
  const vars = readVars(raw.environment?.vars, locate, issues);
  if (issues.length > 0) throw new ManifestError(file, issues);
  const install = listed.has('install') || raw.install === undefined ? undefined : toSection(raw.install);
  return {
    file,
    image: raw.image,
    package: withoutUndefined(listed.has('package') ? {} : (raw.package ?? {})),
    environment: { inherit: raw.environment?.inherit ?? false, vars },
    ...(raw.prepare ? { prepare: toSection(raw.prepare) } : {}),
    stages,
    ...(install ? { install } : {}),
    cache: raw.cache ?? [],
    ...(toPolicy(raw.policy) ? { policy: toPolicy(raw.policy) } : {}),
    ...(raw.verify?.length ? { verify: [...new Set(raw.verify)] } : {}),
    ...(raw.arch ? { arch: [...new Set(raw.arch)] } : {}),
  };
}

function readVars(
  vars: string[] | Record<string, string> | undefined,
  locate: Locate,
  issues: ManifestIssue[],
): EnvVar[] {
  if (vars === undefined) return [];
  const pairs: Array<[string, string, (string | number)[]]> = Array.isArray(vars)
    ? vars.map((line, i) => {
        const eq = line.indexOf('=');
        return eq < 0
          ? ['', line, ['environment', 'vars', i]]
          : [line.slice(0, eq), line.slice(eq + 1), ['environment', 'vars', i]];
      })
    : Object.entries(vars).map(([name, value]) => [name, value, ['environment', 'vars', name]]);
  const out: EnvVar[] = [];
  for (const [name, value, at] of pairs) {
    if (!ENV_NAME.test(name)) {
      const shown = name === '' ? `"${value}" is not NAME=VALUE` : `"${name}" is not a valid variable name`;
      issues.push({ path: pathText(at), message: shown, line: locate(at) });
    } else {
      out.push({ name, value });
    }
  }
  return out;
}

type Locate = (path: readonly (string | number)[], keyLine?: boolean) => number | undefined;

/** Maps a path in the data back to the line of its node (or of its key). */
function locator(doc: Document, lineAt: (offset: number | undefined) => number | undefined): Locate {
  return (path, keyLine = false) => {
    for (let depth = path.length; depth > 0; depth--) {
      const prefix = path.slice(0, depth);
      if (keyLine || depth < path.length) {
        const parent = depth === 1 ? doc.contents : doc.getIn(prefix.slice(0, -1), true);
        if (isMap(parent)) {
          const pair = parent.items.find(
            (item) => isPair(item) && isScalar(item.key) && item.key.value === prefix.at(-1),
          );
          const key = pair?.key as Node | undefined;
          if (key?.range) return lineAt(key.range[0]);
        }
      }
      const node = doc.getIn(prefix, true) as Node | undefined;
      if (node?.range) return lineAt(node.range[0]);
    }
    return doc.contents?.range ? lineAt(doc.contents.range[0]) : undefined;
  };
}

function fromZod(issue: z.core.$ZodIssue, base: (string | number)[], locate: Locate): ManifestIssue {
  const at = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return { path: pathText([...at, key]), message: `unknown key "${key}"`, line: locate([...at, key], true) };
  }
  // A missing key is reported on the line of the mapping that should hold it.
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  return { path: pathText(at), message: issue.message, line: locate(missing ? at.slice(0, -1) : at, missing) };
}

function pathText(path: readonly (string | number)[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part),
    '',
  );
}

function toSection(value: z.output<typeof section>): ManifestSection {
  return {
    script: value.script,
    ...(value.timeout === undefined ? {} : { timeoutMs: value.timeout }),
    ...(value.network === undefined ? {} : { network: value.network }),
  };
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}

export type { ManifestSection };
