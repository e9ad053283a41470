import { z } from 'zod';
import { ArtifactFormatSchema, InstalledFileSchema } from './common.js';

export const PackageSummarySchema = z.object({
  name: z.string(),
  latest: z.string(),
  versions: z.number().int(),
  updatedAt: z.string(),
});

export const PackageListSchema = z
  .object({ packages: z.array(PackageSummarySchema), next: z.string().nullable() })
  .meta({ id: 'PackageList' });

export const PackageVersionSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    arch: z.string(),
    buildId: z.guid(),
    installedSize: z.number(),
    fileCount: z.number().int(),
    sha256: z.string().nullable(),
    artifactUrl: z.string().nullable(),
    artifactFormat: ArtifactFormatSchema.nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'PackageVersion' });
export type PackageVersionOut = z.output<typeof PackageVersionSchema>;

export const PackageSchema = z
  .object({ name: z.string(), versions: z.array(PackageVersionSchema) })
  .meta({ id: 'Package' });

export const PackageDetailsSchema = PackageVersionSchema.extend({
  provides: z.array(z.string()),
  needs: z.array(z.string()),
  files: z.array(InstalledFileSchema),
}).meta({ id: 'PackageDetails' });
export type PackageDetailsOut = z.output<typeof PackageDetailsSchema>;

export const SearchHitSchema = z.object({
  package: z.object({ name: z.string(), version: z.string(), arch: z.string() }),
  buildId: z.guid(),
  file: InstalledFileSchema,
});

export const SearchResultSchema = z
  .object({
    by: z.enum(['path', 'soname', 'needs', 'sha256', 'embeds']),
    query: z.string(),
    hits: z.array(SearchHitSchema),
  })
  .meta({ id: 'SearchResult' });
export type SearchHitOut = z.output<typeof SearchHitSchema>;
