import { createHash } from 'node:crypto';
import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import type { InstalledFile } from '@kiln/shared';
import type { ImageFacts } from './image-packages.js';

export const SBOM_MEDIA_TYPE = 'application/vnd.cyclonedx+json';
/** The CycloneDX version Kiln writes. */
export const SBOM_SPEC_VERSION = '1.6';

export interface SbomInput {
  package: { name: string; version: string };
  files: readonly InstalledFile[];
  /** The image the stages ran in (the prepared compiler image, or the manifest's image) and what it holds. */
  compiler: { ref: string; id: string; facts: ImageFacts };
  /** The build's SOURCE_DATE_EPOCH: the document's timestamp, so equal inputs give equal documents. */
  sourceDateEpoch?: number;
  kilnVersion: string;
}

/**
 * The package's CycloneDX SBOM: the package as the main component, every
 * installed file as a `file` component with its sha256, what the ELF files
 * need (DT_NEEDED) as dependencies, resolved to a file of the package or to
 * the compiler image's Debian package that ships that SONAME, and the
 * compiler image with its Debian packages as build-time (`excluded`)
 * components. Lists are sorted and nothing depends on the clock: the same
 * build gives the same bytes.
 */
export function makeSbom(input: SbomInput): string {
  const { name, version } = input.package;
  const files = [...input.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const bom = new Models.Bom();
  bom.serialNumber = `urn:uuid:${stableUuid(JSON.stringify([name, version, input.compiler.id, files]))}`;
  if (input.sourceDateEpoch !== undefined) bom.metadata.timestamp = new Date(input.sourceDateEpoch * 1000);
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, 'kiln', { version: input.kilnVersion }),
  );
  const arch = input.compiler.facts.arch;
  const main = new Models.Component(mainType(files), name, {
    version,
    bomRef: `pkg:${name}@${version}`,
    purl: new PackageURL('generic', null, name, version, arch ? { arch } : undefined, null).toString(),
  });
  bom.metadata.component = main;

  // The compiler image and its Debian packages: present at build time, not shipped.
  const image = new Models.Component(Enums.ComponentType.Container, input.compiler.ref, {
    bomRef: `image:${input.compiler.id}`,
    version: input.compiler.id,
    scope: Enums.ComponentScope.Excluded,
  });
  image.properties.add(new Models.Property('kiln:role', 'compiler-image'));
  const debs = new Map<string, Models.Component>();
  for (const p of input.compiler.facts.packages) {
    const deb = new Models.Component(Enums.ComponentType.Library, p.name, {
      version: p.version,
      bomRef: `deb:${p.name}`,
      purl: new PackageURL('deb', 'debian', p.name, p.version, { arch: p.arch }, null).toString(),
      scope: Enums.ComponentScope.Excluded,
    });
    deb.properties.add(new Models.Property('kiln:role', 'build-time'));
    debs.set(p.name, deb);
    image.components.add(deb);
  }
  bom.components.add(image);

  const bySoname = new Map<string, Models.Component>();
  const fileComponents: Array<[InstalledFile, Models.Component]> = [];
  for (const file of files) {
    const component = new Models.Component(Enums.ComponentType.File, file.path, { bomRef: `file:${file.path}` });
    if (file.sha256) component.hashes.set(Enums.HashAlgorithm['SHA-256'], file.sha256);
    component.properties.add(new Models.Property('kiln:kind', file.kind));
    component.properties.add(new Models.Property('kiln:mode', file.mode));
    component.properties.add(new Models.Property('kiln:size', String(file.size)));
    if (file.target) component.properties.add(new Models.Property('kiln:target', file.target));
    if (file.soname) bySoname.set(file.soname, component);
    bom.components.add(component);
    main.dependencies.add(component.bomRef);
    fileComponents.push([file, component]);
  }
  const external = new Map<string, Models.Component>();
  for (const [file, component] of fileComponents) {
    for (const soname of file.needed ?? []) {
      const inside = bySoname.get(soname);
      if (inside) {
        component.dependencies.add(inside.bomRef);
        continue;
      }
      let library = external.get(soname);
      if (!library) {
        library = new Models.Component(Enums.ComponentType.Library, soname, {
          bomRef: `needs:${soname}`,
          scope: Enums.ComponentScope.Required,
        });
        library.properties.add(new Models.Property('kiln:role', 'needed-library'));
        const provider = debs.get(input.compiler.facts.providers.get(soname) ?? '');
        if (provider) library.dependencies.add(provider.bomRef);
        external.set(soname, library);
        bom.components.add(library);
      }
      component.dependencies.add(library.bomRef);
    }
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}

/** `application` when the package ships programs and no shared library; `library` otherwise. */
function mainType(files: readonly InstalledFile[]): Enums.ComponentType {
  const has = (kind: string) => files.some((f) => f.kind === kind);
  return has('executable') && !has('shared-library') ? Enums.ComponentType.Application : Enums.ComponentType.Library;
}

/** A UUID (version 8, RFC 9562's custom kind) from the SHA-256 of `text`: equal inputs, equal ids. */
function stableUuid(text: string): string {
  const b = createHash('sha256').update(text).digest();
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
