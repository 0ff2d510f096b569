/// <reference types="chrome" />
/**
 * One-click restore from the toolbar, end to end: the built extension in Chromium, the real relay
 * and a real Dovecot. Mail is deleted on the server (over IMAP, as another client would), a backup
 * notices, the popup asks "N messages were removed from INBOX ... Restore them?", the dry run's
 * counts are confirmed, and the very messages are back on the server, each exactly once.
 */
import { test, expect, type Page } from '@playwright/test';
import { sendToWorker, stopServiceWorkers } from './fixtures';
import { MAIL_USER, addMailbox, pairedOptions, relayWorldPerFile, worldMailbox } from './relay-world';
import { relayJobRecords } from '../support/relay-jobs-record.ts';
import Database from 'better-sqlite3';

test.describe.configure({ mode: 'serial' });
const INITIAL = 12;
const shared = relayWorldPerFile({ initialMessages: INITIAL, testTimeoutMs: 90_000, setupTimeoutMs: 60_000 });

const card = (popup: Page) => popup.getByTestId('account-card');

/** Message-IDs in INBOX, read over IMAP: what the server really holds. */
async function inboxIds(): Promise<string[]> {
  const imap = await shared.world.dovecot.client(MAIL_USER.name, MAIL_USER.password);
  try {
    await imap.mailboxOpen('INBOX');
    const ids: string[] = [];
    for await (const m of imap.fetch('1:*', { envelope: true })) ids.push(m.envelope?.messageId ?? '');
    return ids.sort();
  } finally {
    await imap.logout();
  }
}

/** Deletes (flag + expunge) the first `count` messages of INBOX, as another mail client would. */
async function deleteFromInbox(count: number): Promise<string[]> {
  const imap = await shared.world.dovecot.client(MAIL_USER.name, MAIL_USER.password);
  try {
    await imap.mailboxOpen('INBOX');
    const gone: string[] = [];
    for await (const m of imap.fetch(`1:${count}`, { envelope: true })) gone.push(m.envelope?.messageId ?? '');
    await imap.messageDelete(`1:${count}`);
    return gone.sort();
  } finally {
    await imap.logout();
  }
}

/**
 * The dashboard's row of the restore the Restore tab's confirm just queued, found by the id its
 * "Queued" note names: the list may still show an older restore first while the new row arrives.
 */
async function queuedRow(dashboard: Page) {
  const queued = dashboard.getByTestId('restore-starter').getByTestId('restore-queued');
  await expect(queued).toBeVisible();
  const id = await queued.getAttribute('data-job-id');
  expect(id).toBeTruthy();
  return dashboard.locator(`[data-testid="job-row"][data-job-id="${id}"]`);
}

/** The relay's jobs of any kind not finished yet (a restore, the backup it starts by itself after one). */
const relayUnfinished = () => relayJobRecords(shared.world.dataDir).filter((j) => j.phase !== 'finished');

/**
 * One more backup that starts after this call, done, and shown: the relay is idle first (else the
 * click joins a run begun earlier, which may have read the server before the test changed it), the
 * relay's new run is found by its id, and the card's last backup reaches it (a stale card can move
 * to an older run's time first; a small run may pass through Preparing and Running unseen).
 */
async function backUpNow(popup: Page): Promise<void> {
  await expect.poll(() => relayUnfinished().map((j) => `${j.kind} ${j.status}`), { timeout: 30_000 }).toEqual([]);
  const seen = new Set(relayJobRecords(shared.world.dataDir).map((j) => j.id));
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  await card(popup).getByRole('button', { name: 'Back up now' }).click();
  const fresh = () => relayJobRecords(shared.world.dataDir).find((j) => j.kind === 'backup' && !seen.has(j.id));
  try {
    await expect.poll(() => fresh()?.phase ?? 'not started', { timeout: 30_000 }).toBe('finished');
    const run = fresh()!;
    expect(run.status).toBe('completed');
    await expect.poll(async () => Number(await card(popup).getByTestId('last-backup').getAttribute('data-at')), { timeout: 30_000 }).toBeGreaterThanOrEqual(Date.parse(run.createdAt));
  } catch (err) {
    // What the card said (a note, a status) is the first thing to know when no run followed.
    console.error(`the card after Back up now: ${(await card(popup).innerText()).replace(/\s+/g, ' ')}`);
    throw err;
  }
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
}

test('pair, add the mailbox, first backup completes', async () => {
  const options = await pairedOptions(shared.world);
  await addMailbox(options, worldMailbox(shared.world));
  const popup = await shared.world.open('popup.html');
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  // Any deletion prompts (the default asks only for bulk deletions, 20+ in a folder).
  await sendToWorker(popup, { type: 'set-restore-prompts', value: 'any' });
  await expect(popup.getByTestId('prompt')).toHaveCount(0);
});

test('messages deleted on the server: the next backup prompts with the count and folder; Restore shows the dry run, confirmed it puts exactly those back, once', async () => {
  const before = await inboxIds();
  expect(before).toHaveLength(INITIAL);
  const gone = await deleteFromInbox(3);
  expect(await inboxIds()).toHaveLength(INITIAL - 3);

  const popup = await shared.world.open('popup.html');
  await backUpNow(popup);
  const prompt = popup.getByTestId('prompt');
  await expect(prompt).toHaveCount(1, { timeout: 15_000 });
  await expect(prompt.getByTestId('prompt-text')).toHaveText(/^3 messages were removed from INBOX since (today|\w+day) \d\d:\d\d\. Restore them\?$/);
  await popup.screenshot({ path: test.info().outputPath('popup-restore-prompt.png') });

  await prompt.getByRole('button', { name: 'Restore' }).click();
  const plan = prompt.getByTestId('restore-plan');
  await expect(plan).toHaveText('3 messages will be put back into INBOX. Nothing is deleted.', { timeout: 20_000 });
  await popup.screenshot({ path: test.info().outputPath('popup-restore-confirm.png') });
  // The dry run wrote nothing.
  expect(await inboxIds()).toHaveLength(INITIAL - 3);

  shared.world.proxy.throttle(1024); // slow enough to see the restore under way in the popup (seconds)
  await prompt.getByRole('button', { name: 'Restore 3' }).click();
  await expect(popup.getByTestId('prompt')).toHaveCount(0);
  const line = card(popup).locator('[data-testid="job-line"][data-kind="restore"]');
  await expect(line).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  await expect(line.getByRole('progressbar')).toBeVisible();
  await expect(line.getByTestId('job-scope')).toHaveText(' · deleted mail of INBOX');
  await popup.screenshot({ path: test.info().outputPath('popup-restore-running.png') });
  shared.world.proxy.throttle(Infinity);

  const dashboard = await shared.world.open('dashboard.html#tab=restore');
  await expect(dashboard.getByTestId('job-row')).toHaveCount(1);
  await expect(dashboard.getByTestId('job-row')).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  await expect(dashboard.getByTestId('job-row').getByTestId('job-scope')).toHaveText('deleted mail of INBOX: 3 restored');
  const after = await inboxIds();
  expect(after).toEqual(before); // every deleted message back, none twice
  for (const id of gone) expect(after.filter((x) => x === id)).toHaveLength(1);

  // The restored messages are seen by the next backup as present again: no new prompt.
  await backUpNow(popup);
  await expect(popup.getByTestId('prompt')).toHaveCount(0);
});

/** The relay's restore jobs that really ran (its record; plans have keys starting restore-plan-). */
async function relayRestoreRuns(): Promise<{ status: string; phase: string; idempotencyKey: string }[]> {
  return relayJobRecords(shared.world.dataDir).filter((j) => j.kind === 'restore' && !j.idempotencyKey.startsWith('restore-plan-'));
}

test('stopping the service worker in the middle of a restore: the woken worker reconciles it to Completed, one relay job, each message once', async () => {
  const before = await inboxIds();
  await deleteFromInbox(4);
  const runsBefore = (await relayRestoreRuns()).length;
  const popup = await shared.world.open('popup.html');
  await backUpNow(popup);
  const prompt = popup.getByTestId('prompt');
  await expect(prompt.getByTestId('prompt-text')).toContainText('4 messages were removed from INBOX', { timeout: 15_000 });
  await prompt.getByRole('button', { name: 'Restore' }).click();
  await expect(prompt.getByTestId('restore-plan')).toHaveText('4 messages will be put back into INBOX. Nothing is deleted.', { timeout: 20_000 });
  shared.world.proxy.throttle(16); // ~500 bytes/s from the server: the restore lasts seconds
  await prompt.getByRole('button', { name: 'Restore 4' }).click();
  const line = card(popup).locator('[data-testid="job-line"][data-kind="restore"]');
  await expect(line).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  const jobId = await line.getAttribute('data-job-id');
  // Still under way on the relay when the worker goes: its end must come from reconciliation.
  expect((await relayRestoreRuns()).map((j) => j.phase)).toContain('active');
  await stopServiceWorkers(shared.world.context, popup);
  await popup.close();
  shared.world.proxy.throttle(Infinity);
  await shared.world.open('popup.html'); // its relay check wakes the worker, whose first pass reconciles
  const dashboard = await shared.world.open('dashboard.html#tab=restore');
  await expect(dashboard.locator(`[data-testid="job-row"][data-job-id="${jobId}"]`)).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  expect((await relayRestoreRuns()).length).toBe(runsBefore + 1);
  expect(await inboxIds()).toEqual(before);
});

test('Dismiss hides a prompt for good and restores nothing', async () => {
  await deleteFromInbox(2);
  const popup = await shared.world.open('popup.html');
  await backUpNow(popup);
  const prompt = popup.getByTestId('prompt');
  await expect(prompt).toHaveCount(1, { timeout: 15_000 });
  await expect(prompt.getByTestId('prompt-text')).toContainText('2 messages were removed from INBOX');
  await prompt.getByRole('button', { name: 'Dismiss' }).click();
  await expect(popup.getByTestId('prompt')).toHaveCount(0);
  const again = await shared.world.open('popup.html');
  await expect(card(again)).toHaveAttribute('data-status', 'completed');
  await expect(again.getByTestId('prompt')).toHaveCount(0);
  expect(await inboxIds()).toHaveLength(INITIAL - 2);
  const dashboard = await shared.world.open('dashboard.html#tab=restore');
  await expect(dashboard.getByTestId('job-row')).toHaveCount(2); // only the earlier restores
});

test('the Restore tab restores a folder after a dry-run preview: the two dismissed messages come back, nothing twice', async () => {
  const dashboard = await shared.world.open('dashboard.html#tab=restore');
  const starter = dashboard.getByTestId('restore-starter');
  await starter.getByTestId('restore-account').selectOption({ label: 'alice@example.org' });
  await starter.getByTestId('restore-folder').fill('INBOX');
  await starter.getByTestId('restore-preview').click();
  await expect(starter.getByTestId('restore-starter-plan')).toContainText('2 messages will be put back into INBOX', { timeout: 20_000 });
  expect(await inboxIds()).toHaveLength(INITIAL - 2); // the preview wrote nothing
  await starter.getByTestId('restore-confirm').click();
  const row = await queuedRow(dashboard);
  await expect(dashboard.getByTestId('job-row')).toHaveCount(3);
  await expect(row).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  await expect(row.getByTestId('job-scope')).toHaveText('INBOX: 2 restored');
  const ids = await inboxIds();
  expect(ids).toHaveLength(INITIAL);
  expect(new Set(ids).size).toBe(INITIAL);
  await dashboard.screenshot({ path: test.info().outputPath('dashboard-restore.png') });
});

test('a download queued through the service worker is driven to Completed / Link; its Download button saves the file with the pairing token', async () => {
  const dashboard = await shared.world.open('dashboard.html#tab=download');
  const accountId = await dashboard.evaluate(async () => {
    const open = indexedDB.open('mailkeep');
    const db: IDBDatabase = await new Promise((r) => (open.onsuccess = () => r(open.result)));
    return new Promise<string>((r) => { const q = db.transaction('accounts').objectStore('accounts').getAll(); q.onsuccess = () => r((q.result[0] as { id: string }).id); });
  });
  const reply = await sendToWorker<{ ok: boolean }>(dashboard, { type: 'start-job', job: { kind: 'download', accountId, params: { format: 'mbox', folder: 'INBOX' } } });
  expect(reply.ok).toBe(true);
  const row = dashboard.locator('[data-testid="job-row"]');
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-status', 'completed_link', { timeout: 30_000 });
  await row.getByRole('button', { name: 'Download' }).click();
  await expect
    .poll(async () => (await dashboard.evaluate(() => chrome.downloads.search({}))).map((i) => i.state), { timeout: 20_000 })
    .toEqual(['complete']);
  const [item] = await dashboard.evaluate(() => chrome.downloads.search({}));
  expect(item!.url).toContain(`127.0.0.1:${shared.world.relay.port}/download/`);
  expect(item!.fileSize).toBeGreaterThan(1000);
});

test('with "only bulk deletions", a small deletion asks nothing, a bulk one prompts and raises a notification', async () => {
  await shared.world.addMail(30, 77);
  const popup = await shared.world.open('popup.html');
  await sendToWorker(popup, { type: 'set-restore-prompts', value: 'bulk' });
  await backUpNow(popup);
  await deleteFromInbox(2);
  await backUpNow(popup);
  await expect(popup.getByTestId('prompt')).toHaveCount(0);
  await deleteFromInbox(25);
  await backUpNow(popup);
  await expect(popup.getByTestId('prompt')).toHaveCount(1, { timeout: 15_000 });
  await expect(popup.getByTestId('prompt-text')).toContainText('25 messages were removed from INBOX');
  await expect
    .poll(() => popup.evaluate(async () => Object.keys(await chrome.notifications.getAll())))
    .toContainEqual(expect.stringMatching(/^mailkeep\|restore\|/));
  await popup.screenshot({ path: test.info().outputPath('popup-bulk-prompt.png') });
});

/** The mailbox's account id, read from the extension's own store. */
async function accountIdOf(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const open = indexedDB.open('mailkeep');
    const db: IDBDatabase = await new Promise((r) => (open.onsuccess = () => r(open.result)));
    return new Promise<string>((r) => { const q = db.transaction('accounts').objectStore('accounts').getAll(); q.onsuccess = () => r((q.result[0] as { id: string }).id); });
  });
}

test('restarting the relay in the middle of a restore: the relay resumes it by itself, the dashboard follows it to Completed, one relay job, each message once', async () => {
  const dashboard = await shared.world.open('dashboard.html#tab=restore');
  const accountId = await accountIdOf(dashboard);
  const runsBefore = (await relayRestoreRuns()).length;
  shared.world.proxy.throttle(16); // ~500 bytes/s from the server: the restore lasts seconds
  const reply = await sendToWorker<{ ok: boolean; value: string }>(dashboard, { type: 'start-job', job: { kind: 'restore', accountId, params: { folder: 'INBOX' } } });
  expect(reply.ok).toBe(true);
  const row = dashboard.locator(`[data-testid="job-row"][data-job-id="${reply.value}"]`);
  await expect(row).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  expect((await relayRestoreRuns()).map((j) => j.phase)).toContain('active');
  await shared.world.restartRelay();
  shared.world.proxy.throttle(Infinity);
  await shared.world.relay.waitForOutput(/resuming interrupted restore job j_\w+ of account/, 20_000);
  await expect(row).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  // The relay's own resume: no second job for this run, nothing appended twice.
  expect((await relayRestoreRuns()).length).toBe(runsBefore + 1);
  const ids = await inboxIds();
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBeGreaterThan(INITIAL);
});

test('a restore the relay has no record of (its job history replaced) shows its last known status and "Start again"; it runs only when clicked', async () => {
  const gone = await deleteFromInbox(3);
  const dashboard = await shared.world.open('dashboard.html#tab=restore');
  const accountId = await accountIdOf(dashboard);
  shared.world.proxy.throttle(16);
  const reply = await sendToWorker<{ ok: boolean; value: string }>(dashboard, { type: 'start-job', job: { kind: 'restore', accountId, params: { folder: 'INBOX' } } });
  const row = dashboard.locator(`[data-testid="job-row"][data-job-id="${reply.value}"]`);
  await expect(row).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  await shared.world.relay.stop();
  // The relay's state.sqlite loses the job (replaced by an older copy, say).
  const db = new Database(`${shared.world.dataDir}/state.sqlite`);
  const removed = db.prepare("DELETE FROM jobs WHERE kind = 'restore' AND json_extract(snapshot, '$.phase') = 'interrupted'").run().changes;
  db.close();
  expect(removed).toBe(1);
  shared.world.proxy.throttle(Infinity);
  await shared.world.restartRelay();
  const runsBefore = (await relayRestoreRuns()).length;
  await expect(row.getByTestId('job-unknown-to-relay')).toBeVisible({ timeout: 30_000 });
  await expect(row.getByTestId('job-unknown-to-relay')).toContainText('The relay has no record of this job');
  await expect(row).toHaveAttribute('data-status', 'running'); // its last known status, not a made-up one
  await expect(row.getByTestId('hint-text')).toHaveCount(0); // "Nothing to do" would be about a run the relay knows
  await expect(row.getByRole('button', { name: 'Retry now' })).toHaveCount(0);
  await expect(row.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
  // Nothing starts by itself: the relay gets no new restore while the user has not clicked.
  await sendToWorker(dashboard, { type: 'relay-check' });
  expect((await relayRestoreRuns()).length).toBe(runsBefore);
  await dashboard.screenshot({ path: test.info().outputPath('dashboard-unknown-to-relay.png') });
  await row.getByRole('button', { name: 'Start again' }).click();
  await expect(row).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  await expect(row.getByTestId('job-unknown-to-relay')).toHaveCount(0);
  expect((await relayRestoreRuns()).length).toBe(runsBefore + 1);
  const ids = await inboxIds();
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of gone) expect(ids).toContain(id);
});

test('"Restore them?" and its notification go once the same mail is restored from the dashboard\'s Restore tab, without touching the prompt', async () => {
  const popup = await shared.world.open('popup.html');
  await sendToWorker(popup, { type: 'set-restore-prompts', value: 'any' });
  await backUpNow(popup); // everything is back from the tests above: nothing to ask
  await expect(popup.getByTestId('prompt')).toHaveCount(0);
  const before = await inboxIds();
  await deleteFromInbox(25);
  await backUpNow(popup);
  const prompt = popup.getByTestId('prompt');
  await expect(prompt).toHaveCount(1, { timeout: 15_000 });
  await expect(prompt.getByTestId('prompt-text')).toContainText('25 messages were removed from INBOX');
  const restoreNotes = () => popup.evaluate(async () => Object.keys(await chrome.notifications.getAll()).filter((id) => id.startsWith('mailkeep|restore|')));
  await expect.poll(restoreNotes).toHaveLength(1);

  const dashboard = await shared.world.open('dashboard.html#tab=restore');
  const starter = dashboard.getByTestId('restore-starter');
  await starter.getByTestId('restore-account').selectOption({ label: 'alice@example.org' });
  await starter.getByTestId('restore-folder').fill('INBOX');
  await starter.getByTestId('restore-preview').click();
  await expect(starter.getByTestId('restore-starter-plan')).toContainText('25 messages will be put back into INBOX', { timeout: 20_000 });
  await starter.getByTestId('restore-confirm').click();
  await expect(await queuedRow(dashboard)).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  expect(await inboxIds()).toEqual(before);

  // The popup open all along drops the prompt by itself; the notification is taken off the screen.
  await expect(popup.getByTestId('prompt')).toHaveCount(0, { timeout: 15_000 });
  await expect.poll(restoreNotes, { timeout: 15_000 }).toEqual([]);
  const reopened = await shared.world.open('popup.html');
  await expect(card(reopened)).toHaveAttribute('data-status', 'completed');
  await expect(reopened.getByTestId('prompt')).toHaveCount(0);
  await reopened.screenshot({ path: test.info().outputPath('popup-prompt-cleared-after-dashboard-restore.png') });
});
