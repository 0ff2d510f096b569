/// <reference types="chrome" />
/**
 * What is in my backup, end to end (issue 13): the built extension, the real relay and a real
 * Dovecot. After two backups, with two messages deleted on the server between them, the dashboard's
 * History shows both runs (new messages, messages gone from the server), the archive's totals and
 * the chart; the popup card says the same totals in one line; axe finds nothing on the dashboard in
 * either theme; with the relay stopped, the history stays, marked as last known with its age.
 */
import AxeBuilder from '@axe-core/playwright';
import { test, expect, type Page } from '@playwright/test';
import { MAIL_USER, addMailbox, pairedOptions, relayWorldPerFile, worldMailbox } from './relay-world';

test.describe.configure({ mode: 'serial' });
const shared = relayWorldPerFile({ initialMessages: 12, testTimeoutMs: 120_000, setupTimeoutMs: 90_000 });

const card = (popup: Page) => popup.getByTestId('account-card');
let accountId = '';

async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

test('two backups, two messages deleted on the server in between: the dashboard shows both runs, the totals and the chart', async () => {
  const { world } = shared;
  const options = await pairedOptions(world);
  accountId = await addMailbox(options, worldMailbox(world));
  const popup = await world.open('popup.html');
  // Saving with a password starts the first backup.
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(card(popup).getByTestId('last-backup')).toContainText(/Last backup \d\d:\d\d, (just now|\d+ minutes? ago)/);
  const first = await card(popup).getByTestId('last-backup').getAttribute('data-at');

  const imap = await world.dovecot.client(MAIL_USER.name, MAIL_USER.password);
  await imap.mailboxOpen('INBOX');
  await imap.messageDelete('1:2', { uid: true });
  await imap.logout();
  await world.addMail(3, 77);
  await card(popup).getByRole('button', { name: 'Back up now' }).click();
  await expect(card(popup).getByTestId('last-backup')).not.toHaveAttribute('data-at', first ?? '', { timeout: 60_000 });
  await expect(card(popup)).toHaveAttribute('data-status', 'completed');
  // The card's one line: 12 + 3 messages kept (the 2 deleted ones stay in the archive).
  await expect(card(popup).getByTestId('archive-totals')).toContainText(/15 messages in \d+ folders?, [\d.]+ KB/, { timeout: 15_000 });
  await popup.setViewportSize({ width: 420, height: 400 });
  await popup.screenshot({ path: test.info().outputPath('popup-card-totals.png') });

  const dashboard = await world.open('dashboard.html');
  const history = dashboard.getByTestId('account-history');
  await expect(history).toHaveCount(1);
  const rows = history.getByTestId('history-run');
  await expect(rows).toHaveCount(2, { timeout: 15_000 });
  await expect(rows.nth(0)).toHaveAttribute('data-status', 'completed');
  await expect(rows.nth(0).getByTestId('history-new')).toHaveText('3');
  await expect(rows.nth(0).getByTestId('history-gone')).toHaveText('2');
  await expect(rows.nth(1).getByTestId('history-new')).toHaveText('12');
  await expect(rows.nth(1).getByTestId('history-gone')).toHaveText('0');
  await expect(rows.nth(0).getByTestId('history-outcome')).toHaveText('Completed');
  await expect(history.getByTestId('history-totals')).toContainText(/In the archive: 15 messages in \d+ folders?/);
  await expect(history.getByTestId('history-last-backup')).toContainText(/Last backup \d\d:\d\d, (just now|\d+ minutes? ago)/);
  const chart = history.getByTestId('history-chart');
  await expect(chart).toHaveAttribute('data-marks', '2');
  await expect(chart.locator('rect.mark[data-severity=ok]')).toHaveCount(2);
  await expect(chart.getByRole('img')).toHaveAccessibleName(/Archive growth and backup outcomes of Alice/);
  await expect(chart.locator('desc')).toContainText('2 backup runs');
  await expect(chart.locator('desc')).toContainText('2 Completed');
});

for (const colorScheme of ['light', 'dark'] as const) {
  test(`the History section in the ${colorScheme} theme: axe finds nothing on the dashboard; screenshot saved`, async () => {
    const dashboard = await shared.world.open('dashboard.html');
    await dashboard.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await expect(dashboard.getByTestId('history-chart')).toBeVisible({ timeout: 15_000 });
    expect(await violations(dashboard), `dashboard (${colorScheme})`).toEqual([]);
    const file = test.info().outputPath(`history-${colorScheme}.png`);
    await dashboard.getByTestId('history-section').screenshot({ path: file });
    await test.info().attach(`history-${colorScheme}`, { path: file, contentType: 'image/png' });
  });
}

test('with the relay stopped the history stays, marked as last known with its age', async () => {
  const { world } = shared;
  const dashboard = await world.open('dashboard.html');
  await expect(dashboard.getByTestId('history-run')).toHaveCount(2);
  await world.relay.stop();
  await expect(dashboard.getByTestId('history-as-of')).toContainText(/Last known, as of \d\d:\d\d \((just now|\d+ minutes? ago)\)/, { timeout: 30_000 });
  await expect(dashboard.getByTestId('history-run')).toHaveCount(2);
  await expect(dashboard.getByTestId('history-totals')).toContainText('15 messages');
  expect(await violations(dashboard), 'dashboard, relay stopped').toEqual([]);
  await dashboard.getByTestId('history-section').screenshot({ path: test.info().outputPath('history-relay-stopped.png') });
});
