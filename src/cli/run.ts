// Runs the CLI from sources (`node --import tsx src/cli/run.ts ...`): for tests and development.
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv);
