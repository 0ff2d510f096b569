/// <reference types="chrome" />
/**
 * Issue 14 end to end: a Gmail-like mailbox (the Gmail fake on loopback, behind a proxy that can
 * slow it down), the real relay process with its documented test clock (MAILKEEP_TEST_CLOCK_FILE,
 * docs/cli.md) and Chromium with the built extension. The account's daily download budget is set
 * small (`mailkeep account pacing`), so the first backup runs (In Progress / Running, a bytes
 * fraction and a forecast in days), pauses when the budget is spent (Retrying, "daily download
 * limit reached; resumes at HH:MM", never Connection Error), resumes by itself each time the test
 * clock passes the refill, and completes: each message downloaded once, every label's folder in the
 * archive. Screenshots of the popup running and paused are saved as artefacts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { test, expect, type BrowserContext, type Page } from '@playwright/test';
import { formatBytes } from '../../lib/format.ts';
import { startFakeGmail, type FakeGmail, type GmailMessage } from '../support/fake-gmail.ts';
import { gmailMailbox, USER_LABELS } from '../support/gmail-mailbox.ts';
import { startSlowProxy, type SlowProxy } from '../support/slow-proxy.ts';
import { RelayProcess, runCli, tempDataDir } from '../relay/relay-harness.ts';
import { addMailbox, launchExtension, pairedOptions } from './relay-world';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';

const PASSWORD = 'gina-Gmail-pw-5120';
const MAILBOX = gmailMailbox({ inAllMail: 120, memberships: 300, spam: 3, trash: 3, seed: 1414 });
/** Two and a half days' worth: the first backup pauses twice and completes on the third day. */
const DAILY = Math.floor(MAILBOX.distinctBytes / 2.5);

interface StatusAccount {
  id: string;
  statusId: string | null;
  errorCode: string | null;
  retryAt: string | null;
}

let fake: FakeGmail;
let proxy: SlowProxy;
let relay: RelayProcess;
let dataDir: string;
let clockFile: string;
let context: BrowserContext;
let extensionId: string;
let offsetMs = 0;

const setClock = (offset: number): void => {
  offsetMs = offset;
  fs.writeFileSync(clockFile, JSON.stringify({ offsetMs, jitterMaxMs: 0 }));
};
const open = async (pathAndHash: string): Promise<Page> => {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/${pathAndHash}`);
  return page;
};

async function statusOf(accountId: string): Promise<StatusAccount> {
  const r = await runCli(['status', '--json', '--data-dir', dataDir], 30_000);
  const accounts = (JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { accounts?: StatusAccount[] }).accounts ?? [];
  const a = accounts.find((x) => x.id === accountId);
  if (!a) throw new Error(`no account ${accountId} in status: ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
  return a;
}

async function shot(page: Page, name: string): Promise<void> {
  const file = test.info().outputPath(name);
  const height = await page.evaluate(() => Math.ceil(document.querySelector('main')!.getBoundingClientRect().bottom + 12));
  await page.screenshot({ path: file, clip: { x: 0, y: 0, width: 400, height: Math.min(height, 900) } });
  await test.info().attach(name, { path: file, contentType: 'image/png' });
}

test.setTimeout(300_000);
// The restore test starts from the account the first test backed up.
test.describe.configure({ mode: 'serial' });
let accountId = '';

/** Each message of the account by content: its labels, flags and place (Spam, Trash). */
function byContent(messages: readonly GmailMessage[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of messages) {
    const h = createHash('sha256').update(m.raw).digest('hex');
    out.set(h, [...(out.get(h) ?? []), JSON.stringify({ labels: fake.labelsOf(m), flags: [...m.flags].sort(), place: m.spam ? 'spam' : m.trash ? 'trash' : 'mail' })]);
  }
  return out;
}

test.beforeAll(async () => {
  test.setTimeout(90_000);
  fake = await startFakeGmail({ messages: MAILBOX.seeds, labels: USER_LABELS, password: PASSWORD });
  proxy = await startSlowProxy(fake.port);
  dataDir = tempDataDir();
  clockFile = `${dataDir}-clock.json`;
  setClock(0);
  relay = await RelayProcess.start(dataDir, 30_000, { MAILKEEP_TEST_CLOCK_FILE: clockFile });
  ({ context, extensionId } = await launchExtension());
});

test.afterAll(async () => {
  await context?.close().catch(() => undefined);
  await relay?.stop().catch(() => undefined);
  proxy?.close();
  await fake?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  if (clockFile) fs.rmSync(clockFile, { force: true });
});

test('a Gmail first backup over its daily budget runs with a forecast, pauses as Retrying with its resume time, resumes by itself and downloads each message once', async () => {
  const options = await pairedOptions({ open, relay });
  // Saved with the schedule off, so the first backup waits until the budget is set.
  accountId = await addMailbox(options, { email: 'gina@gmail.example', displayName: 'Gina', username: 'gina@gmail.example', port: proxy.port, password: PASSWORD, scheduleOff: true });
  const pace = await runCli(['account', 'pacing', accountId, '--daily-download', String(DAILY), '--data-dir', dataDir], 30_000);
  expect(pace.code, pace.stderr).toBe(0);
  // Back on: saved without a password, so no backup starts by itself before the user asks.
  await options.locator('input[name=scheduleEnabled]').check();
  await options.getByRole('button', { name: 'Save' }).click();
  await expect(options.getByTestId('saved')).toBeVisible();

  const popup = await open('popup.html');
  await popup.setViewportSize({ width: 400, height: 700 });
  // Every status the card ever shows, to prove a limit never reads as Connection Error.
  await popup.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seenStatuses: string[] }).seenStatuses = seen;
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[data-testid=account-card]')) seen.push(el.getAttribute('data-status') ?? '');
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  });
  const card = popup.locator('[data-testid=account-card]');
  proxy.throttle(256); // about 8 KB/s: the first day's share takes several seconds to watch
  await card.getByRole('button', { name: 'Back up now' }).click();

  // Running: the bytes fraction of the total measured before downloading, and the forecast in days.
  await expect(card).toHaveAttribute('data-status', 'running', { timeout: 30_000 });
  await expect(card.getByTestId('status-label').first()).toContainText(/In Progress|Running/);
  // The total is the distinct content (All Mail, Spam, Trash), not one copy per label folder.
  await expect(popup.getByTestId('progress-counts')).toContainText(new RegExp(` · [\\d.]+ (B|KB) of ${formatBytes(MAILBOX.distinctBytes).replace('.', '\\.')} · \\d+ %$`), { timeout: 30_000 });
  await expect(popup.getByTestId('progress-forecast')).toHaveText(/^about \d+ days? at .*daily limit; [\d.]+ (B|KB) of [\d.]+ KB so far$/, { timeout: 30_000 });
  await popup.emulateMedia({ reducedMotion: 'reduce' });
  await shot(popup, 'popup-gmail-running.png');
  proxy.throttle(Infinity);

  // Paused by the budget: Retrying with why and when it resumes, and the forecast.
  await expect(card).toHaveAttribute('data-status', 'retrying', { timeout: 60_000 });
  await expect(popup.getByTestId('pause-condition')).toContainText(/daily download limit reached; resumes (\w+ )?at \d\d:\d\d/);
  await expect(popup.getByTestId('pause-forecast')).toHaveText(/^about \d+ days? at .*daily limit; [\d.]+ KB of [\d.]+ KB so far$/);
  await expect(popup.getByTestId('status-hint')).not.toContainText(/Connection Error|did not answer/);
  await shot(popup, 'popup-gmail-paused.png');

  // Each day the clock passes the refill, the relay resumes the backup by itself, until it completes.
  let last = await statusOf(accountId);
  expect(last.errorCode).toBe('PROVIDER_LIMIT_PAUSED');
  let days = 0;
  while (last.statusId !== 'completed') {
    expect(++days, 'the backup ends').toBeLessThan(6);
    expect(last.retryAt, JSON.stringify(last)).not.toBeNull();
    const before = last.retryAt;
    setClock(Date.parse(last.retryAt!) + 60_000 - Date.now()); // the relay's clock just after the refill
    const deadline = Date.now() + 60_000;
    for (;;) {
      last = await statusOf(accountId);
      if (last.statusId === 'completed' || (last.statusId === 'retrying' && last.retryAt !== before)) break;
      if (Date.now() > deadline) throw new Error(`never resumed: ${JSON.stringify(last)}; relay said: ${relay.stdout.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  expect(days).toBeGreaterThanOrEqual(2);
  await expect(card).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  const seen = await popup.evaluate(() => (window as unknown as { seenStatuses: string[] }).seenStatuses);
  expect(seen).toContain('retrying');
  expect(seen.filter((s) => /error/.test(s))).toEqual([]);

  // Downloaded once: the bodies the fake sent are the distinct content (within 5 %), not one copy per label.
  expect(fake.counters.bodyBytesSent / MAILBOX.distinctBytes).toBeGreaterThanOrEqual(0.99);
  expect(fake.counters.bodyBytesSent / MAILBOX.distinctBytes).toBeLessThanOrEqual(1.05);

  // The dashboard's row says Completed; the popup's card what the archive holds.
  const dashboard = await open('dashboard.html');
  await dashboard.setViewportSize({ width: 1100, height: 500 });
  await expect(dashboard.getByTestId('job-row')).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  const file = test.info().outputPath('dashboard-gmail-completed.png');
  await dashboard.screenshot({ path: file });
  await test.info().attach('dashboard-gmail-completed.png', { path: file, contentType: 'image/png' });
  // Each distinct message once (126, not one per label), in All Mail, Spam, Trash and every label's folder.
  await expect(card.getByTestId('archive-totals').first()).toHaveText(new RegExp(`${MAILBOX.seeds.length} messages in 13 folders, ${formatBytes(MAILBOX.distinctBytes).replace('.', '\\.')}$`));

  // The archive page lists each label's folder with as many messages as carry the label.
  const archive = await open(`archive.html#account=${encodeURIComponent(accountId)}`);
  for (const label of USER_LABELS) {
    const carrying = fake.messages.filter((m) => m.labels.has(label)).length;
    await expect(archive.locator(`[data-testid=folder][data-folder="${label}"] [data-testid=folder-count]`)).toHaveText(String(carrying), { timeout: 30_000 });
  }
  expect(relay.stdout + relay.stderr).not.toContain(PASSWORD);
});

test('every message of the Gmail account deleted: one restore from the dashboard puts each back once, appended once with its labels added, never a copy per label', async () => {
  expect(accountId, 'the first test saved the account').not.toBe('');
  const before = byContent(fake.messages);
  // Mass deletion, as the product is for: the account is empty, as a fresh one would be.
  fake.messages.splice(0);
  fake.resetCounters();
  const dashboard = await open('dashboard.html#tab=restore');
  const starter = dashboard.getByTestId('restore-starter');
  await starter.getByTestId('restore-account').selectOption({ label: 'gina@gmail.example' });
  await starter.getByTestId('restore-preview').click();
  // The dry run says how labels go into Gmail: each message once, its labels added.
  await expect(starter.getByTestId('restore-starter-plan')).toContainText(new RegExp(`${MAILBOX.seeds.length} messages will be put back into their folders \\(appended once each; \\d+ labels added\\)`), { timeout: 30_000 });
  expect(fake.counters.appends, 'a dry run appends nothing').toBe(0);
  await starter.getByTestId('restore-confirm').click();
  await expect(starter.getByTestId('restore-queued')).toBeVisible();
  // Its own row, by the id the "Queued" note names (another restore may be listed first for a moment).
  const row = dashboard.locator(`[data-testid="job-row"][data-job-id="${await starter.getByTestId('restore-queued').getAttribute('data-job-id')}"]`);
  await expect(row).toHaveAttribute('data-status', 'completed', { timeout: 90_000 });
  // Each message once (one APPEND each), with the labels, flags and place it had when backed up.
  expect(fake.counters.appends).toBe(MAILBOX.seeds.length);
  expect(fake.messages).toHaveLength(MAILBOX.seeds.length);
  expect(byContent(fake.messages)).toEqual(before);
  const file = test.info().outputPath('dashboard-gmail-restored.png');
  await dashboard.screenshot({ path: file });
  await test.info().attach('dashboard-gmail-restored.png', { path: file, contentType: 'image/png' });
});

test('a Gmail message with several labels restored from the Archive page into a server without labels: the dry run offers a copy per label or its first label only, and "first label only" puts it there once', async () => {
  expect(accountId, 'the first test saved the account').not.toBe('');
  test.skip(!dovecotAvailable(), 'Dovecot is not installed (under CI this fails instead)');
  const dora = { name: 'dora', password: 'dora-Dovecot-pw-77' };
  const dovecot: Dovecot = await startDovecot({ users: [dora] });
  try {
    const options = await open('options.html');
    await addMailbox(options, { email: 'dora@example.org', displayName: 'Dora', username: dora.name, port: dovecot.port, password: dora.password, scheduleOff: true });
    // A message with a user label and at least one more (the generated subjects are "Test N Grüße", as encoded words).
    const pick = MAILBOX.seeds.findIndex((s) => (s.labels ?? []).length >= 2 && (s.labels ?? []).some((l) => !l.startsWith('\\')));
    expect(pick, 'the mailbox has such a message').toBeGreaterThanOrEqual(0);
    expect(MAILBOX.seeds[pick]!.raw.toString('latin1')).toContain(`Subject: =?UTF-8?Q?Test_${pick}_Gr=C3=BC=C3=9Fe?=`);
    const archive = await open(`archive.html#account=${encodeURIComponent(accountId)}`);
    await archive.getByTestId('archive-search').fill(`subject:"Test ${pick} Grüße"`);
    const rows = archive.getByTestId('archive-row');
    // One row per folder the message is in: All Mail and each label's folder.
    await expect.poll(async () => rows.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    const copies = await rows.count();
    // The rows are alike but for their folder, which each names: All Mail and the label folders.
    const folders = (await archive.getByTestId('row-folder').allInnerTexts()).map((t) => t.replace(/:\s*$/, '').trim());
    expect(new Set(folders).size).toBe(copies);
    expect(folders).toContain('[Gmail]/All Mail');
    await rows.first().click();
    await rows.last().click({ modifiers: ['Shift'] });
    await expect(archive.getByTestId('selection-count')).toHaveText(`${copies} messages selected`);
    await archive.getByTestId('action-restore').click();
    await archive.getByTestId('archive-restore-destination').selectOption({ label: 'dora@example.org' }) // 'Dora' adds nothing to its address (accountLabel);
    await archive.getByTestId('archive-restore-preview').click();
    const plan = archive.getByTestId('archive-restore-plan');
    await expect(plan).toHaveAttribute('data-to-append', String(copies), { timeout: 30_000 });
    await expect(plan).toContainText(`one copy per label or folder it was in: 1 message as ${copies} copies`);
    await archive.getByTestId('label-mode-select').selectOption('first-label');
    await expect(plan).toHaveAttribute('data-to-append', '1', { timeout: 30_000 });
    await expect(plan).toContainText("Gmail labels: each message into its first label's folder only");
    await archive.screenshot({ path: test.info().outputPath('archive-restore-first-label.png') });
    await archive.getByTestId('archive-restore-confirm').click();
    await expect(archive.getByTestId('archive-job')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
    // Dora's server holds the message once, in one folder.
    const imap = await dovecot.client(dora.name, dora.password);
    let total = 0;
    try {
      for (const box of await imap.list()) if (!box.flags.has('\\Noselect')) {
        const status = await imap.status(box.path, { messages: true });
        total += status ? (status.messages ?? 0) : 0;
      }
    } finally {
      await imap.logout();
    }
    expect(total).toBe(1);
  } finally {
    await dovecot.stop();
    fs.rmSync(dovecot.dir, { recursive: true, force: true });
  }
});
