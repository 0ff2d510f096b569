#!/usr/bin/env node
// `npm start`: build the extension, then run the relay in the foreground (Ctrl-C stops it).
// Extra arguments go to `mailkeep relay`, e.g. `npm start -- --port 7412 --data-dir ~/.mailkeep`.
import { spawnSync, spawn } from 'node:child_process';
import path from 'node:path';

for (const step of [['npx', ['wxt', 'build']], [process.execPath, ['scripts/build-relay.mjs']]]) {
  const built = spawnSync(step[0], step[1], { stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const ext = path.resolve('.output/chrome-mv3');
console.log(`
Mailkeep extension built: ${ext}
Load it in Chrome or Chromium: chrome://extensions -> Developer mode -> Load unpacked -> that folder.
Starting the relay (it prints a pairing code to type into the extension's options page)...
`);
const relay = spawn(process.execPath, ['bin/mailkeep.js', 'relay', ...process.argv.slice(2)], { stdio: 'inherit' });
// Ctrl-C reaches the relay by itself (same process group); forwarding it would signal it twice.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => relay.kill('SIGTERM'));
relay.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
