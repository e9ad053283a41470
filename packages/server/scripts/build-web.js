// Builds the web page's assets into dist/public: the browser script (TypeScript from src/web/client and the
// views it shares with the server, bundled with ansi_up), the style sheet and the icon. Run by `npm run build`.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const path = (relative) => fileURLToPath(new URL(relative, root));
const out = path('dist/public/');

await mkdir(out, { recursive: true });
const common = { bundle: true, minify: true, logLevel: 'warning', legalComments: 'none' };
await build({
  ...common,
  entryPoints: [path('src/web/client/main.ts')],
  outfile: `${out}app.js`,
  format: 'esm',
  target: ['chrome111', 'firefox115', 'safari16.4'],
  sourcemap: true,
});
await build({ ...common, entryPoints: [path('src/web/client/style.css')], outfile: `${out}style.css` });
await copyFile(path('src/web/client/icon.svg'), `${out}icon.svg`);
