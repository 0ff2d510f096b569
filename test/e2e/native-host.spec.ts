/// <reference types="chrome" />
/**
 * Issue 11 end to end, in real Chromium with the real `mailkeep native-host`, the real relay it
 * starts and a real Dovecot: no relay runs and no code is typed; the browser closes and a scheduled
 * backup still runs; the relay dies and every page says so, then the extension starts it again
 * through the host.
 */
import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { addMailbox, MAIL_USER } from './relay-world';
import { hostedProfile, type HostedProfile } from './native-host-world';

const HOUR = 3_600_000;

test.skip(!dovecotAvailable(), 'Dovecot is not installed (under CI this fails instead)');
test.setTimeout(300_000);

let dovecot: Dovecot | undefined;
let profile: HostedProfile | undefined;

test.afterAll(async () => {
  await profile?.cleanUp();
  await dovecot?.stop();
});

async function addMail(count: number, seed: number): Promise<void> {
  const imap = await dovecot!.client(MAIL_USER.name, MAIL_USER.password);
  for (const raw of generatedMessages(count, seed)) await imap.append('INBOX', raw, []);
  await imap.logout();
}

/** Nothing on the page is shown as the relay's current word: no current pill, no progress bar. */
async function expectNothingCurrent(page: Page): Promise<void> {
  await expect(page.locator('[data-testid=status-label][data-current=true]')).toHaveCount(0);
  await expect(page.getByRole('progressbar')).toHaveCount(0);
}

test('first use starts the relay through the host with no code; backups run with the browser closed; a killed relay is reported on every page and started again', async () => {
  dovecot = await startDovecot({ users: [MAIL_USER] });
  await addMail(5, 1);
  profile = hostedProfile();
  expect(profile.relay(), 'no relay runs before the browser starts').toBeNull();

  // 1. First use: the worker asks the host, the host starts the relay, the options page says Connected.
  let browser = await profile.launch();
  const options = await browser.open('options.html#new');
  await expect(options.getByTestId('relay-state')).toHaveAttribute('data-state', 'connected', { timeout: 45_000 });
  await expect(options.getByTestId('relay-state')).toHaveAttribute('data-via', 'native');
  await expect(options.getByTestId('relay-state')).toContainText('no code needed');
  await expect(options.locator('#pair-code')).toBeHidden(); // nothing to type
  await options.screenshot({ path: test.info().outputPath('options-connected.png') });
  const firstRelay = profile.relay();
  expect(firstRelay, 'the host started a relay').not.toBeNull();

  // 2. An account added there backs up (its first run comes about a minute after it is added:
  // the relay's clock is moved past it rather than waiting).
  await addMailbox(options, { email: 'alice@example.org', displayName: 'Alice', username: MAIL_USER.name, port: dovecot.port, password: MAIL_USER.password });
  const popup = await browser.open('popup.html');
  const card = popup.getByTestId('account-card');
  await expect(card).toHaveCount(1);
  profile.advanceRelayClock(2 * 60_000);
  await expect(card).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(card.getByTestId('status-label')).toHaveAttribute('data-current', 'true');
  const first = (await profile.status()).accounts[0]!;
  expect(first).toMatchObject({ statusId: 'completed', messages: 5 });

  // 3. The browser closes; the relay alone runs the next scheduled backup (every 24 hours by
  // default: the relay's clock moves a day on).
  await browser.context.close();
  await addMail(3, 2);
  profile.advanceRelayClock(25 * HOUR);
  await expect
    .poll(async () => (await profile!.status()).accounts[0], { timeout: 90_000, intervals: [1_000] })
    .toMatchObject({ statusId: 'completed', messages: 8 });
  const whileClosed = (await profile.status()).accounts[0]!;
  expect(Date.parse(whileClosed.lastSuccessAt!)).toBeGreaterThan(Date.parse(first.lastSuccessAt!));
  expect(profile.relay()?.pid, 'the same relay, alive with the browser closed').toBe(firstRelay!.pid);

  // 4. Reopened, the popup shows the backup that ran while the browser was closed.
  browser = await profile.launch();
  const popup2 = await browser.open('popup.html');
  const card2 = popup2.getByTestId('account-card');
  await expect(card2.getByTestId('last-backup')).toHaveAttribute('data-at', String(Date.parse(whileClosed.lastSuccessAt!)), { timeout: 30_000 });
  await expect(card2.getByTestId('last-backup')).toContainText('8 messages');
  await expect(card2.getByTestId('status-label')).toHaveAttribute('data-current', 'true');
  // The dashboard lists the relay's runs: the first one and the one made with the browser closed.
  const history = await browser.open('dashboard.html#tab=backup');
  await expect(history.locator('[data-testid=run-row][data-status=completed]')).toHaveCount(2);
  await history.close();

  // 5. The relay is killed (and, for the moment, the host cannot start it): every page says it is
  // not reachable within seconds, and shows nothing as current.
  const pages = { popup: popup2, dashboard: await browser.open('dashboard.html'), options: await browser.open('options.html') };
  fs.writeFileSync(profile.blockFile, '');
  process.kill(profile.relay()!.pid, 'SIGKILL');
  for (const [name, page] of Object.entries(pages)) {
    await expect(page.getByTestId('relay-unreachable'), name).toBeVisible({ timeout: 10_000 });
    await expect(page.getByTestId('relay-unreachable-line'), name).toContainText(/^As of (\d{1,2} \w{3}( \d{4})?, )?\d\d:\d\d \(.+\), relay not reachable\.$/);
    await expectNothingCurrent(page);
  }
  await expect(pages.popup.getByTestId('as-of')).toContainText('last known, as of');
  await expect(pages.popup.getByTestId('hint-last-known')).toBeVisible(); // "Your mail is backed up." is not said as current
  await pages.popup.screenshot({ path: test.info().outputPath('popup-relay-killed.png') });
  await pages.options.screenshot({ path: test.info().outputPath('options-relay-killed.png') });
  await expect(pages.dashboard.locator('[data-testid=job-row] [data-testid=status-label]')).toHaveAttribute('data-current', 'false');

  // 6. The host works again: the extension starts the relay through it, with no code, by itself.
  fs.rmSync(profile.blockFile);
  for (const [name, page] of Object.entries(pages)) {
    await expect(page.getByTestId('relay-unreachable'), name).toHaveCount(0, { timeout: 45_000 });
  }
  const relaunched = profile.relay();
  expect(relaunched).not.toBeNull();
  expect(relaunched!.pid).not.toBe(firstRelay!.pid);
  await expect(pages.options.getByTestId('relay-state')).toHaveAttribute('data-state', 'connected');
  await expect(pages.popup.getByTestId('status-label')).toHaveAttribute('data-current', 'true');
  await browser.context.close();
});
