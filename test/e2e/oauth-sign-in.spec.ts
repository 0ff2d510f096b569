/// <reference types="chrome" />
/**
 * Sign in with an OAuth2 provider from the options page, end to end: the built extension in
 * Chromium, the real relay process, a real Dovecot with `passdb { driver = oauth2 }` whose
 * introspection asks the project's fake authorization server, and that server's real consent page
 * (the test clicks its Approve button in the tab the extension opened). The provider is a custom
 * provider set up on the relay (`<data dir>/oauth-providers/fake.json`, docs/oauth.md): the
 * built-in Google and Microsoft ones point at the real endpoints. One world for the file (serial).
 */
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, type BrowserContext, type Page } from '@playwright/test';
import { BADGE_HEX } from '../../lib/status/badge.ts';
import { rgba } from './fixtures';
import { badgeOf, launchExtension, verifyArchive } from './relay-world';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startFakeOAuthServer, type FakeOAuthServer } from '../support/fake-oauth-server.ts';
import { RelayProcess, tempDataDir } from '../relay/relay-harness.ts';

test.describe.configure({ mode: 'serial' });
test.skip(!dovecotAvailable(), 'Dovecot is not installed (under CI this fails instead)');
test.setTimeout(120_000);

const EMAIL = 'alice@example.com';
const ACCOUNT = 'alice-example-com';
/** Every code and token the fake server issues starts with this: the canary the last test looks for. */
const CANARY = 'CANARYtok';
const INITIAL = 30;

let as: FakeOAuthServer;
let dc: Dovecot;
let relay: RelayProcess;
let dataDir: string;
let context: BrowserContext;
let extensionId: string;

const open = async (pathAndHash: string): Promise<Page> => {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/${pathAndHash}`);
  return page;
};
const card = (popup: Page) => popup.getByTestId('account-card');

/** Clicks `trigger`, and approves on the consent page it opens in a new tab; returns that tab's final text. */
async function approveInNewTab(trigger: () => Promise<void>): Promise<{ consent: Page; text: string }> {
  const [consent] = await Promise.all([context.waitForEvent('page'), trigger()]);
  await consent.waitForURL((u) => u.href.startsWith(`${as.url}/authorize`));
  await expect(consent.locator('#user')).toHaveText(EMAIL);
  await consent.locator('#approve').click();
  // The provider sends the tab back to the relay's /oauth/callback, which says it can be closed.
  await consent.waitForURL((u) => u.pathname === '/oauth/callback');
  return { consent, text: await consent.locator('body').innerText() };
}

test.beforeAll(async () => {
  test.setTimeout(90_000);
  as = await startFakeOAuthServer({ tokenPrefix: CANARY });
  dc = await startDovecot({ users: [{ name: EMAIL, password: 'unused-Pw-8812' }], oauth2: { introspectionUrl: `${as.url}/introspect` } });
  const imap = await dc.client(EMAIL, 'unused-Pw-8812');
  for (const raw of generatedMessages(INITIAL, 3)) await imap.append('INBOX', raw, []);
  await imap.logout();
  dataDir = tempDataDir();
  // A custom provider the relay knows by id: what docs/oauth.md tells a self-hosting user to do.
  fs.mkdirSync(path.join(dataDir, 'oauth-providers'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(
    path.join(dataDir, 'oauth-providers', 'fake.json'),
    JSON.stringify({
      id: 'fake',
      name: 'Fake Provider',
      authorizationEndpoint: `${as.url}/authorize`,
      tokenEndpoint: `${as.url}/token`,
      revocationEndpoint: `${as.url}/revoke`,
      clientId: as.clientId,
      scopes: ['mail'],
      imap: { host: '127.0.0.1', port: dc.port, security: 'none' },
    }),
    { mode: 0o600 },
  );
  relay = await RelayProcess.start(dataDir);
  ({ context, extensionId } = await launchExtension());
});

test.afterAll(async () => {
  await context?.close().catch(() => undefined);
  await relay?.stop().catch(() => undefined);
  await dc?.stop().catch(() => undefined);
  await as?.close().catch(() => undefined);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

test('the options page offers Sign in with Google for Gmail, only Sign in with Microsoft (no password field) for Outlook.com, and app password steps for Yahoo', async () => {
  const options = await open('options.html#new');
  await options.locator('#f-email').fill('ada@gmail.com');
  await expect(options.getByRole('button', { name: 'Sign in with Google' })).toBeVisible();
  await expect(options.locator('#f-password')).toBeVisible();
  await expect(options.getByTestId('app-password-url')).toHaveText('https://myaccount.google.com/apppasswords');
  for (const email of ['ada@outlook.com', 'ada@hotmail.com', 'ada@live.com', 'ada@msn.com']) {
    await options.locator('#f-email').fill(email);
    await expect(options.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
    await expect(options.locator('#f-password')).toHaveCount(0);
    await expect(options.getByTestId('no-password-reason')).toContainText('16 September 2024');
  }
  await options.locator('#f-email').fill('ada@yahoo.com');
  await expect(options.getByRole('button', { name: /^Sign in with/ })).toHaveCount(0);
  await expect(options.getByTestId('app-password-advice')).toContainText('app password');
  await expect(options.getByTestId('app-password-url')).toHaveText('https://login.yahoo.com/account/security');
  await options.locator('#f-email').fill('ada@example.org');
  await options.locator('#f-hostedAt').selectOption('microsoft');
  await expect(options.getByRole('button', { name: 'Sign in with Microsoft' })).toBeVisible();
  await options.close();
});

test('with no client ID configured, Sign in with Google says exactly what to do and opens no tab', async () => {
  const options = await open('options.html#new');
  await options.locator('#pair-port').fill(String(relay.port));
  await options.locator('#pair-code').fill(relay.pairingCode);
  await options.getByRole('button', { name: 'Pair' }).click();
  await expect(options.getByTestId('pair-result')).toHaveAttribute('data-ok', 'true');
  const pagesBefore = context.pages().length;
  await options.locator('#f-email').fill('ada@gmail.com');
  await options.getByRole('button', { name: 'Sign in with Google' }).click();
  await expect(options.getByTestId('oauth-result')).toHaveAttribute('data-state', 'failed');
  await expect(options.getByTestId('oauth-result')).toContainText('needs a client ID');
  await expect(options.getByTestId('oauth-result')).toContainText('docs/oauth.md');
  // This relay's own file and variable, as the relay names them.
  await expect(options.getByTestId('oauth-result')).toContainText(`${dataDir}/providers.json`);
  await expect(options.getByTestId('oauth-result')).toContainText('MAILKEEP_OAUTH_GOOGLE_CLIENT_ID');
  expect(context.pages().length).toBe(pagesBefore);
  await options.close();
});

test('Sign in on the options page: the consent page opens in a tab, Approve, the account appears and its first backup completes', async () => {
  const popup = await open('popup.html');
  const options = await open('options.html#new');
  await options.locator('#f-email').fill(EMAIL);
  await options.locator('#f-hostedAt').selectOption('custom');
  await options.locator('#f-oauthProvider').fill('fake');
  await expect(options.locator('#f-password')).toHaveCount(0);
  const { text } = await approveInNewTab(() => options.getByRole('button', { name: 'Sign in with fake' }).click());
  expect(text).toContain('You can close this tab');
  await expect(options.getByTestId('oauth-result')).toHaveAttribute('data-state', 'completed', { timeout: 20_000 });
  await expect(options).toHaveURL(new RegExp(`#account=${ACCOUNT}`));
  // The options page now edits an OAuth account: Sign in again, never a password field.
  await expect(options.getByRole('button', { name: 'Sign in again' })).toBeVisible();
  await expect(options.locator('#f-password')).toHaveCount(0);
  // Test connection logs in with the relay's token (XOAUTH2 at Dovecot), no password asked.
  await options.getByRole('button', { name: 'Test connection' }).click();
  await expect(options.getByTestId('test-result')).toHaveAttribute('data-ok', 'true', { timeout: 20_000 });
  await expect(options.getByTestId('test-result')).toContainText('accepted the sign-in');
  // The account came through the mirror, and the relay started its first backup at once.
  await expect(card(popup)).toHaveAttribute('data-account-id', ACCOUNT, { timeout: 20_000 });
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  expect(await verifyArchive(dataDir, ACCOUNT)).toMatchObject({ code: 0, ok: true, messages: INITIAL });
  expect((await badgeOf(popup)).colour).toEqual(rgba(BADGE_HEX.none));
  await options.close();
  await popup.close();
});

test('access revoked at the provider: the next backup ends in Authentication Error with a red badge and Sign in again; signing in again resumes it to Completed', async () => {
  const popup = await open('popup.html');
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 20_000 });
  as.revokeUser(EMAIL);
  await card(popup).getByRole('button', { name: 'Back up now' }).click();
  await expect(card(popup)).toHaveAttribute('data-status', 'authentication_error', { timeout: 60_000 });
  expect((await badgeOf(popup)).colour).toEqual(rgba(BADGE_HEX.red));
  await expect(card(popup).getByTestId('error-hint')).toContainText('Sign in again');
  // One button fixes it, and it is not Edit's password form.
  await expect(card(popup).locator('[data-action="edit"]')).toHaveCount(0);
  const signInAgain = card(popup).getByRole('button', { name: 'Sign in again' });
  await expect(signInAgain).toBeVisible();
  const options = await open(`options.html#account=${ACCOUNT}`);
  await expect(options.getByRole('button', { name: 'Sign in again' })).toBeVisible();
  await expect(options.locator('#f-password')).toHaveCount(0);
  await options.close();

  const { consent, text } = await approveInNewTab(() => signInAgain.click());
  expect(text).toContain('You can close this tab');
  await expect(card(popup)).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect.poll(async () => (await badgeOf(popup)).colour).toEqual(rgba(BADGE_HEX.none));
  // Signed in again in place: still one account, its archive kept.
  await expect(popup.getByTestId('account-card')).toHaveCount(1);
  expect(await verifyArchive(dataDir, ACCOUNT)).toMatchObject({ code: 0, ok: true, messages: INITIAL });
  // The extension closes nothing it did not open, and the popup it did not open stays.
  expect(consent.isClosed()).toBe(false);
  await consent.close();
  await popup.close();
});

test('canary: no code or token of the provider is in IndexedDB (every table) or storage.local, which holds only the pairing', async () => {
  const page = await open('popup.html');
  const stored = await page.evaluate(async () => {
    const dbs = await indexedDB.databases();
    const out: unknown[] = [];
    for (const info of dbs) {
      if (!info.name) continue;
      const req = indexedDB.open(info.name);
      const db: IDBDatabase = await new Promise((r, j) => ((req.onsuccess = () => r(req.result)), (req.onerror = () => j(req.error))));
      for (const name of Array.from(db.objectStoreNames)) {
        out.push(name, await new Promise<unknown[]>((r) => {
          const q = db.transaction(name).objectStore(name).getAll();
          q.onsuccess = () => r(q.result);
        }));
      }
      db.close();
    }
    return { idb: JSON.stringify(out), local: await chrome.storage.local.get(null) };
  });
  expect(stored.idb).toContain(ACCOUNT); // the tables were read
  expect(as.issued.length).toBeGreaterThan(0);
  const local = JSON.stringify(stored.local);
  for (const secret of as.issued) {
    expect(stored.idb.includes(secret), 'a provider token or code in IndexedDB').toBe(false);
    expect(local.includes(secret), 'a provider token or code in storage.local').toBe(false);
  }
  expect(stored.idb).not.toContain(CANARY);
  expect(local).not.toContain(CANARY);
  expect(Object.keys(stored.local).sort()).toEqual(['mailkeepPairing']);
  await page.close();
});
