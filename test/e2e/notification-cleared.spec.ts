/// <reference types="chrome" />
/**
 * A notification says what is true now, or goes: Authentication Error raised twice for the same
 * account is one notification (replaced, not stacked), and once the password is fixed and the
 * account backs up fine again it is taken off the screen. The built extension in Chromium, the
 * real relay and a real Dovecot.
 */
import { test, expect, type Page } from '@playwright/test';
import { sendToWorker } from './fixtures';
import { relayJobRecords } from '../support/relay-jobs-record.ts';
import { addMailbox, pairedOptions, relayWorldPerFile, worldMailbox } from './relay-world';

test.describe.configure({ mode: 'serial' });
const shared = relayWorldPerFile({ initialMessages: 5, testTimeoutMs: 120_000, setupTimeoutMs: 90_000 });

const card = (popup: Page) => popup.getByTestId('account-card');
const editNotes = (page: Page, accountId: string) =>
  page.evaluate(async (id) => Object.keys(await chrome.notifications.getAll()).filter((n) => n.startsWith(`mailkeep|edit|${encodeURIComponent(id)}|`)), accountId);

test('Authentication Error twice is one notification; after the password is fixed and a backup completes it is gone', async () => {
  const { world } = shared;
  const options = await pairedOptions(world);
  const accountId = await addMailbox(options, worldMailbox(world));
  const popup = await world.open('popup.html');
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });

  await world.setServerPassword('changed-on-the-server-42');
  await card(popup).getByRole('button', { name: 'Back up now' }).click();
  await expect(card(popup)).toHaveAttribute('data-status', 'authentication_error', { timeout: 20_000 });
  await expect.poll(() => editNotes(popup, accountId)).toHaveLength(1);
  const first = (await editNotes(popup, accountId))[0];

  // A second refusal of the same account: the same notification, updated, not a second one.
  await sendToWorker(popup, { type: 'backup-now', accountId });
  const refused = () => relayJobRecords(world.dataDir).filter((j) => j.kind === 'backup' && j.status === 'authentication_error').length;
  await expect.poll(refused, { timeout: 20_000 }).toBe(2);
  await expect(card(popup)).toHaveAttribute('data-status', 'authentication_error');
  await expect.poll(() => editNotes(popup, accountId)).toEqual([first]);

  await options.goto(options.url().replace(/#.*$/, `#account=${encodeURIComponent(accountId)}`));
  await options.locator('#f-password').waitFor();
  await options.locator('#f-password').fill('changed-on-the-server-42');
  await options.getByRole('button', { name: 'Save' }).click();
  await expect(options.getByTestId('saved')).toBeVisible();
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
  await expect.poll(() => editNotes(popup, accountId), { timeout: 15_000 }).toEqual([]);
  await expect.poll(() => popup.evaluate(async () => Object.keys(await chrome.notifications.getAll()))).toEqual([]);
});
