/**
 * The popup shows a migration started from the Migrate page while it runs (the page queues it in
 * the store; the service worker runs it and follows its events into the row), with its progress,
 * and drops it when it ends. Real relay, two real Dovecot servers, Chromium with the built extension.
 */
import { test, expect, type Page } from '@playwright/test';
import { startDovecot, type Dovecot } from '../support/dovecot.ts';
import { MAIL_USER, startWorld, worldAvailable, type World } from './relay-world';

test.skip(!worldAvailable(), 'Dovecot is not installed (under CI this fails instead)');
test.setTimeout(90_000);

const INITIAL = 30;
const DEST = { name: 'bob', password: 'bob-E2E-popup-pw' };
let world: World;
let dest: Dovecot;

test.beforeAll(async () => {
  test.setTimeout(60_000);
  world = await startWorld(INITIAL);
  dest = await startDovecot({ users: [DEST] });
});
test.afterAll(async () => {
  await world?.close();
  await dest?.stop();
});

async function addAccount(options: Page, user: string, port: number, password: string): Promise<void> {
  await options.goto(options.url().replace(/#.*$/, '#new'));
  await options.locator('#f-email').fill(`${user}@example.org`);
  await options.locator('#f-displayName').fill(user);
  await options.locator('#f-username').fill(user);
  await options.locator('#f-host').fill('127.0.0.1');
  await options.locator('#f-port').fill(String(port));
  await options.locator('#f-security').selectOption('none');
  await options.locator('#f-password').fill(password);
  await options.getByRole('button', { name: 'Save' }).click();
  await expect(options.getByTestId('relay-note')).toContainText('keeps the password');
}

test('a migration started on the Migrate page shows in the popup with its progress while it runs, and goes when it ends', async () => {
  const options = await world.open('options.html#new');
  await options.locator('#pair-port').fill(String(world.relay.port));
  await options.locator('#pair-code').fill(world.relay.pairingCode);
  await options.getByRole('button', { name: 'Pair' }).click();
  await expect(options.getByTestId('pair-result')).toHaveAttribute('data-ok', 'true');
  await addAccount(options, MAIL_USER.name, world.proxy.port, MAIL_USER.password);
  await addAccount(options, DEST.name, dest.port, DEST.password);
  const popup = await world.open('popup.html');
  await expect(popup.locator(`[data-testid=account-card][data-status=completed]`)).toHaveCount(2, { timeout: 30_000 });

  const page = await world.open('migrate.html');
  await page.getByTestId('migrate-source').selectOption({ label: `${MAIL_USER.name} (127.0.0.1)` });
  await page.getByTestId('migrate-destination').selectOption({ label: `${DEST.name} (127.0.0.1)` });
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
