/// <reference types="chrome" />
/**
 * Backup from the toolbar, end to end: the built extension in Chromium, the real relay process and
 * a real Dovecot, all started here, driven through the pages as a person would. One world for the
 * whole file (serial), each test continuing from the previous one's state, to stay within the
 * time budget on a shared 2-core machine.
 */
import { test, expect, type Page } from '@playwright/test';
import { stopServiceWorkers } from './fixtures';
import { BADGE_HEX } from '../../lib/status/badge.ts';
import { rgba } from './fixtures';
import { MAIL_USER, badgeOf, startWorld, verifyArchive, worldAvailable, type World } from './relay-world';
import { relayJobRecords } from '../support/relay-jobs-record.ts';

test.describe.configure({ mode: 'serial' });
test.skip(!worldAvailable(), 'Dovecot is not installed (under CI this fails instead)');
test.setTimeout(120_000);

const INITIAL = 40;
let world: World;
let accountId = '';

test.beforeAll(async () => {
  test.setTimeout(90_000);
  world = await startWorld(INITIAL);
});
test.afterAll(async () => {
  await world?.close();
});

const card = (popup: Page) => popup.getByTestId('account-card');

async function fillAccount(page: Page, password: string): Promise<void> {
  await page.locator('#f-email').fill('alice@example.org');
  await page.locator('#f-displayName').fill('Alice');
  await page.locator('#f-username').fill(MAIL_USER.name);
  await page.locator('#f-host').fill('127.0.0.1');
  await page.locator('#f-port').fill(String(world.proxy.port));
  await page.locator('#f-security').selectOption('none');
  await page.locator('#f-password').fill(password);
}

/** The relay's own jobs of the account (the dashboard shows Dexie's; this is the other side). */
async function relayJobs(): Promise<{ id: string; status: string; phase: string; idempotencyKey: string }[]> {
  // A second client would need its own token; the relay's state.sqlite is the record instead.
  return relayJobRecords(world.dataDir).filter((j) => j.accountId === accountId);
}

test('pair with the printed code, test the connection (wrong password, dead port, right password), save, Back up now: the first backup runs and completes', async () => {
  const popup = await world.open('popup.html');
  // No mailbox yet: the popup says one thing, the next step (connect the relay), and no red banner
  // above it about "every status below" (there is none).
  await expect(popup.getByTestId('empty-state')).toHaveAttribute('data-next', 'connect-relay');
  await expect(popup.getByTestId('relay-unreachable')).toHaveCount(0);

  const options = await world.open('options.html#new');
  // No native host in this profile (a browser that cannot launch one): the options page, where
  // pairing is, says so, with how to connect and nothing about statuses.
  await expect(options.getByTestId('relay-unreachable')).toHaveAttribute('data-reason', 'unpaired');
  await expect(options.getByTestId('relay-unreachable')).toHaveAttribute('data-shape', 'connect');
  await expect(options.getByTestId('relay-unreachable')).not.toContainText('Every status below');
  await expect(options.getByTestId('relay-host-missing')).toBeVisible();
  await expect(options.getByTestId('relay-command')).toHaveText('run npm start in the Mailkeep folder (or node bin/mailkeep.js relay)');
  await options.locator('#pair-port').fill(String(world.relay.port));
  await options.locator('#pair-code').fill('AAAA-BBBB');
  await options.getByRole('button', { name: 'Pair' }).click();
  await expect(options.getByTestId('pair-result')).toHaveAttribute('data-ok', 'false');
  await options.locator('#pair-code').fill(world.relay.pairingCode);
  await options.getByRole('button', { name: 'Pair' }).click();
  await expect(options.getByTestId('pair-result')).toHaveAttribute('data-ok', 'true');
  await expect(options.getByTestId('relay-state')).toHaveAttribute('data-state', 'connected');

  await fillAccount(options, 'not-the-password');
  await options.getByRole('button', { name: 'Test connection' }).click();
  // Words first (the code only on the element), and no 'Click "Edit"' on the edit form itself.
  await expect(options.getByTestId('test-result')).toHaveAttribute('data-code', 'AUTH_FAILED');
  await expect(options.getByTestId('test-result')).toContainText(/^Could not sign in\. The mail server refused the user name or password\./);
  await options.locator('#f-port').fill('1');
  await options.getByRole('button', { name: 'Test connection' }).click();
  await expect(options.getByTestId('test-result')).toHaveAttribute('data-code', 'CONNECTION_REFUSED');
  await expect(options.getByTestId('test-result')).toContainText(/^Could not reach the server\./);
  await fillAccount(options, MAIL_USER.password);
  await options.getByRole('button', { name: 'Test connection' }).click();
  await expect(options.getByTestId('test-result')).toHaveAttribute('data-ok', 'true');

  world.proxy.throttle(2048); // slow enough to see the bar move
  await options.getByRole('button', { name: 'Save' }).click();
  await expect(options.getByTestId('saved')).toBeVisible();
  await expect(options.getByTestId('relay-note')).toContainText('keeps the password');
  accountId = decodeURIComponent(/account=([^&]+)/.exec(options.url())?.[1] ?? '');
  expect(accountId).not.toBe('');
  // The password is nowhere in the browser's store.
  const stored = await options.evaluate(async () => {
    const open = indexedDB.open('mailkeep');
    const db: IDBDatabase = await new Promise((r) => (open.onsuccess = () => r(open.result)));
    const all = (name: string) => new Promise<unknown[]>((r) => { const q = db.transaction(name).objectStore(name).getAll(); q.onsuccess = () => r(q.result); });
    return JSON.stringify([await all('accounts'), await all('jobs'), await all('settings')]);
  });
  expect(stored).not.toContain(MAIL_USER.password);

  // Saving a new mailbox with its password started its first backup at once (no minute's wait for
  // the relay's own first run, no click).
  await expect(card(popup)).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  await expect(popup.getByRole('progressbar')).toBeVisible();
  // A first run knows its total before fetching (STATUS): a real fraction, named for the account.
  const bar = popup.getByRole('progressbar', { name: /^Backup of / });
  await expect(bar).toHaveAttribute('aria-valuenow', /^\d+$/);
  await expect(bar).toHaveAttribute('aria-valuetext', new RegExp(`^\\d+ %: \\d+ of ${INITIAL} messages`));
  await expect(popup.getByTestId('progress-counts')).toContainText(`of ${INITIAL} messages`);
  const first = await popup.getByTestId('progress').innerText();
  await expect.poll(async () => popup.getByTestId('progress').innerText(), { timeout: 15_000 }).not.toBe(first);
  await popup.screenshot({ path: test.info().outputPath('popup-running.png') });
  expect((await badgeOf(popup)).colour).toEqual(rgba(BADGE_HEX.green));
  world.proxy.throttle(Infinity);
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  await expect(card(popup).getByTestId('last-backup')).toContainText('Last backup');
  await popup.screenshot({ path: test.info().outputPath('popup-completed.png') });

  const dashboard = await world.open('dashboard.html');
  await expect(dashboard.getByTestId('job-row').first()).toHaveAttribute('data-status', 'completed');

  const verify = await verifyArchive(world.dataDir, accountId);
  expect(verify).toMatchObject({ code: 0, ok: true, messages: INITIAL });
  expect(await relayJobs()).toHaveLength(1);
});

test('stopping the service worker in the middle of a backup: the job finishes, Completed, one relay job not two', async () => {
  await world.addMail(40, 7);
  const popup = await world.open('popup.html');
  world.proxy.throttle(256); // ~8 KB/s: the run lasts seconds, so the stop lands in the middle of it
  await card(popup).getByRole('button', { name: 'Back up now' }).click();
  await expect(card(popup)).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  await expect.poll(async () => popup.getByTestId('progress').innerText(), { timeout: 20_000 }).toMatch(/^[1-9]\d* (of \d+ )?messages/);
  // Still under way on the relay when the worker goes: its end must come from reconciliation.
  expect((await relayJobs()).at(0)).toMatchObject({ phase: 'active' });
  await stopServiceWorkers(world.context, popup);
  await popup.close();
  world.proxy.throttle(Infinity);
  const again = await world.open('popup.html'); // the popup's relay-check wakes the worker
  await expect(card(again)).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  const jobs = await relayJobs();
  expect(jobs).toHaveLength(2);
  expect(new Set(jobs.map((j) => j.idempotencyKey)).size).toBe(2);
  expect((await verifyArchive(world.dataDir, accountId)).messages).toBe(INITIAL + 40);
});

test('a changed server password: Authentication Error with Edit and a red badge; a saved edit starts a backup at once and it completes', async () => {
  await world.setServerPassword('changed-on-the-server-99');
  const popup = await world.open('popup.html');
  await card(popup).getByRole('button', { name: 'Back up now' }).click();
  await expect(card(popup)).toHaveAttribute('data-status', 'authentication_error', { timeout: 20_000 });
  await expect(card(popup).getByTestId('hint-text')).toContainText('password');
  await expect.poll(async () => (await badgeOf(popup)).colour).toEqual(rgba(BADGE_HEX.red));
  expect((await badgeOf(popup)).text).toBe('1');
  // ...and a notification whose button is Edit.
  await expect
    .poll(() => popup.evaluate(async () => Object.keys(await chrome.notifications.getAll())))
    .toContainEqual(expect.stringMatching(new RegExp(`^mailkeep\\|edit\\|${accountId}\\|`)));
  await popup.screenshot({ path: test.info().outputPath('popup-auth-error.png') });

  const [options] = await Promise.all([world.context.waitForEvent('page'), card(popup).getByRole('button', { name: 'Edit' }).click()]);
  await options.locator('#f-password').waitFor();
  await options.locator('#f-password').fill('changed-on-the-server-99');
  await options.getByRole('button', { name: 'Save' }).click();
  await expect(options.getByTestId('saved')).toBeVisible();
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 20_000 });
  await expect.poll(async () => (await badgeOf(popup)).text).toBe('');
});

test('Dovecot stopped: Retrying, then Connection Error with a red badge and the relay\'s own retry planned; started again, Retry now completes', async () => {
  const popup = await world.open('popup.html');
  await world.dovecot.stop();
  await card(popup).getByRole('button', { name: 'Back up now' }).click();
  await expect(card(popup)).toHaveAttribute('data-status', 'retrying', { timeout: 20_000 });
  await expect(card(popup)).toHaveAttribute('data-status', 'connection_error', { timeout: 30_000 });
  await expect(card(popup).getByTestId('error-hint')).toBeVisible();
  await expect.poll(async () => (await badgeOf(popup)).colour).toEqual(rgba(BADGE_HEX.red));
  // The automatic retry is the relay's ("within a few hours"; it runs with the browser closed,
  // test/relay proves it fires): the card shows when, as the relay planned it.
  await expect(card(popup).getByTestId('retry-at')).toContainText(/tries again by itself: in (2|3) hours/);
  await popup.screenshot({ path: test.info().outputPath('popup-connection-error.png') });
  await world.restartDovecot();
  await card(popup).getByRole('button', { name: 'Retry now' }).click();
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 45_000 });
  await expect(card(popup).getByTestId('retry-at')).toHaveCount(0);
  await expect.poll(async () => (await badgeOf(popup)).text).toBe('');
});

test('restarting the relay in the middle of a backup: the job is resumed and ends Completed, nothing lost', async () => {
  await world.addMail(40, 9);
  const popup = await world.open('popup.html');
  const before = (await relayJobs()).length;
  world.proxy.throttle(256);
  await card(popup).getByRole('button', { name: 'Back up now' }).click();
  await expect(card(popup)).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  await expect.poll(async () => popup.getByTestId('progress').innerText(), { timeout: 20_000 }).toMatch(/^[1-9]\d* (of \d+ )?messages/);
  expect((await relayJobs()).at(0)).toMatchObject({ phase: 'active' });
  world.proxy.throttle(Infinity);
  await world.restartRelay();
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 45_000 });
  // Resumed under the same id and key: one relay job for this run.
  expect((await relayJobs()).length).toBe(before + 1);
  expect(await verifyArchive(world.dataDir, accountId)).toMatchObject({ ok: true, messages: INITIAL + 80 });
});

test('the relay killed in the middle of a backup: within seconds the popup and the dashboard open all along say so and show nothing running; started again, the backup resumes and ends Completed', async () => {
  await world.addMail(40, 11);
  const popup = await world.open('popup.html');
  const dashboard = await world.open('dashboard.html');
  world.proxy.throttle(256);
  await card(popup).getByRole('button', { name: 'Back up now' }).click();
  await expect(card(popup)).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  await expect(card(popup).getByRole('progressbar')).toHaveCount(1);
  world.relay.child.kill('SIGKILL');
  for (const [name, page] of Object.entries({ popup, dashboard })) {
    // No timeout of a heartbeat to wait out: the socket's close is the news.
    await expect(page.getByTestId('relay-unreachable'), name).toBeVisible({ timeout: 10_000 });
    await expect(page.locator('[data-testid=status-label][data-current=true]'), name).toHaveCount(0);
    await expect(page.getByRole('progressbar'), name).toHaveCount(0);
  }
  await expect(card(popup).getByTestId('as-of')).toContainText('last known, as of');
  await expect(card(popup).getByTestId('hint-last-known')).toBeVisible();
  // Not "Nothing to do: the green bar shows…": there is no bar, and nothing confirms the run goes on.
  await expect(card(popup).getByTestId('hint-text')).toContainText('nothing confirms this run goes on');
  await popup.screenshot({ path: test.info().outputPath('popup-relay-killed-mid-backup.png') });
  world.proxy.throttle(Infinity);
  await world.restartRelay();
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 45_000 });
  for (const [name, page] of Object.entries({ popup, dashboard })) await expect(page.getByTestId('relay-unreachable'), name).toHaveCount(0, { timeout: 30_000 });
  await expect(card(popup).getByTestId('status-label')).toHaveAttribute('data-current', 'true');
  expect(await verifyArchive(world.dataDir, accountId)).toMatchObject({ ok: true, messages: INITIAL + 120 });
});

test('relay not running: the popup says so with the command to start it, shows nothing as current, and the badge shows it', async () => {
  await world.relay.stop();
  const popup = await world.open('popup.html');
  await expect(popup.getByTestId('relay-unreachable')).toHaveAttribute('data-reason', 'unreachable', { timeout: 15_000 });
  await expect(popup.locator('[data-testid=status-label][data-current=true]')).toHaveCount(0);
  await expect(card(popup).getByTestId('as-of')).toContainText('last known, as of');
  await expect(popup.getByTestId('relay-command')).toHaveText('run npm start in the Mailkeep folder (or node bin/mailkeep.js relay)');
  await expect.poll(async () => (await badgeOf(popup)).text).toBe('off');
  expect((await badgeOf(popup)).title).toContain('Start it: run `npm start` in the Mailkeep folder (or `node bin/mailkeep.js relay`)');
  expect((await badgeOf(popup)).title).not.toContain('npx');
  await popup.screenshot({ path: test.info().outputPath('popup-relay-off.png') });
});
