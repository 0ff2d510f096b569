#!/usr/bin/env node
// Thin launcher. It runs the bundled relay (.output/relay/mailkeep.mjs, made by
// scripts/build-relay.mjs at install, `npm start`, `npm test` and `npm run bench`) while that bundle
// is newer than every source file it holds; otherwise the TypeScript sources through tsx, so
// `npx mailkeep` runs an edit at once with no build step. MAILKEEP_NO_BUNDLE=1 forces the sources.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshBundle } from './fresh-bundle.js';

const bundle = process.env.MAILKEEP_NO_BUNDLE === '1' ? null : freshBundle(path.resolve(import.meta.dirname, '..'));
let main;
if (bundle) ({ main } = await import(pathToFileURL(bundle).href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../relay/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
