#!/usr/bin/env node
// Bundles the relay and CLI (relay/cli/main.ts) into one ES module with esbuild, so `mailkeep`
// starts without the TypeScript loader (tsx costs about 0.5 s of every run: see
// ../shared/notes/integration-recipes.md §5 and docs/cli.md). bin/mailkeep.js runs the bundle only
// while it is newer than every source file it was built from, so an edited checkout never runs
// stale code. better-sqlite3 stays external: its native addon is found relative to its package.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outDir = path.join(root, '.output', 'relay');
fs.mkdirSync(outDir, { recursive: true });
const outfile = path.join(outDir, 'mailkeep.mjs');
const tmp = `${outfile}.tmp`;
const result = await build({
  entryPoints: [path.join(root, 'relay/cli/main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: tmp,
  external: ['better-sqlite3'],
  // CommonJS dependencies (ws, imapflow's) require() Node built-ins, which an ES module bundle
  // can only do through a require of its own.
  banner: { js: "import { createRequire as __mkRequire } from 'node:module'; const require = __mkRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
// Our own sources and the lock file: a change to any of them makes the bundle stale.
const inputs = Object.keys(result.metafile.inputs)
  .filter((f) => !f.includes('node_modules/'))
  .map((f) => path.relative(root, path.resolve(process.cwd(), f)));
inputs.push('package-lock.json');
fs.writeFileSync(path.join(outDir, 'inputs.json'), JSON.stringify(inputs));
fs.renameSync(tmp, outfile);
console.log(`relay bundle: ${path.relative(root, outfile)} (${inputs.length - 1} source files)`);
