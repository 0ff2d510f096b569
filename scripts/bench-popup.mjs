#!/usr/bin/env node
// Popup first paint with 20 accounts and 10,000 job events in the store, in real Chromium, against
// two peers measured in the same run: the same popup on an empty store, and a bare static page.
// Prints figures only; never passes or fails on time (it exits non-zero only if it could not run).
//
//   node scripts/bench-popup.mjs [--runs N]        (builds .output/chrome-mv3-test with --mode test first, unless EXT_DIR is set)
import { chromium } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const EXT = path.resolve(process.env.EXT_DIR ?? '.output/chrome-mv3-test');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9;
const ACCOUNTS = 20;
const EVENTS = 10_000;
const STATUSES = ['completed', 'running', 'authentication_error', 'connection_error', 'retrying', 'partially_completed', 'preparing', 'deactivated'];

// The test build (wxt puts --mode test in .output/chrome-mv3-test): a production build refuses the seeding.
if (!existsSync(path.join(EXT, 'manifest.json'))) {
  console.log('building the extension first (npx wxt build --mode test: seeding needs the test hooks) ...');
  if (spawnSync('npx', ['wxt', 'build', '--mode', 'test'], { stdio: 'inherit' }).status !== 0) process.exit(1);
}

async function launch() {
  const context = await chromium.launchPersistentContext('', {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 420, height: 600 },
    args: [`--disable-extensions-except=${EXT}`, `--load-extension=${EXT}`, '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
  return { context, id: new URL(worker.url()).host };
}

const send = (page, message) => page.evaluate((m) => chrome.runtime.sendMessage(m), message);
const countEvents = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('mailkeep');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const req = db.transaction('jobEvents').objectStore('jobEvents').count();
          req.onsuccess = () => (db.close(), resolve(req.result));
        };
      }),
  );

async function seedLoaded(context, id) {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${id}/popup.html`);
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => {
    const status = STATUSES[i % STATUSES.length];
    return {
      form: { displayName: `Account ${String(i + 1).padStart(2, '0')}`, email: `user${i}@example.org`, host: 'imap.example.org', port: '993', security: 'tls', scheduleEnabled: status !== 'deactivated', everyHours: '24' },
      jobs: [{ kind: 'backup', status }, ...(i % 4 === 0 ? [{ kind: 'restore', status: 'running' }] : [])],
    };
  });
  const t0 = performance.now();
  let reply = await send(page, { type: 'dev:seed', accounts });
  if (!reply.ok) throw new Error(reply.message);
  // The history goes through transitionJob like real runs; each account ends in its seeded status.
  reply = await send(page, { type: 'dev:history', events: EVENTS - (await countEvents(page)) });
  if (!reply.ok) throw new Error(reply.message);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  const events = await countEvents(page);
  await page.close();
  return { seconds, events };
}

/** One cold open of a page: first contentful paint and the time the first card (or empty state) exists. */
async function measure(context, url, readySelector) {
  const page = await context.newPage();
  await page.addInitScript((sel) => {
    const w = window;
    w.__ready = null;
    new MutationObserver((_, obs) => {
      if (document.querySelector(sel)) {
        w.__ready = performance.now();
        obs.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  }, readySelector);
  await page.goto(url);
  await page.waitForSelector(readySelector);
  await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
  const r = await page.evaluate(() => ({ fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime, ready: window.__ready ?? performance.now(), cards: document.querySelectorAll('[data-testid=account-card]').length }));
  await page.close();
  return r;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;

async function series(label, context, url, selector) {
  await measure(context, url, selector); // warm-up: first open compiles the bundle
  const fcp = [];
  const ready = [];
  let cards = 0;
  for (let i = 0; i < RUNS; i += 1) {
    const r = await measure(context, url, selector);
    fcp.push(r.fcp);
    ready.push(r.ready);
    cards = r.cards;
  }
  return { label, fcp, ready, cards };
}

const rows = [];
{
  const { context, id } = await launch();
  const seeded = await seedLoaded(context, id);
  console.log(`seeded ${ACCOUNTS} accounts and ${seeded.events} job events in ${seeded.seconds} s`);
  rows.push(await series(`popup, ${ACCOUNTS} accounts + ${seeded.events} events`, context, `chrome-extension://${id}/popup.html`, '[data-testid=account-card]'));
  await context.close();
}
{
  const { context, id } = await launch();
  rows.push(await series('peer: popup, empty store', context, `chrome-extension://${id}/popup.html`, '[data-testid=empty-state]'));
  rows.push(await series('peer: bare static page', context, 'data:text/html,<!doctype html><p id=x>Mailkeep</p>', '#x'));
  await context.close();
}

console.log(`\nPopup first paint, ${RUNS} cold opens each (Chromium ${CHROMIUM}), times from navigation start:`);
for (const r of rows) {
  console.log(`- ${r.label}${r.cards ? ` (${r.cards} cards)` : ''}`);
  console.log(`    first contentful paint: ${fmt(r.fcp)}`);
  console.log(`    first card in the DOM:  ${fmt(r.ready)}`);
}
const [loaded, empty, bare] = rows;
console.log(`\nratio loaded / empty popup (first card vs empty state): ${(median(loaded.ready) / median(empty.ready)).toFixed(2)}x`);
console.log(`ratio loaded popup first card / bare page paint: ${(median(loaded.ready) / median(bare.fcp)).toFixed(2)}x`);
console.log(`target from the issue: first paint under 100 ms with ${ACCOUNTS} accounts and ${EVENTS} events (reported, not asserted)`);
console.log('(the first paint is the popup\'s frame, static in popup.html; the first card is when the accounts read from the store show)');
