#!/usr/bin/env node
// `npm start`: build the extension and the relay, then `mailkeep install`: the relay runs as a user
// service (started at login, kept running, independent of this terminal and of the browser) and
// the browser's native-messaging host is registered, so the extension finds it with no code.
// `npm start -- --foreground [relay options]` runs the relay in this terminal instead (development).
// Other arguments go to `mailkeep install`, e.g. `npm start -- --port 7412 --data-dir ~/.mailkeep`.
import { spawnSync, spawn } from 'node:child_process';
import path from 'node:path';

const args = process.argv.slice(2);
const foreground = args.includes('--foreground');
const rest = args.filter((a) => a !== '--foreground');

for (const step of [['npx', ['wxt', 'build']], [process.execPath, ['scripts/build-relay.mjs']]]) {
  const built = spawnSync(step[0], step[1], { stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const ext = path.resolve('.output/chrome-mv3');
if (foreground) {
  console.log(`\nMailkeep extension built: ${ext}\nStarting the relay in this terminal (Ctrl-C stops it; it prints a pairing code)...\n`);
  const relay = spawn(process.execPath, ['bin/mailkeep.js', 'relay', ...rest], { stdio: 'inherit' });
  // Ctrl-C reaches the relay by itself (same process group); forwarding it would signal it twice.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => relay.kill('SIGTERM'));
  relay.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
} else {
  const installed = spawnSync(process.execPath, ['bin/mailkeep.js', 'install', ...rest], { stdio: 'inherit' });
  if (installed.status !== 0) process.exit(installed.status ?? 1);
  console.log(`
Mailkeep is installed and its relay is running in the background (it starts again at login).
Next, in Chrome, Chromium, Brave or Edge:
  1. chrome://extensions -> Developer mode -> Load unpacked -> ${ext}
  2. the extension's options page says "Connected" by itself: add your mailbox there.
Backups then run on their schedule, with the browser open or closed. "npx mailkeep status" shows them;
"npx mailkeep stop" stops the relay for now; "npx mailkeep uninstall" removes the service and the
browser registration (your archive stays).
`);
}
