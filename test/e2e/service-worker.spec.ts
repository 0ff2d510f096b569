/// <reference types="chrome" />
import { test, expect, sendToWorker, readBadge, stopServiceWorkers, currentServiceWorker, rgba } from './fixtures';
import { BADGE_HEX } from '../../lib/status/badge.ts';
import { accountForm } from './seed-all-statuses';

test('after Chromium stops the service worker, the next wake recomputes the badge from the store', async ({ context, serviceWorker, openExtensionPage }) => {
  const page = await openExtensionPage('popup.html');
  await sendToWorker(page, {
    type: 'dev:seed',
    accounts: [
      { form: accountForm('Work', 'work@example.org'), jobs: [{ kind: 'backup', status: 'authentication_error', errorCode: 'AUTH_FAILED' }] },
      { form: accountForm('Home', 'home@example.org'), jobs: [{ kind: 'backup', status: 'completed' }] },
    ],
  });
  await expect.poll(async () => (await readBadge(page)).text).toBe('1');
  await serviceWorker.evaluate(() => ((self as unknown as { __marker: number }).__marker = 1));

  await stopServiceWorkers(context, page);
  // A stale badge, as if something outside the store had changed it: only a recompute fixes it.
  await page.evaluate(async () => {
    await chrome.action.setBadgeText({ text: 'X' });
    await chrome.action.setBadgeBackgroundColor({ color: '#0000ff' });
  });
  expect((await readBadge(page)).text).toBe('X');

  // 'ping' changes nothing and asks for nothing: the recompute must come from the worker's start-up.
  await expect.poll(() => sendToWorker(page, { type: 'ping' })).toEqual({ ok: true, value: null });
  await expect.poll(async () => (await readBadge(page)).text).toBe('1');
  const badge = await readBadge(page);
  expect(badge.colour).toEqual(rgba(BADGE_HEX.red));
  expect(badge.title).toContain('Work: Backup Authentication Error');
  const fresh = currentServiceWorker(context);
  expect(await fresh?.evaluate(() => (self as unknown as { __marker?: number }).__marker)).toBeUndefined();
});

test('an account entering Authentication Error raises one notification with an Edit button', async ({ openExtensionPage }) => {
  const page = await openExtensionPage('popup.html');
  await sendToWorker(page, {
    type: 'dev:seed',
    accounts: [
      { form: accountForm('Work', 'work@example.org'), jobs: [{ kind: 'backup', status: 'authentication_error', errorCode: 'AUTH_FAILED' }] },
      { form: accountForm('Home', 'home@example.org'), jobs: [{ kind: 'backup', status: 'retrying' }] },
    ],
  });
  const card = page.locator('[data-testid=account-card][data-status=authentication_error]');
  const accountId = await card.getAttribute('data-account-id');
  await expect.poll(() => page.evaluate(async () => Object.keys(await chrome.notifications.getAll()))).toHaveLength(1);
  const [id] = await page.evaluate(async () => Object.keys(await chrome.notifications.getAll()));
  // The id carries the action and the account, so a later worker can act on a click.
  expect(id).toMatch(new RegExp(`^mailkeep\\|edit\\|${accountId}\\|`));
  await sendToWorker(page, { type: 'recompute' });
  expect(await page.evaluate(async () => Object.keys(await chrome.notifications.getAll()))).toHaveLength(1);
});
