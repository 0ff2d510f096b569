/// <reference types="chrome" />
import { errorHint } from '../../lib/status/error-hints.ts';
import { rowAdvice } from '../../lib/status/row-advice.ts';
import { restoreCompletedHint } from '../../lib/status/restore-statuses.ts';
import type { JobKind } from '../../lib/protocol/status-ids.ts';
import { test, expect, sendToWorker, readBadge, cspViolations, rgba } from './fixtures';
import { JOB_KINDS, statusInfo, statusesOf } from '../../lib/status/catalog.ts';
import { BADGE_HEX } from '../../lib/status/badge.ts';
import { EXTENSION_ID } from '../../lib/extension-identity.ts';
import { allStatusesSeed, backupAccountName, EXPECTED_RED_ACCOUNTS, PROMPT_TEXT, TRANSFERS } from './seed-all-statuses';

/**
 * The hint a seeded row shows (no error, no retry time): its status's hint, less the advice the
 * Condition column beside it gives. These pages have no relay, so every status is its last known
 * one: a run in progress says nothing confirms it goes on (relayLive false). A Completed restore says what it covered: the seeded restores
 * ask for the whole archive (params {}), so "All archived messages".
 */
const hintOf = (kind: JobKind, status: string, conditionShown: boolean): string =>
  kind === 'restore' && status === 'completed'
    ? restoreCompletedHint({}, 'UTC')
    : rowAdvice({ kind, status, lastErrorCode: null, message: null, lastSuccessAt: null, nextRetryAt: null, conditionShown, relayLive: false }, { now: 0, timeZone: 'UTC' }).hint;
const expectHint = async (hint: import('@playwright/test').Locator, text: string) => (text ? expect(hint).toHaveText(text) : expect(hint).toHaveCount(0));

const TAB = { backup: 'Backup', download: 'Download', restore: 'Restore', migrate: 'Migrate' } as const;

test.describe('every status of the specification in the popup, the dashboard and the badge', () => {
  test.beforeEach(async ({ openExtensionPage }) => {
    const page = await openExtensionPage('popup.html');
    const reply = await sendToWorker<{ ok: boolean; message?: string }>(page, { type: 'dev:seed', accounts: allStatusesSeed() });
    expect(reply, JSON.stringify(reply)).toMatchObject({ ok: true });
    await page.close();
  });

  test('runs under the pinned extension ID', async ({ extensionId }) => {
    expect(extensionId).toBe(EXTENSION_ID);
  });

  test('the popup shows each backup status with its label, colour and hint, and active jobs of the other kinds', async ({ openExtensionPage }, testInfo) => {
    const page = await openExtensionPage('popup.html');
    await page.setViewportSize({ width: 420, height: 600 });
    for (const status of statusesOf('backup')) {
      const info = statusInfo('backup', status);
      const card = page.locator(`[data-testid=account-card][data-status=${status}]`);
      await expect(card).toHaveCount(status === 'completed' ? 2 : 1); // Transfers is Completed too
      const own = card.filter({ hasText: backupAccountName(status) });
      await expect(own.locator('h2')).toHaveText(backupAccountName(status));
      await expect(own.locator(':scope > .card-head [data-testid=status-label]')).toHaveText(info.label);
      await expectHint(own.locator(':scope > [data-testid=status-hint] [data-testid=hint-text]'), hintOf('backup', status, false));
      await expect(own.locator(':scope > .card-head .pill')).toHaveClass(new RegExp(`tone-${info.severity}`));
    }
    // No relay runs here, so every status is only the last one known: marked so with its age, and
    // the running card shows no bar (a bar says "moving now"; with a relay, relay-backup.spec.ts).
    await expect(page.getByTestId('relay-unreachable')).toBeVisible();
    await expect(page.locator('[data-testid=status-label][data-current=true]')).toHaveCount(0);
    const running = page.locator('[data-testid=account-card][data-status=running]');
    await expect(running.locator('[role=progressbar]')).toHaveCount(0);
    await expect(running.locator(':scope > .card-head [data-testid=as-of]')).toContainText('last known, not confirmed by the relay yet');
    // Completed: last backup time, relative, absolute on hover.
    const completed = page.locator('[data-testid=account-card][data-status=completed]').filter({ hasText: backupAccountName('completed') });
    await expect(completed.locator('[data-testid=last-backup]')).toContainText(/Last backup (\d+ \w+, )?\d\d:\d\d, (just now|\d+ minutes? ago)/);
    await expect(completed.locator('[data-testid=relative-time]')).toHaveAttribute('title', /\d/);
    // Actions offered by status.
    await expect(page.locator('[data-testid=account-card][data-status=authentication_error] > [data-testid=status-hint] [data-action=edit]')).toHaveCount(1);
    await expect(page.locator('[data-testid=account-card][data-status=deactivated] [data-action=enable]')).toHaveCount(1);
    await expect(page.locator('[data-testid=account-card][data-status=retrying] [data-action=retry]')).toHaveCount(1);
    await expect(page.locator('[data-testid=account-card][data-status=connection_error] [data-action=copy-diagnostics]')).toHaveCount(1);
    await expect(page.locator('[data-testid=account-card][data-status=connection_error] [data-action=report]')).toHaveAttribute('href', 'https://github.com/mailkeep/mailkeep/issues');

    const transfers = page.locator('[data-testid=account-card]').filter({ has: page.locator('h2', { hasText: TRANSFERS }) });
    for (const kind of JOB_KINDS.filter((k) => k !== 'backup')) {
      for (const status of statusesOf(kind)) {
        const info = statusInfo(kind, status);
        const line = transfers.locator(`[data-testid=job-line][data-kind=${kind}][data-status=${status}]`);
        const worthShowing = !info.terminal || info.severity === 'warning' || info.severity === 'error';
        await expect(line, `${kind}/${status}`).toHaveCount(worthShowing ? 1 : 0);
        if (!worthShowing) continue;
        await expect(line.locator('[data-testid=status-label]')).toHaveText(info.label);
        await expectHint(line.locator('[data-testid=hint-text]'), hintOf(kind, status, false));
      }
    }
    expect(await cspViolations(page)).toEqual([]);
    await page.screenshot({ path: testInfo.outputPath('popup.png'), fullPage: true });
  });

  test('the dashboard shows every status of every kind with the spec words, hint and filters', async ({ openExtensionPage }, testInfo) => {
    const page = await openExtensionPage('dashboard.html');
    await expect(page.getByRole('heading', { name: 'System Status' })).toBeVisible();
    await expect(page.locator('table th')).toContainText(['Account', 'Status Name', 'Condition']);
    for (const kind of JOB_KINDS) {
      await page.getByRole('tab', { name: TAB[kind] }).click();
      await expect(page.getByRole('tab', { name: TAB[kind] })).toHaveAttribute('aria-selected', 'true');
      for (const status of statusesOf(kind)) {
        const info = statusInfo(kind, status);
        const row = page.locator(`[data-testid=job-row][data-status=${status}]`).first();
        await expect(row.locator('[data-testid=status-label]'), `${kind}/${status}`).toHaveText(info.label);
        await expect(row.locator('[data-testid=condition]')).toHaveText(info.condition);
        await expectHint(row.locator('[data-testid=hint-text]'), hintOf(kind, status, true));
      }
      await page.screenshot({ path: testInfo.outputPath(`dashboard-${kind}.png`), fullPage: true });
    }
    // Filters: status, then account.
    await page.getByRole('tab', { name: 'Backup' }).click();
    await expect(page.locator('[data-testid=job-row]')).toHaveCount(statusesOf('backup').length + 1);
    await page.getByTestId('filter-status').selectOption('authentication_error');
    await expect(page.locator('[data-testid=job-row]')).toHaveCount(1);
    await page.getByTestId('filter-status').selectOption('');
    await page.getByRole('tab', { name: 'Download' }).click();
    // Accounts are listed by address after the name a person chose (lib/account-label.ts).
    const optionOf = async (name: string) => (await page.locator('[data-testid=filter-account] option', { hasText: `${name} · ` }).getAttribute('value'))!;
    await page.getByTestId('filter-account').selectOption(await optionOf(backupAccountName('running')));
    await expect(page.getByTestId('no-jobs')).toBeVisible();
    await page.getByTestId('filter-account').selectOption({ label: 'transfers@example.org' }) // "Transfers" adds nothing to its address;
    await expect(page.locator('[data-testid=job-row]')).toHaveCount(statusesOf('download').length);
    expect(await cspViolations(page)).toEqual([]);
  });

  test('the badge is red with the number of accounts in error, and its tooltip names them', async ({ openExtensionPage }) => {
    const page = await openExtensionPage('popup.html');
    await expect.poll(async () => (await readBadge(page)).text).toBe(String(EXPECTED_RED_ACCOUNTS));
    const badge = await readBadge(page);
    expect(badge.colour).toEqual(rgba(BADGE_HEX.red));
    expect(badge.title).toContain(`${backupAccountName('authentication_error')}: Backup Authentication Error`);
    expect(badge.title).toContain(`${backupAccountName('connection_error')}: Backup Connection Error`);
    expect(badge.title).toContain(`${backupAccountName('running')}: Backup In Progress / Running 30%`);
  });

  test('Edit on an Authentication Error card opens that account in the options page', async ({ context, openExtensionPage }) => {
    const page = await openExtensionPage('popup.html');
    const card = page.locator('[data-testid=account-card][data-status=authentication_error]');
    const accountId = await card.getAttribute('data-account-id');
    expect(accountId).toBeTruthy();
    const [options] = await Promise.all([context.waitForEvent('page'), card.locator('[data-action=edit]').click()]);
    await options.waitForLoadState();
    expect(new URL(options.url()).pathname).toBe('/options.html');
    expect(new URL(options.url()).hash).toBe(`#account=${accountId}`);
    await expect(options.getByRole('heading', { name: `Edit ${backupAccountName('authentication_error')}` })).toBeVisible();
    await expect(options.locator('#f-email')).toHaveValue('user4@example.org');
  });

  test('Retry now and Enable are commands to the relay: with none, the card says why and its last known status stays', async ({ openExtensionPage }) => {
    const page = await openExtensionPage('popup.html');
    const deactivated = page.locator('[data-testid=account-card]').filter({ has: page.locator('h2', { hasText: backupAccountName('deactivated') }) });
    await deactivated.locator('[data-action=enable]').click();
    await expect(deactivated.getByRole('status')).toHaveText(errorHint('RELAY_UNPAIRED')!);
    await expect(deactivated).toHaveAttribute('data-status', 'deactivated');
    const failing = page.locator('[data-testid=account-card]').filter({ has: page.locator('h2', { hasText: backupAccountName('connection_error') }) });
    await failing.locator('[data-action=retry]').click();
    await expect(failing.getByRole('status')).toHaveText(errorHint('RELAY_UNPAIRED')!);
    await expect(failing).toHaveAttribute('data-status', 'connection_error');
  });

  test('an open prompt shows on its account card; Restore first needs the relay for its dry run (none here: it says so, queues nothing); Dismiss hides it', async ({ openExtensionPage }) => {
    const page = await openExtensionPage('popup.html');
    const card = page.locator('[data-testid=account-card]').filter({ has: page.locator('h2', { hasText: backupAccountName('completed') }) });
    await expect(card.getByTestId('prompt')).toContainText(PROMPT_TEXT);
    await expect(card.locator('[data-testid=job-line]')).toHaveCount(0);
    await card.getByTestId('prompt').getByRole('button', { name: 'Restore' }).click();
    await expect(card.getByTestId('prompt-problem')).toContainText('not paired with the relay');
    await expect(card.locator('[data-testid=job-line]')).toHaveCount(0);
    await card.getByTestId('prompt').getByRole('button', { name: 'Dismiss' }).click();
    await expect(card.getByTestId('prompt')).toHaveCount(0);
  });

  test('Copy diagnostics puts a redacted report on the clipboard', async ({ openExtensionPage }) => {
    const page = await openExtensionPage('popup.html');
    const card = page.locator('[data-testid=account-card][data-status=connection_error]');
    await card.locator('[data-action=copy-diagnostics]').click();
    await expect(card.getByRole('status')).toHaveText('Diagnostics copied. Paste them into your report.');
    // Reading needs a permission the extension does not ask for; a person's paste does not.
    await page.evaluate(() => {
      const area = document.createElement('textarea');
      area.id = 'paste-here';
      document.body.append(area);
    });
    await page.locator('#paste-here').focus();
    await page.keyboard.press('ControlOrMeta+V');
    const text = await page.locator('#paste-here').inputValue();
    const report = JSON.parse(text) as { reportTo: string; jobs: { status: string; lastErrorCode: string | null }[] };
    expect(report.reportTo).toBe('https://github.com/mailkeep/mailkeep/issues');
    expect(report.jobs).toContainEqual(expect.objectContaining({ status: 'connection_error', lastErrorCode: 'CONNECTION_REFUSED' }));
    expect(text).not.toContain('@example.org');
    expect(text).not.toContain(backupAccountName('connection_error'));
  });
});

