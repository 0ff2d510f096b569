/// <reference types="chrome" />
/**
 * Screenshots of the popup (1 and 20 accounts, and empty), the dashboard, the options and the
 * Welcome page in the light and the dark theme (the Welcome page's later steps: first-run.spec.ts), saved as test artefacts (test-results/, attached to the report) for a person to
 * look at. No relay runs here, so every page says so (the README's pictures come from a live relay:
 * progress-live.spec.ts).
 */
import type { Page, TestInfo } from '@playwright/test';
import type { SeedAccount } from '../../lib/background/dev-seed.ts';
import { test, expect, sendToWorker } from './fixtures';
import { accountForm, allStatusesSeed, RUNNING_PROGRESS } from './seed-all-statuses';

const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'zoe'];

/** The 19 mailboxes after alice (seeded first): most backed up, one running, one warning, one error. */
function nineteenMore(): SeedAccount[] {
  const statusOf = (i: number) => (i === 3 ? 'authentication_error' : i === 7 ? 'partially_completed' : i === 11 ? 'running' : 'completed');
  return NAMES.map((name, i) => ({ name, i })).slice(1).map(({ name, i }) => ({
    form: accountForm(`${name}@example.org`, `${name}@example.org`),
    jobs: [{ kind: 'backup', status: statusOf(i), errorCode: i === 3 ? 'AUTH_FAILED' : i === 7 ? 'FOLDER_UNREADABLE' : undefined, progress: i === 11 ? RUNNING_PROGRESS : undefined }],
  }));
}

async function seed(page: Page, accounts: SeedAccount[]): Promise<void> {
  const reply = await sendToWorker<{ ok: boolean; message?: string }>(page, { type: 'dev:seed', accounts });
  expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true });
}

async function shoot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const file = testInfo.outputPath(name);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

for (const colorScheme of ['light', 'dark'] as const) {
  test(`screenshots of the popup with 1 and with 20 accounts, the dashboard and the options (${colorScheme})`, async ({ openExtensionPage }, testInfo) => {
    const popup = await openExtensionPage('popup.html');
    await popup.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await popup.setViewportSize({ width: 400, height: 600 });
    await seed(popup, [{ form: accountForm('alice@example.org', 'alice@example.org'), jobs: [{ kind: 'backup', status: 'completed' }] }]);
    await popup.reload();
    await expect(popup.locator('[data-testid=account-card]')).toHaveCount(1);
    await shoot(popup, testInfo, `popup-1-account-${colorScheme}.png`);

    await seed(popup, nineteenMore());
    await popup.reload();
    await expect(popup.locator('[data-testid=account-card]')).toHaveCount(20);
    // Worst first: the summary and the first card answer "is my mail safe?" at a glance.
    await expect(popup.getByTestId('summary')).toContainText('1 need you');
    await expect(popup.locator('[data-testid=account-card]').first()).toHaveAttribute('data-status', 'authentication_error');
    await popup.setViewportSize({ width: 400, height: 600 });
    await popup.screenshot({ path: testInfo.outputPath(`popup-20-accounts-${colorScheme}-first-screen.png`) });

    await shoot(popup, testInfo, `popup-20-accounts-${colorScheme}.png`);

    const dashboard = await openExtensionPage('dashboard.html');
    await dashboard.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await seed(dashboard, allStatusesSeed());
    await dashboard.reload();
    await expect(dashboard.locator('[data-testid=job-row]').first()).toBeVisible();
    await shoot(dashboard, testInfo, `dashboard-${colorScheme}.png`);
    // Its first screen too (the full page of 31 accounts is very long).
    await dashboard.screenshot({ path: testInfo.outputPath(`dashboard-${colorScheme}-first-screen.png`) });


    const options = await openExtensionPage('options.html');
    await options.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await options.locator('[data-testid=account-list] a').first().click();
    await expect(options.getByRole('heading', { name: /^Edit / })).toBeVisible();
    await shoot(options, testInfo, `options-${colorScheme}.png`);

    // The Archive page says it needs the relay (its pictures with mail: archive-page.spec.ts).
    const archive = await openExtensionPage('archive.html');
    await archive.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await expect(archive.getByTestId('archive-page-problem')).toBeVisible();
    await shoot(archive, testInfo, `archive-no-relay-${colorScheme}.png`);
  });

  test(`screenshots of a first run with no relay: the Welcome page at step 1 and the empty popup (${colorScheme})`, async ({ openExtensionPage }, testInfo) => {
    const welcome = await openExtensionPage('welcome.html');
    await welcome.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await expect(welcome.getByTestId('install-command')).toBeVisible();
    await shoot(welcome, testInfo, `welcome-step-1-${colorScheme}.png`);
    const popup = await openExtensionPage('popup.html');
    await popup.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
    await popup.setViewportSize({ width: 400, height: 600 });
    await expect(popup.getByTestId('empty-state')).toHaveAttribute('data-next', 'connect-relay');
    await shoot(popup, testInfo, `popup-first-run-${colorScheme}.png`);
  });
}
