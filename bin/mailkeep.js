#!/usr/bin/env node
// Thin launcher. It runs the bundled relay (.output/relay/<build>/, made by scripts/build-relay.mjs
// at install, `npm start`, `npm test` and `npm run bench`) while every source file it holds is as it
// was built (bin/fresh-bundle.js); otherwise the TypeScript sources through tsx, so `npx mailkeep`
// runs an edit at once with no build step. MAILKEEP_NO_BUNDLE=1 forces the sources. `mailkeep relay`
// runs the one-file build (it runs for weeks), `search` and `show` their own small builds
// (relay/cli/search-main.ts, show-main.ts: a search loads two files), every other command the
// split build.
// SQLite's URI filenames are turned on where better-sqlite3 is loaded: relay/archive/sqlite.ts.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshBundle } from './fresh-bundle.js';

const command = process.argv[2];
const kind = command === 'relay' || command === 'search' || command === 'show' ? command : 'cli';
const bundle = process.env.MAILKEEP_NO_BUNDLE === '1' ? null : freshBundle(path.resolve(import.meta.dirname, '..'), kind);
let main;
if (bundle) ({ main } = await import(pathToFileURL(bundle).href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../relay/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
