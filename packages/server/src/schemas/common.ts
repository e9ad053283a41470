import { ARTIFACT_FORMATS } from '@kiln/shared';
import { z } from 'zod';

/** Every error the API sends: `{error: {code, message}}`; a 400's message names the parameter. */
export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: 'Error' });

export const errorResponses = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
} as const;

export const ArtifactFormatSchema = z.enum(ARTIFACT_FORMATS).describe('how the artifact is packed');
export const BuildStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'errored', 'cancelled']);
export const BuildIdSchema = z.guid({ message: 'must be a build id (a UUID)' });
export const PackageNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9.+_-]*$/, 'must be a package name (letters, digits, . + _ -)');
export const VersionSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[0-9][A-Za-z0-9.+~_-]*$/, 'must be a version (starting with a digit)');
export const ArchSchema = z
  .string()
  .regex(/^[a-z0-9]{2,16}$/, 'must be a Debian architecture name such as amd64 or arm64');
export const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
export const LimitSchema = (max: number, fallback: number) =>
  z.coerce
    .number({ message: `must be a whole number from 1 to ${max}` })
    .int({ message: `must be a whole number from 1 to ${max}` })
    .min(1, { message: `must be a whole number from 1 to ${max}` })
    .max(max, { message: `must be a whole number from 1 to ${max}` })
    .default(fallback);

export const InstalledFileSchema = z
  .object({
    path: z.string(),
    size: z.number(),
    mode: z.string(),
    sha256: z.string().nullable(),
    kind: z.enum(['executable', 'shared-library', 'static-library', 'config', 'symlink', 'other']),
    linkage: z.enum(['static', 'dynamic']).nullable(),
    needed: z.array(z.string()).nullable(),
    soname: z.string().nullable(),
    target: z.string().nullable(),
    // ELF facts (null where they do not apply, e.g. not an ELF file, or recorded before they were read).
    runpath: z.string().nullable().describe('DT_RUNPATH, else DT_RPATH'),
    pie: z.boolean().nullable().describe('an executable built position-independent'),
    relro: z.enum(['none', 'partial', 'full']).nullable().describe('GNU_RELRO, full with BIND_NOW'),
    bindNow: z.boolean().nullable().describe('BIND_NOW (DF_BIND_NOW or DF_1_NOW)'),
    nxStack: z.boolean().nullable().describe('GNU_STACK without the execute bit'),
    stripped: z.boolean().nullable().describe('no symbol table (.symtab)'),
    setuid: z.boolean(),
    setgid: z.boolean(),
    buildId: z.string().nullable().describe('GNU build-id (hex)'),
    machine: z.string().nullable().describe('the machine an ELF file is for (e_machine: x86-64, aarch64, arm, …)'),
  })
  .meta({ id: 'InstalledFile' });
export type InstalledFileOut = z.output<typeof InstalledFileSchema>;
