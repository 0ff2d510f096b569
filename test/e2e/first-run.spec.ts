/// <reference types="chrome" />
/**
 * The first run, in order, in real Chromium with the real `mailkeep native-host`, the relay it
 * starts and a real Dovecot: a fresh extension opens the Welcome page by itself; while the host is
 * not installed step 1 shows the one command and every empty page leads there; once the host is
 * installed step 1 turns green with no reload; the mailbox is added on the same page; the first
 * backup's progress shows while it runs, then how many messages are backed up. Axe in light and
 * dark at each step, keyboard, screenshots.
 */
import fs from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startSlowProxy, type SlowProxy } from '../support/slow-proxy.ts';
import { NATIVE_HOST_NAME } from '../../lib/protocol/native-host.ts';
import { MAIL_USER } from './relay-world';
import { hostedProfile, type HostedProfile } from './native-host-world';

const MESSAGES = 60;

test.skip(!dovecotAvailable(), 'Dovecot is not installed (under CI this fails instead)');
test.setTimeout(300_000);

let dovecot: Dovecot | undefined;
let proxy: SlowProxy | undefined;
let profile: HostedProfile | undefined;

test.afterAll(async () => {
  proxy?.close();
  await profile?.cleanUp();
  await dovecot?.stop();
});

async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** Axe in both themes, and a full-page screenshot of each, named after the step. */
async function axeAndShoot(page: Page, name: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    expect(await violations(page), `${name} (${colorScheme})`).toEqual([]);
    const file = test.info().outputPath(`welcome-${name}-${colorScheme}.png`);
    await page.screenshot({ path: file, fullPage: true });
    await test.info().attach(`welcome-${name}-${colorScheme}.png`, { path: file, contentType: 'image/png' });
  }
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
}

/** The Welcome tab the install opened by itself (it may already be open when we look). */
async function welcomeTab(context: BrowserContext): Promise<Page> {
  const isWelcome = (p: Page) => p.url().endsWith('/welcome.html');
  await expect.poll(() => context.pages().some(isWelcome), { timeout: 20_000 }).toBe(true);
  return context.pages().find(isWelcome)!;
}

test('a fresh extension leads through connecting the relay, adding a mailbox and the first backup, on one page that follows each step live', async () => {
  dovecot = await startDovecot({ users: [MAIL_USER] });
  const imap = await dovecot.client(MAIL_USER.name, MAIL_USER.password);
  for (const raw of generatedMessages(MESSAGES, 7)) await imap.append('INBOX', raw, []);
  await imap.logout();
  proxy = await startSlowProxy(dovecot.port);
  profile = hostedProfile();
  // Not installed yet: the host's manifest is not where Chromium looks (as before `mailkeep install`).
  const manifest = `${profile.userDataDir}/NativeMessagingHosts/${NATIVE_HOST_NAME}.json`;
  fs.renameSync(manifest, `${manifest}.later`);

  const browser = await profile.launch();
  const { context } = browser;
  // 1. The install opened the Welcome page by itself, at step 1, with the one command to run.
  const welcome = await welcomeTab(context);
  await expect(welcome.getByRole('heading', { name: 'Welcome to Mailkeep' })).toBeVisible();
  const relayStep = welcome.getByTestId('step-relay');
  await expect(relayStep).toHaveAttribute('data-state', 'current');
  await expect(welcome.getByTestId('step-relay-text')).toContainText('not installed for this browser yet', { timeout: 30_000 });
  await expect(welcome.getByTestId('install-command')).toHaveText('npm start');
  await expect(welcome.getByTestId('step-mailbox')).toHaveAttribute('data-state', 'locked');
  await expect(welcome.getByTestId('step-backup')).toHaveAttribute('data-state', 'locked');
  await expect(welcome.getByTestId('account-form')).toHaveCount(0);
  await expect(welcome.getByTestId('first-run')).toHaveAttribute('data-current', 'relay');
  // The copy button works from the keyboard (the browser accepted the write: "Copied.").
  await welcome.getByRole('button', { name: 'Copy the command npm start' }).focus();
  await welcome.keyboard.press('Enter');
  await expect(welcome.getByTestId('copy-result')).toHaveText('Copied.');
  await axeAndShoot(welcome, '1-connect-the-relay');

  // Every empty page leads to the relay first: the popup and the dashboard's tabs.
  const popup = await browser.open('popup.html');
  await expect(popup.getByTestId('empty-state')).toHaveAttribute('data-next', 'connect-relay');
  await expect(popup.getByRole('button', { name: 'Add a mailbox' }), 'not before the relay answers, not even in the header').toHaveCount(0);
  const [fromPopup] = await Promise.all([context.waitForEvent('page'), popup.getByTestId('empty-state').getByRole('button', { name: 'Connect the relay' }).click()]);
  await expect(fromPopup).toHaveURL(/\/welcome\.html$/);
  await expect(fromPopup.getByTestId('first-run')).toHaveAttribute('data-current', 'relay');
  await fromPopup.close();
  const dashboard = await browser.open('dashboard.html');
  for (const tab of ['Backup', 'Download', 'Restore', 'Migrate']) {
    await dashboard.getByRole('tab', { name: tab }).click();
    await expect(dashboard.getByTestId('no-jobs'), tab).toHaveAttribute('data-next', 'connect-relay');
    await expect(dashboard.getByTestId('no-jobs'), tab).not.toContainText('No jobs match');
  }

  // 2. `mailkeep install` registers the host: step 1 turns green by itself, no reload.
  fs.renameSync(`${manifest}.later`, manifest);
  await expect(relayStep).toHaveAttribute('data-state', 'done', { timeout: 45_000 });
  await expect(welcome.getByTestId('step-relay-text')).toContainText('Connected');
  await expect(welcome.getByTestId('step-mailbox')).toHaveAttribute('data-state', 'current');
  await expect(welcome.getByTestId('first-run')).toHaveAttribute('data-current', 'mailbox');
  expect(profile.relay(), 'the host started a relay').not.toBeNull();
  await expect(popup.getByTestId('empty-state')).toHaveAttribute('data-next', 'add-mailbox');
  await expect(popup.getByRole('button', { name: 'Add a mailbox' })).toHaveCount(1);
  await expect(dashboard.getByTestId('no-jobs')).toHaveAttribute('data-next', 'add-mailbox');
  await expect(welcome.getByTestId('account-form')).toBeVisible();
  await expect(welcome.getByLabel('Email address')).toBeVisible();
  await axeAndShoot(welcome, '2-add-a-mailbox');

  // 3. The mailbox, typed from the keyboard; the server is slowed so the run can be watched.
  proxy.throttle(256);
  await welcome.getByLabel('Email address').focus();
  await welcome.keyboard.type('alice@example.org');
  await welcome.locator('#f-username').fill(MAIL_USER.name);
  await welcome.locator('#f-host').fill('127.0.0.1');
  await welcome.locator('#f-port').fill(String(proxy.port));
  await welcome.locator('#f-security').selectOption('none');
  await welcome.locator('#f-password').fill(MAIL_USER.password);
  await welcome.locator('#f-password').press('Enter');
  await expect(welcome.getByTestId('step-mailbox')).toHaveAttribute('data-state', 'done');
  await expect(welcome.getByTestId('step-mailbox-text')).toHaveText('alice@example.org is added.');
  const backupStep = welcome.getByTestId('step-backup');
  await expect(backupStep).toHaveAttribute('data-state', 'current');
  // The relay plans a new account's first run a moment after it is added: move its clock past it.
  profile.advanceRelayClock(2 * 60_000);
  await expect(welcome.getByTestId('first-backup')).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
  const bar = backupStep.getByRole('progressbar', { name: 'First backup of alice@example.org' });
  await expect(bar).toBeVisible();
  await expect(backupStep.getByTestId('status-label')).toHaveAttribute('data-current', 'true');
  await expect(welcome.getByTestId('step-backup-text')).toContainText('backing up alice@example.org now');
  await axeAndShoot(welcome, '3-first-backup-running');
  proxy.throttle(Infinity);

  // 4. Done: how many messages are backed up, and the way to the dashboard.
  await expect(backupStep).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(welcome.getByTestId('step-backup-text')).toContainText(`Your mail is backed up: ${MESSAGES} messages of alice@example.org.`);
  await expect(welcome.getByTestId('first-run')).toHaveAttribute('data-current', 'done');
  expect((await profile.status()).accounts[0]).toMatchObject({ statusId: 'completed', messages: MESSAGES });
  await axeAndShoot(welcome, '4-backed-up');

  // Reopened, the page shows the true step (all done); its link leads to the dashboard.
  await welcome.reload();
  await expect(welcome.getByTestId('first-run')).toHaveAttribute('data-current', 'done');
  await expect(welcome.getByTestId('step-backup-text')).toContainText(`${MESSAGES} messages`);
  await welcome.getByTestId('open-dashboard').click();
  await expect(welcome.getByRole('heading', { name: 'System Status' })).toBeVisible();
  await expect(welcome.locator('[data-testid=job-row][data-status=completed]')).toHaveCount(1);
  await context.close();

  // A user who has a mailbox is never shown the page unasked: a browser start is not an install.
  const again = await profile.launch();
  const page = await again.open('popup.html');
  await expect(page.getByTestId('account-card')).toHaveCount(1);
  expect(again.context.pages().filter((p) => p.url().endsWith('/welcome.html'))).toEqual([]);
  await again.context.close();
});
