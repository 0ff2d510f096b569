/**
 * Migrate from the extension, end to end: the built extension in Chromium, the real relay and two
 * real Dovecot servers. Pair, add both mailboxes on the options page (each password goes to the
 * relay once), open the Migrate page from the dashboard, preview, confirm (which queues a migrate
 * job in the store for the service worker to run), and find the mail on the destination server and
 * the migration in the dashboard's Migrate tab, read from the store.
 */
import { test, expect } from '@playwright/test';
import type { Dovecot } from '../support/dovecot.ts';
import { MAIL_USER, addMailbox, pairedOptions, relayWorldPerFile, worldMailbox } from './relay-world';

test.describe.configure({ mode: 'serial' });

const INITIAL = 12;
const DEST = { name: 'bob', password: 'bob-E2E-Migrate-pw' };
/** A destination whose 1 KB quota cannot take the 12 messages: the preview must say so before anything starts. */
const SMALL = { name: 'carol', password: 'carol-E2E-Quota-pw', quota: '1K' };
const shared = relayWorldPerFile({ initialMessages: INITIAL, testTimeoutMs: 120_000, setupTimeoutMs: 90_000, destination: DEST, destinationUsers: [SMALL] });

test('preview the folder mapping and counts, confirm, and the mail is on the destination server', async () => {
  const { world, dest } = shared;
  const options = await pairedOptions(world);
  await addMailbox(options, worldMailbox(world, MAIL_USER.name));
  await addMailbox(options, { email: 'bob@example.net', displayName: DEST.name, username: DEST.name, port: dest.port, password: DEST.password });

  const dashboard = await world.open('dashboard.html#tab=migrate');
  await dashboard.getByTestId('open-migrate').click();
  await expect(dashboard).toHaveURL(/migrate\.html$/);
  const page = dashboard;
  await page.getByTestId('migrate-source').selectOption({ label: 'alice@example.org' });
  await page.getByTestId('migrate-destination').selectOption({ label: 'bob@example.net' });
  await page.getByTestId('migrate-preview').click();
  await expect(page.getByTestId('migrate-plan')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('migrate-totals')).toContainText(`${INITIAL} message(s) to copy`);
  await expect(page.getByTestId('migrate-plan')).toContainText('INBOX');
  await page.screenshot({ path: test.info().outputPath('migrate-preview.png') });
  // The preview wrote nothing.
  expect(await count(dest)).toBe(0);

  await page.getByTestId('migrate-confirm').click();
  await expect(page.getByTestId('migrate-result').getByTestId('status-label')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(page.getByTestId('migrate-result')).toContainText(`${INITIAL} copied, 0 not copied`);
  await expect(page.getByTestId('migrate-hint')).toContainText('All messages are in the destination account.');
  expect(await count(dest)).toBe(INITIAL);

  // The dashboard's Migrate tab lists the migration from the store (not the previews) with its counts.
  const tab = await world.open('dashboard.html#tab=migrate');
  await expect(tab.getByTestId('job-row')).toHaveCount(1);
  await expect(tab.getByTestId('job-row')).toHaveAttribute('data-status', 'completed');
  await expect(tab.getByTestId('job-row').getByTestId('job-scope')).toHaveText(`to bob@example.net: ${INITIAL} copied, 0 not copied, 0 already there`);
  await expect(tab.getByTestId('job-row')).toContainText('All messages are in the destination account.');

  // Again: the preview finds everything there and offers nothing to copy.
  await page.getByTestId('migrate-preview').click();
  await expect(page.getByTestId('migrate-totals')).toContainText(`0 message(s) to copy (0 bytes), ${INITIAL} already in the destination`, { timeout: 30_000 });
  await expect(page.getByTestId('migrate-confirm')).toBeDisabled();
});

test('the preview warns, before starting, that the mail will not fit the destination’s quota, with both sizes', async () => {
  const { world, dest } = shared;
  const options = await world.open('options.html');
  await addMailbox(options, { email: 'carol@example.net', displayName: SMALL.name, username: SMALL.name, port: dest.port, password: SMALL.password });
  const page = await world.open('migrate.html');
  await page.getByTestId('migrate-source').selectOption({ label: 'alice@example.org' });
  await page.getByTestId('migrate-destination').selectOption({ label: 'carol@example.net' });
  await page.getByTestId('migrate-preview').click();
  await expect(page.getByTestId('migrate-plan')).toBeVisible({ timeout: 30_000 });
  const warning = page.getByTestId('migrate-quota-warning');
  await expect(warning).toBeVisible();
  await expect(warning).toHaveAttribute('role', 'alert');
  await expect(warning).toContainText(/Will not fit: \d+\.\d KB to copy, 1\.0 KB free on the destination\. The migration would stop when the destination is full/);
  expect(Number(await warning.getAttribute('data-to-copy'))).toBeGreaterThan(Number(await warning.getAttribute('data-free')));
  await page.screenshot({ path: test.info().outputPath('migrate-quota-warning.png') });
  // A warning, not a refusal: nothing was copied by the preview, and the user may still go on.
  expect(await count(dest, SMALL)).toBe(0);
  await expect(page.getByTestId('migrate-confirm')).toBeEnabled();
});

async function count(dc: Dovecot, user: { name: string; password: string } = DEST): Promise<number> {
  const c = await dc.client(user.name, user.password);
  try {
    const st = await c.status('INBOX', { messages: true });
    return st ? (st.messages ?? 0) : 0;
  } finally {
    await c.logout();
  }
}
