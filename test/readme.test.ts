import { readFile } from 'node:fs/promises';
import { ConfigSchema } from '@kiln/shared';

// README's configuration table is the operator's reference: it must name every
// variable Kiln reads, and nothing Kiln does not read.
describe('README', () => {
  test('documents every KILN_* variable, and only those', async () => {
    const readme = await readFile('README.md', 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `(KILN_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    const read = Object.keys(ConfigSchema.shape);
    expect(read.filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => v !== undefined && !read.includes(v))).toEqual([]);
  });
});
