#!/usr/bin/env node
// `npm run demo`: one command that shows a backup happening, for a newcomer with no mail server.
// Starts a throwaway Dovecot account filled with sample mail, the relay on a free port with a
// temporary data dir, and Chromium with the built extension, pairs them through the options page
// and adds the mailbox, as a person would. Ctrl-C stops everything and deletes the temp dirs.
// Needs: Dovecot (/usr/sbin/dovecot, Debian package dovecot-imapd), Chromium
// (/usr/lib/chromium/chromium or CHROMIUM_PATH), openssl. Headed when DISPLAY is set.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { register } from 'tsx/esm/api';

register(); // the Dovecot harness and corpus are TypeScript, shared with the tests
const { dovecotAvailable, startDovecot, freePort } = await import('../test/support/dovecot.ts');
const { generatedMessages } = await import('../test/support/corpus.ts');
const { startSlowProxy } = await import('../test/support/slow-proxy.ts');
const { chromium } = await import('@playwright/test');

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
const MESSAGES = Number(process.env.DEMO_MESSAGES ?? 300);
const USER = { name: 'demo', password: `demo-${Math.random().toString(36).slice(2, 10)}` };
const STEP_TIMEOUT_MS = 120_000;
const say = (line) => console.log(`[demo] ${line}`);

if (!dovecotAvailable()) {
  console.error('[demo] Dovecot is not installed. On Debian/Ubuntu: sudo apt-get install dovecot-imapd (the demo runs its own throwaway instance; no system service is used).');
  process.exit(1);
}
if (!fs.existsSync(CHROMIUM)) {
  console.error(`[demo] Chromium not found at ${CHROMIUM}. Install it (sudo apt-get install chromium) or set CHROMIUM_PATH.`);
  process.exit(1);
}

const cleanups = [];
let stopping = false;
async function cleanup(code) {
  if (stopping) return;
  stopping = true;
  say('stopping: browser, relay, Dovecot; removing temp dirs');
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch {
      /* best effort: the rest must still be cleaned */
    }
  }
  process.exit(code);
}
process.on('SIGINT', () => void cleanup(0));
process.on('SIGTERM', () => void cleanup(0));

async function main() {
  say('building the extension (npx wxt build)...');
  await run('npx', ['wxt', 'build', '--mode', 'production'], { quiet: true });
  const extDir = path.resolve('.output/chrome-mv3');

  say('starting a throwaway Dovecot...');
  const dovecot = await startDovecot({ users: [USER] });
  cleanups.push(async () => {
    await dovecot.stop();
    fs.rmSync(dovecot.dir, { recursive: true, force: true });
  });
  const imap = await dovecot.client(USER.name, USER.password);
  for (const raw of generatedMessages(MESSAGES, 42, { prefix: 'demo' })) await imap.append('INBOX', raw, []);
  await imap.mailboxCreate('Archive').catch(() => undefined);
  for (const raw of generatedMessages(Math.ceil(MESSAGES / 3), 43, { prefix: 'demo-archive' })) await imap.append('Archive', raw, ['\\Seen']);
  await imap.logout();
  // A gentle throttle so the progress bar has time to be seen on a fast machine.
  const proxy = await startSlowProxy(dovecot.port);
  proxy.throttle(Number(process.env.DEMO_BYTES_PER_TICK ?? 16_384));
  cleanups.push(() => proxy.close());
  say(`IMAP account "${USER.name}" with ${MESSAGES + Math.ceil(MESSAGES / 3)} sample messages on 127.0.0.1:${proxy.port} (no TLS, loopback only)`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailkeep-demo-'));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  say(`starting the relay: node bin/mailkeep.js relay --data-dir ${dataDir} --port ${port}`);
  const relay = spawn(process.execPath, ['bin/mailkeep.js', 'relay', '--data-dir', dataDir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => stopChild(relay));
  let relayOut = '';
  relay.stdout.on('data', (d) => {
    relayOut += d.toString();
    process.stdout.write(d);
  });
  const code = await waitFor(() => /Pairing code: ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(relayOut)?.[1], 20_000, 'the relay did not print a pairing code');

  const headed = Boolean(process.env.DISPLAY);
  if (!headed) say('DISPLAY is not set: Chromium runs headless; screenshots of each step go to the demo folder below.');
  const shots = fs.mkdtempSync(path.join(os.tmpdir(), 'mailkeep-demo-shots-'));
  const context = await chromium.launchPersistentContext('', {
    executablePath: CHROMIUM,
    headless: !headed,
    viewport: { width: 1200, height: 800 },
    args: [`--disable-extensions-except=${extDir}`, `--load-extension=${extDir}`, '--no-first-run', '--disable-sync'],
  });
  cleanups.push(() => context.close());
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 20_000 }));
  const base = `chrome-extension://${new URL(worker.url()).host}`;

  say(`pairing: typing port ${port} and code ${code} into the options page`);
  const options = await context.newPage();
  await options.goto(`${base}/options.html#new`);
  // No native host is registered in this throwaway profile: once the worker has tried it, the
  // options page offers the typed code (the fallback for browsers that cannot launch the host).
  await options.getByTestId('host-missing').waitFor({ timeout: 20_000 });
  await options.locator('#pair-port').fill(String(port));
  await options.locator('#pair-code').fill(code);
  await options.getByRole('button', { name: 'Pair' }).click();
  await options.getByTestId('pair-result').waitFor({ timeout: 10_000 });
  if ((await options.getByTestId('pair-result').getAttribute('data-ok')) !== 'true') throw new Error(`pairing failed: ${await options.getByTestId('pair-result').innerText()}`);

  say('adding the mailbox (with "Test connection" first)');
  await options.locator('#f-email').fill('demo@example.org');
  await options.locator('#f-displayName').fill('Demo mailbox');
  await options.locator('#f-username').fill(USER.name);
  await options.locator('#f-host').fill('127.0.0.1');
  await options.locator('#f-port').fill(String(proxy.port));
  await options.locator('#f-security').selectOption('none');
  await options.locator('#f-password').fill(USER.password);
  await options.getByRole('button', { name: 'Test connection' }).click();
  say(`Test connection: ${await options.getByTestId('test-result').innerText({ timeout: 20_000 })}`);
  await options.getByRole('button', { name: 'Save' }).click();
  await options.getByTestId('saved').waitFor({ timeout: 10_000 });
  await options.screenshot({ path: path.join(shots, '1-options.png') });

  const popup = await context.newPage();
  await popup.setViewportSize({ width: 420, height: 360 });
  await popup.goto(`${base}/popup.html`);
  const card = popup.getByTestId('account-card');
  // The relay's own first run comes a minute after adding; the demo does not wait for it.
  say('popup: Back up now');
  await card.getByRole('button', { name: 'Back up now' }).click({ timeout: 20_000 });
  let last = '';
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const status = await card.getAttribute('data-status').catch(() => null);
    const progress = await popup.getByTestId('progress').innerText({ timeout: 500 }).catch(() => '');
    const line = `${status ?? '...'}${progress ? `: ${progress}` : ''}`;
    if (line !== last) say(`popup: ${line}`);
    if (status === 'running' && !last.startsWith('running')) await popup.screenshot({ path: path.join(shots, '2-popup-running.png') });
    last = line;
    if (status === 'completed' || status === 'authentication_error' || status === 'connection_error') break;
    if (Date.now() > deadline) throw new Error('the backup did not finish in time');
    await new Promise((r) => setTimeout(r, 300));
  }
  await popup.screenshot({ path: path.join(shots, '3-popup-done.png') });
  say(`backup ${last}. Archive: ${path.join(dataDir, 'archives')}`);
  say(`screenshots: ${shots}`);
  if (!headed) return cleanup(last.startsWith('completed') ? 0 : 1);
  say('Chromium stays open: try "Back up now" in the popup tab, or System Status. Ctrl-C to stop everything.');
  context.on('close', () => void cleanup(0));
  await new Promise(() => undefined);
}

function run(cmd, args, { quiet }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: quiet ? 'ignore' : 'inherit' });
    child.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${c}`))));
  });
}

async function waitFor(read, timeoutMs, message) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (v) return v;
    if (Date.now() > until) throw new Error(message);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopChild(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

main().catch((err) => {
  console.error(`[demo] ${err instanceof Error ? err.message : String(err)}`);
  void cleanup(1);
});
