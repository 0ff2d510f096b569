#!/usr/bin/env node
// Bundles the relay and CLI (relay/cli/main.ts) with esbuild, so `mailkeep` starts without the
// TypeScript loader (tsx costs about 0.5 s of every run: see ../shared/notes/integration-recipes.md
// §5 and docs/cli.md). Four builds of the same sources into one folder per build,
// .output/relay/<build>/:
//   - mailkeep.mjs + chunk-*.mjs, split at the CLI's lazy imports: `mailkeep --help` or `backup`
//     loads only what it runs (no relay server, restore, migrate or export code);
//   - search.mjs and show.mjs, each a build of its own (relay/cli/search-main.ts, show-main.ts):
//     `mailkeep search` loads two files (a one-shot search is measured against Node with SQLite:
//     scripts/bench-search.mjs), its MIME parser a third when there is something to index. Built
//     together, the two would share chunks, and a search would load three;
//   - relay.mjs, one file for `mailkeep relay`: a process that runs for weeks must not load a chunk
//     later from a folder a rebuild may have replaced.
// bin/mailkeep.js runs them only while stamp.json says every source file is exactly as built (see
// bin/fresh-bundle.js), so an edited checkout never runs stale code; search.mjs and show.mjs are
// checked against their own sources only. better-sqlite3 stays external: its native addon is found
// relative to its package.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const outRoot = path.join(root, '.output', 'relay');
fs.mkdirSync(outRoot, { recursive: true });
const started = Date.now();
const id = `b-${started.toString(36)}-${process.pid}`;
const dir = path.join(outRoot, id);
const common = {
  entryPoints: { mailkeep: path.join(root, 'relay/cli/main.ts') },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3'],
  // CommonJS dependencies (ws, imapflow's) require() Node built-ins, which an ES module bundle
  // can only do through a require of its own.
  banner: { js: "import { createRequire as __mkRequire } from 'node:module'; const require = __mkRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
};
const ONE_COMMAND = ['search', 'show']; // relay/cli/<name>-main.ts -> <name>.mjs (+ <name>-chunk-*.mjs)
const [split, , ...own] = await Promise.all([
  build({ ...common, splitting: true, outdir: dir, chunkNames: 'chunk-[hash]', outExtension: { '.js': '.mjs' } }),
  build({ ...common, entryPoints: [path.join(root, 'relay/cli/main.ts')], outfile: path.join(dir, 'relay.mjs') }),
  ...ONE_COMMAND.map((name) =>
    build({ ...common, entryPoints: { [name]: path.join(root, `relay/cli/${name}-main.ts`) }, splitting: true, outdir: dir, chunkNames: `${name}-chunk-[hash]`, outExtension: { '.js': '.mjs' } }),
  ),
]);
// Our own sources and the lock file, each with its size and mtime as read: the stamp. Relative,
// with "/" (bin/fresh-bundle.js joins them to the root by hand).
const ownSources = (result) =>
  Object.keys(result.metafile.inputs)
    .filter((f) => !f.includes('node_modules/'))
    .map((f) => path.relative(root, path.resolve(process.cwd(), f)).split(path.sep).join('/'));
const inputs = [...new Set([split, ...own].flatMap(ownSources))];
inputs.push('package-lock.json');
// The files each one-command build was made from, as indices into `files`.
const subsets = Object.fromEntries(
  ONE_COMMAND.map((name, i) => {
    const mine = new Set([...ownSources(own[i]), 'package-lock.json']);
    return [name, inputs.flatMap((f, j) => (mine.has(f) ? [j] : []))];
  }),
);
const files = inputs.map((f) => {
  const st = fs.statSync(path.join(root, f));
  return [f, st.size, st.mtimeMs];
});
const stampFile = path.join(outRoot, 'stamp.json');
// A source saved while esbuild read it may be in the bundle as it was before: no stamp for that
// build (the sources run until the next build).
const edited = files.filter(([, , mtime]) => mtime >= started).map(([f]) => f);
if (edited.length) {
  fs.rmSync(stampFile, { force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  // Not an error: without a stamp the launcher runs the sources, which is always right.
  console.log(`relay bundle not stamped: ${edited.join(', ')} changed during the build, so the sources run until the next build`);
  process.exit(0);
}
const tmp = `${stampFile}.${process.pid}.tmp`;
fs.writeFileSync(tmp, JSON.stringify({ v: 3, build: id, files, ...subsets }));
fs.renameSync(tmp, stampFile);
// The builds before: the previous one stays (a CLI started from it a moment ago may still load a
// chunk), older ones go, as does the single-file bundle of earlier versions.
const builds = fs
  .readdirSync(outRoot)
  .filter((d) => d.startsWith('b-') && d !== id)
  .map((d) => ({ d, t: fs.statSync(path.join(outRoot, d)).mtimeMs }))
  .sort((a, b) => b.t - a.t);
for (const { d } of builds.slice(1)) fs.rmSync(path.join(outRoot, d), { recursive: true, force: true });
for (const old of ['mailkeep.mjs', 'inputs.json']) fs.rmSync(path.join(outRoot, old), { force: true });
console.log(`relay bundle: ${path.relative(root, dir)} (${inputs.length - 1} source files; ${ONE_COMMAND.map((n) => `${n}.mjs ${subsets[n].length - 1}`).join(', ')})`);
