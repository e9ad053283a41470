import { ElfBytes } from './elf-bytes.js';

const NT_GNU_BUILD_ID = 3;
const MAX_BUILD_ID = 64;

/**
 * The GNU build-id (hex) in a PT_NOTE segment's bytes, if there is one.
 * Notes are {namesz, descsz, type, name, desc}, name and desc padded to the
 * segment's alignment (4, or 8 for some GNU property notes).
 */
export function gnuBuildId(bytes: Buffer, little: boolean, align: number): string | undefined {
  const pad = align === 8 ? 8 : 4;
  const up = (n: number) => Math.ceil(n / pad) * pad;
  const r = new ElfBytes(bytes, little);
  let at = 0;
  while (at + 12 <= bytes.length) {
    const namesz = r.u32(at);
    const descsz = r.u32(at + 4);
    const type = r.u32(at + 8);
    const name = at + 12;
    const desc = name + up(namesz);
    if (namesz > bytes.length || descsz > bytes.length || desc + descsz > bytes.length) return undefined;
    if (type === NT_GNU_BUILD_ID && namesz === 4 && bytes.toString('latin1', name, name + 3) === 'GNU') {
      return descsz > 0 && descsz <= MAX_BUILD_ID ? bytes.toString('hex', desc, desc + descsz) : undefined;
    }
    at = desc + up(descsz);
  }
  return undefined;
}
