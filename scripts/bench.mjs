#!/usr/bin/env node
// `npm run bench`: every benchmark, each printing its figures and a ratio against a peer measured in
// the same run. Benchmarks never pass or fail on time; they exit non-zero only if they could not run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const benches = ['scripts/bench-nochange.mjs', 'scripts/bench-backup.mjs', 'scripts/bench-restore.mjs', 'scripts/bench-migrate.mjs', 'scripts/bench-popup.mjs', 'scripts/bench-search.mjs'].filter((f) => existsSync(f));
// Measure what a user runs: the relay bundle (bin/mailkeep.js uses it while it is fresh).
if (spawnSync(process.execPath, ['scripts/build-relay.mjs'], { stdio: 'inherit' }).status !== 0) process.exit(1);
let worst = 0;
for (const b of benches) {
  console.log(`\n=== ${b} ===`);
  const r = spawnSync(process.execPath, [b, ...process.argv.slice(2)], { stdio: 'inherit' });
  worst = Math.max(worst, r.status ?? 1);
}
process.exit(worst);
