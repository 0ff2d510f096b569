#!/usr/bin/env node
// Thin launcher. It runs the bundled relay (.output/relay/<build>/, made by scripts/build-relay.mjs
// at install, `npm start`, `npm test` and `npm run bench`) while every source file it holds is as it
// was built (bin/fresh-bundle.js); otherwise the TypeScript sources through tsx, so `npx mailkeep`
// runs an edit at once with no build step. MAILKEEP_NO_BUNDLE=1 forces the sources. `mailkeep relay`
// runs the one-file build (it runs for weeks), every other command the split one (it loads less).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshBundle } from './fresh-bundle.js';

// Before better-sqlite3 loads anywhere: the archive index is opened and attached read-only by URI
// (`file:...?mode=ro`, relay/archive/open-index-readonly.ts, relay/search/search-db.ts), which
// SQLite honours only when URI filenames are on as the addon loads.
process.env.SQLITE_USE_URI ??= '1';
const bundle = process.env.MAILKEEP_NO_BUNDLE === '1' ? null : freshBundle(path.resolve(import.meta.dirname, '..'), process.argv[2] === 'relay' ? 'relay' : 'cli');
let main;
if (bundle) ({ main } = await import(pathToFileURL(bundle).href));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../relay/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
