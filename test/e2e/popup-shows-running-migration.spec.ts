/**
 * The popup shows a migration started from the Migrate page while it runs (the page queues it in
 * the store; the service worker runs it and follows its events into the row), with its progress,
 * and drops it when it ends. Real relay, two real Dovecot servers, Chromium with the built extension.
 */
import { test, expect } from '@playwright/test';
import { MAIL_USER, addMailbox, pairedOptions, relayWorldPerFile, worldMailbox } from './relay-world';

const INITIAL = 30;
const DEST = { name: 'bob', password: 'bob-E2E-popup-pw' };
const shared = relayWorldPerFile({ initialMessages: INITIAL, testTimeoutMs: 90_000, setupTimeoutMs: 60_000, destination: DEST });

test('a migration started on the Migrate page shows in the popup with its progress while it runs, and goes when it ends', async () => {
  const { world, dest } = shared;
  const options = await pairedOptions(world);
  await addMailbox(options, { ...worldMailbox(world, MAIL_USER.name), email: `${MAIL_USER.name}@example.org` });
  await addMailbox(options, { email: `${DEST.name}@example.org`, displayName: DEST.name, username: DEST.name, port: dest.port, password: DEST.password });
  const popup = await world.open('popup.html');
  await expect(popup.locator(`[data-testid=account-card][data-status=completed]`)).toHaveCount(2, { timeout: 30_000 });

  const page = await world.open('migrate.html');
  await page.getByTestId('migrate-source').selectOption({ label: 'alice@example.org' });
  await page.getByTestId('migrate-destination').selectOption({ label: 'bob@example.org' });
  await page.getByTestId('migrate-preview').click();
  await expect(page.getByTestId('migrate-totals')).toContainText(`${INITIAL} message(s) to copy`, { timeout: 30_000 });
  world.proxy.throttle(64); // ~2 KB/s out of the source: the copy lasts seconds
  await page.getByTestId('migrate-confirm').click();

  const source = popup.locator('[data-testid=account-card]').filter({ has: popup.locator('h2', { hasText: MAIL_USER.name }) });
  const line = source.locator('[data-testid=job-line][data-kind=migrate]');
  await expect(line).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
  await expect(line.getByTestId('progress')).toContainText(`of ${INITIAL} messages`, { timeout: 20_000 });
  await popup.screenshot({ path: test.info().outputPath('popup-migrate-running.png') });
  world.proxy.throttle(Infinity);
  await expect(page.getByTestId('migrate-result').getByTestId('status-label')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(line).toHaveCount(0, { timeout: 15_000 });
});
