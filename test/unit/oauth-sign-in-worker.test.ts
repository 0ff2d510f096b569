import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import type { MailkeepDb } from '@/lib/storage/db';
import { MailkeepError } from '@/lib/protocol/error-codes';
import { createCoordinator, type Coordinator } from '@/lib/background/coordinator';
import { handleMessage } from '@/lib/background/messages';
import type { BackgroundPorts } from '@/lib/background/ports';
import { freshDb, ACCOUNT_FORM } from './helpers/fresh-db';
import { FakeRelayWire } from './helpers/fake-relay-socket';

// The worker's side of "Sign in with Google/Microsoft" against the relay's wire: oauth.start goes
// to the relay, its URL opens in a new tab, oauth.status is answered with the hint of its code,
// the signed-in account is mirrored with its provider, and Test connection gives app password advice.

const FLOW = 'f_3b9a0c1d2e4f5a6b7c';
const AUTH_URL = 'https://accounts.google.com/o/oauth2/v2/auth?client_id=x&state=s&code_challenge=c';
let db: MailkeepDb;
let wire: FakeRelayWire;
let coordinator: Coordinator;
let opened: string[];
const meta = { extensionVersion: '0.1.0', userAgent: 'test-agent' };
const ports: BackgroundPorts = { setBadge: async () => undefined, notify: async () => undefined, openPage: async () => undefined, openUrl: async (u) => void opened.push(u) };
const send = (msg: unknown, p: BackgroundPorts = ports) => handleMessage(db, p, meta, msg, coordinator);

beforeEach(async () => {
  fakeBrowser.reset();
  db = freshDb();
  wire = new FakeRelayWire();
  opened = [];
  coordinator = createCoordinator({ db, storage: fakeBrowser.storage.local, alarms: fakeBrowser.alarms, openSocket: wire.openSocket, fetch: wire.fetch, client: { name: 'mailkeep-extension', version: '0.1.0' }, setTimer: () => undefined });
  expect(await send({ type: 'pair', port: 7412, code: wire.code })).toMatchObject({ ok: true });
});

describe('Sign in with a provider, in the service worker', () => {
  it('asks the relay to start the sign-in and opens its authorization URL in one new tab', async () => {
    const seen: unknown[] = [];
    wire.onOAuth = (method, params) => (seen.push({ method, params }), { flowId: FLOW, authorizationUrl: AUTH_URL, expiresAt: '2026-11-26T08:10:00.000Z' });
    const reply = await send({ type: 'oauth-start', provider: 'google', email: 'ada@gmail.com' });
    expect(reply).toEqual({ ok: true, value: { flowId: FLOW, expiresAt: '2026-11-26T08:10:00.000Z' } });
    expect(seen).toEqual([{ method: 'oauth.start', params: { provider: 'google', email: 'ada@gmail.com' } }]);
    expect(opened).toEqual([AUTH_URL]);
  });

  it('signs an existing account in again with its id', async () => {
    const seen: unknown[] = [];
    wire.onOAuth = (method, params) => (seen.push(params), { flowId: FLOW, authorizationUrl: AUTH_URL, expiresAt: '2026-11-26T08:10:00.000Z' });
    await send({ type: 'oauth-start', provider: 'microsoft', email: 'ada@outlook.com', accountId: 'ada-outlook-com' });
    expect(seen).toEqual([{ provider: 'microsoft', email: 'ada@outlook.com', accountId: 'ada-outlook-com' }]);
  });

  it('a provider without a client ID is refused with OAUTH_NOT_CONFIGURED and no tab opens', async () => {
    wire.onOAuth = () => {
      throw new MailkeepError('OAUTH_NOT_CONFIGURED', 'Google sign-in has no client ID');
    };
    expect(await send({ type: 'oauth-start', provider: 'google', email: 'ada@gmail.com' })).toMatchObject({ ok: false, code: 'OAUTH_NOT_CONFIGURED' });
    expect(opened).toEqual([]);
  });

  it('refuses a malformed address before asking the relay', async () => {
    wire.onOAuth = () => ({ flowId: FLOW, authorizationUrl: AUTH_URL, expiresAt: '2026-11-26T08:10:00.000Z' });
    expect(await send({ type: 'oauth-start', provider: 'google', email: 'not an address' })).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(opened).toEqual([]);
  });

  it('without a way to open tabs it refuses instead of starting a sign-in nobody can finish', async () => {
    let started = 0;
    wire.onOAuth = () => (started++, { flowId: FLOW, authorizationUrl: AUTH_URL, expiresAt: '2026-11-26T08:10:00.000Z' });
    const { openUrl: _none, ...noTabs } = ports;
    expect(await send({ type: 'oauth-start', provider: 'google', email: 'ada@gmail.com' }, noTabs)).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(started).toBe(0);
  });

  it.each([
    ['OAUTH_FLOW_EXPIRED', 'not finished in time'],
    ['OAUTH_FLOW_FAILED', 'did not complete'],
    ['OAUTH_NOT_CONFIGURED', 'docs/oauth.md'],
  ])('a sign-in that failed with %s is answered with its words', async (code, words) => {
    wire.onOAuth = () => ({ state: 'failed', code, message: 'relay words' });
    const reply = await send({ type: 'oauth-status', flowId: FLOW });
    expect(reply).toMatchObject({ ok: true, value: { state: 'failed', code, message: 'relay words' } });
    expect((reply as { value: { hint: string } }).value.hint).toContain(words);
  });

  it('a completed sign-in is mirrored before the page is told, with its provider, and offers no password', async () => {
    wire.relay.upsert({ id: 'ada-gmail-com', host: 'imap.gmail.com', port: 993, security: 'tls', user: 'ada@gmail.com', email: 'ada@gmail.com', auth: { kind: 'oauth2', provider: 'google' } }, undefined);
    wire.onOAuth = () => ({ state: 'completed', accountId: 'ada-gmail-com' });
    expect(await send({ type: 'oauth-status', flowId: FLOW })).toEqual({ ok: true, value: { state: 'completed', accountId: 'ada-gmail-com' } });
    const row = await db.accounts.get('ada-gmail-com');
    expect(row?.relay?.oauthProvider).toBe('google');
    expect(row?.username).toBe('ada@gmail.com');
  });

  it('Test connection of a signed-in account asks the relay to log in the stored account (its token), not typed settings without a password', async () => {
    wire.relay.upsert({ id: 'ada-gmail-com', host: 'imap.gmail.com', port: 993, security: 'tls', user: 'ada@gmail.com', email: 'ada@gmail.com', auth: { kind: 'oauth2', provider: 'google' } }, undefined);
    wire.onOAuth = () => ({ state: 'completed', accountId: 'ada-gmail-com' });
    await send({ type: 'oauth-status', flowId: FLOW });
    const reply = await send({ type: 'test-connection', accountId: 'ada-gmail-com', input: { ...ACCOUNT_FORM, email: 'ada@gmail.com', username: 'ada@gmail.com', host: 'imap.gmail.com' } });
    expect(reply).toMatchObject({ ok: true, value: { ok: true } });
  });

  it('a password account has no provider in the mirror (its Authentication Error keeps Edit)', async () => {
    const saved = await send({ type: 'save-account', input: ACCOUNT_FORM, password: 'pw-Secret-1' });
    const id = (saved as { value: { saved: { account: { id: string } } } }).value.saved.account.id;
    expect((await db.accounts.get(id))?.relay?.oauthProvider).toBeUndefined();
  });
});

describe('Test connection turns a provider’s refusal into its app password advice', () => {
  it('Gmail "Application-specific password required" names the app passwords page', async () => {
    wire.testRefusal = '[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)';
    const reply = await send({ type: 'test-connection', input: { ...ACCOUNT_FORM, email: 'ada@gmail.com', host: 'imap.gmail.com' }, password: 'wrong' });
    expect(reply).toMatchObject({ ok: true, value: { ok: false, errorCode: 'AUTH_FAILED' } });
    expect((reply as { value: { hint: string } }).value.hint).toContain('https://myaccount.google.com/apppasswords');
  });

  it('an unknown server keeps the generic Authentication hint', async () => {
    wire.testRefusal = '[AUTHENTICATIONFAILED] Authentication failed.';
    const reply = await send({ type: 'test-connection', input: ACCOUNT_FORM, password: 'wrong' });
    expect((reply as { value: { hint: string } }).value.hint).not.toContain('app password');
    expect((reply as { value: { hint: string | null } }).value.hint).toBeTruthy();
  });
});
