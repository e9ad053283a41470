#!/usr/bin/env node
// The `kiln` command. Sources are TypeScript; `npm install` builds them (the `prepare` script).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('kiln: not built yet: run `npm install` (or `npm run build`) in the Kiln checkout\n');
  process.exit(2);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv);
