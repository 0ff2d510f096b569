import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAUTH_LIMITS } from '../../lib/limits.ts';
import { MailkeepError } from '../../lib/protocol/error-codes.ts';
import type { ImapAccount } from '../../lib/protocol/common.ts';
import { errorHint } from '../../lib/status/error-hints.ts';
import { OAuthFlows } from '../../relay/oauth/flows.ts';
import { resolveProvider } from '../../relay/oauth/providers.ts';
import { TokenManager } from '../../relay/oauth/token-manager.ts';
import { postTokenRequest } from '../../relay/oauth/token-endpoint.ts';
import { CredentialStore, type OAuthTokens } from '../../relay/secrets/credential-store.ts';
import { redactSecrets } from '../../relay/service/log-file.ts';
import { startFakeOAuthServer, type FakeOAuthServer } from '../support/fake-oauth-server.ts';
import { tempDataDir } from './relay-harness.ts';

const EMAIL = 'ada@example.org';

function providerFile(dir: string, as: { url: string; clientId: string }, extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, 'provider.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      id: 'fake',
      name: 'Fake',
      authorizationEndpoint: `${as.url}/authorize`,
      tokenEndpoint: `${as.url}/token`,
      clientId: as.clientId,
      scopes: ['mail'],
      imap: { host: '127.0.0.1', port: 1143, security: 'none' },
      ...extra,
    }),
  );
  return file;
}

async function code(err: Promise<unknown>): Promise<string> {
  try {
    await err;
  } catch (e) {
    return e instanceof MailkeepError ? e.code : `not a MailkeepError: ${String(e)}`;
  }
  return 'no error';
}

describe('OAuth2 sign-in flows (relay/oauth/flows.ts) against the fake authorization server', () => {
  let as: FakeOAuthServer;
  let dataDir: string;
  let file: string;
  let now = Date.parse('2026-03-01T10:00:00Z');
  const saved: { account: ImapAccount; tokens: OAuthTokens }[] = [];
  const flows = (): OAuthFlows =>
    new OAuthFlows({ dataDir, now: () => now, redirectUri: () => 'http://127.0.0.1:9/oauth/callback', saveAccount: (account, tokens) => saved.push({ account, tokens }), env: {} });

  beforeAll(async () => {
    as = await startFakeOAuthServer();
    dataDir = tempDataDir();
    file = providerFile(dataDir, as);
  });
  afterAll(async () => as.close());

  it('an authorization URL carries PKCE S256, state, the scopes and the address, never the verifier', () => {
    const f = flows();
    const { authorizationUrl, flowId } = f.start({ provider: file, email: EMAIL });
    const q = new URL(authorizationUrl).searchParams;
    expect(Object.fromEntries(q)).toMatchObject({ response_type: 'code', client_id: as.clientId, code_challenge_method: 'S256', scope: 'mail', login_hint: EMAIL, redirect_uri: 'http://127.0.0.1:9/oauth/callback' });
    expect(q.get('state')!.length).toBeGreaterThanOrEqual(32);
    expect(q.get('state')).not.toContain(flowId.slice(2));
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(f.status(flowId)).toEqual({ state: 'pending' });
  });

  it('a denied consent fails the flow with OAUTH_FLOW_FAILED and stores nothing', async () => {
    const f = flows();
    const { authorizationUrl, flowId } = f.start({ provider: file, email: EMAIL });
    const state = new URL(authorizationUrl).searchParams.get('state')!;
    const page = await f.callback(new URLSearchParams({ error: 'access_denied', state }));
    expect(page.status).toBe(400);
    expect(page.html).toContain('access was denied');
    expect(f.status(flowId)).toMatchObject({ state: 'failed', code: 'OAUTH_FLOW_FAILED' });
    expect(saved).toHaveLength(0);
  });

  it('a flow not finished by its deadline fails with OAUTH_FLOW_EXPIRED (pushed as oauth.failed), and its late callback is refused', async () => {
    const f = flows();
    const events: string[] = [];
    f.subscribe((e) => events.push(`${e.event}:${e.event === 'oauth.failed' ? e.code : e.accountId}`));
    const { authorizationUrl, flowId } = f.start({ provider: file, email: EMAIL });
    const location = await as.approve(authorizationUrl);
    now += OAUTH_LIMITS.flowTtlMs;
    expect(f.status(flowId)).toMatchObject({ state: 'failed', code: 'OAUTH_FLOW_EXPIRED' });
    expect(events).toEqual(['oauth.failed:OAUTH_FLOW_EXPIRED']);
    const page = await f.callback(new URL(location).searchParams);
    expect(page.status).toBe(400);
    expect(saved).toHaveLength(0);
  });

  it('a completed flow stores the account (login = the address, auth oauth2 with the provider id) with both tokens, and pushes oauth.completed', async () => {
    const f = flows();
    const events: unknown[] = [];
    f.subscribe((e) => events.push(e));
    const { authorizationUrl, flowId } = f.start({ provider: file, email: EMAIL });
    const page = await f.callback(new URL(await as.approve(authorizationUrl)).searchParams);
    expect(page.status).toBe(200);
    expect(page.html).toContain('You can close this tab');
    expect(f.status(flowId)).toEqual({ state: 'completed', accountId: 'ada-example-org' });
    expect(events).toMatchObject([{ event: 'oauth.completed', flowId, accountId: 'ada-example-org' }]);
    const last = saved.at(-1)!;
    expect(last.account).toEqual({ id: 'ada-example-org', host: '127.0.0.1', port: 1143, security: 'none', user: EMAIL, auth: { kind: 'oauth2', provider: 'fake' } });
    expect(last.tokens.refreshToken).toMatch(/^rt_/);
    expect(last.tokens.accessExpiresAt).toBe(now + 3600_000);
    // The custom provider is kept in the data dir, so renewals work without the original file.
    expect(resolveProvider('fake', { dataDir, env: {} }).tokenEndpoint).toBe(`${as.url}/token`);
  });

  it('a code exchange with the wrong PKCE verifier or a reused code is refused (OAUTH_FLOW_FAILED), nothing stored', async () => {
    const f = flows();
    const { authorizationUrl, flowId } = f.start({ provider: file, email: EMAIL });
    const location = new URL(await as.approve(authorizationUrl));
    // Spend the code first, as an attacker who intercepted it would have to.
    const spent = await fetch(`${as.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', client_id: as.clientId, code: location.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1:9/oauth/callback', code_verifier: 'x'.repeat(43) }) });
    expect(spent.status).toBe(400);
    const before = saved.length;
    const page = await f.callback(location.searchParams);
    expect(page.status).toBe(400);
    expect(f.status(flowId)).toMatchObject({ state: 'failed', code: 'OAUTH_FLOW_FAILED' });
    expect(saved).toHaveLength(before);
  });

  it('pending sign-ins are capped (RATE_LIMITED) so a peer cannot pile up verifiers', () => {
    const f = flows();
    for (let i = 0; i < OAUTH_LIMITS.maxPendingFlows; i++) f.start({ provider: file, email: EMAIL });
    expect(() => f.start({ provider: file, email: EMAIL })).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
  });
});

describe('OAuth2 providers (relay/oauth/providers.ts)', () => {
  it('google and microsoft need a client ID: OAUTH_NOT_CONFIGURED without one; providers.json or the environment supplies it', () => {
    const dir = tempDataDir();
    for (const id of ['google', 'microsoft']) expect(() => resolveProvider(id, { dataDir: dir, env: {} })).toThrow(expect.objectContaining({ code: 'OAUTH_NOT_CONFIGURED' }));
    fs.writeFileSync(path.join(dir, 'providers.json'), JSON.stringify({ google: { clientId: 'g-id.apps.googleusercontent.com', clientSecret: 'g-secret' } }));
    expect(resolveProvider('google', { dataDir: dir, env: {} })).toMatchObject({ id: 'google', clientId: 'g-id.apps.googleusercontent.com', scopes: ['https://mail.google.com/'], imap: { host: 'imap.gmail.com', port: 993, security: 'tls' } });
    expect(resolveProvider('microsoft', { dataDir: dir, env: { MAILKEEP_OAUTH_MICROSOFT_CLIENT_ID: 'ms-id' } })).toMatchObject({
      clientId: 'ms-id',
      scopes: ['https://outlook.office.com/IMAP.AccessAsUser.All', 'offline_access'],
      authorizationEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
      imap: { host: 'outlook.office365.com', port: 993 },
    });
  });

  it('a malformed provider file is refused with INVALID_INPUT naming the fields, never echoing a client secret', () => {
    const dir = tempDataDir();
    const file = path.join(dir, 'p.json');
    fs.writeFileSync(file, JSON.stringify({ name: 'X', authorizationEndpoint: 'not a url', tokenEndpoint: 'https://t.example/token', clientId: 'c', clientSecret: 'SECRETvalue123', scopes: [], imap: { host: 'h', port: 993, security: 'tls' } }));
    try {
      resolveProvider(file, { dataDir: dir, env: {} });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'INVALID_INPUT' });
      expect((e as Error).message).toMatch(/authorizationEndpoint/);
      expect((e as Error).message).toMatch(/scopes/);
      expect((e as Error).message).not.toContain('SECRETvalue123');
    }
    fs.writeFileSync(file, '{not json');
    expect(() => resolveProvider(file, { dataDir: dir, env: {} })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => resolveProvider('yahoo', { dataDir: dir, env: {} })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe('OAuth2 token renewal (relay/oauth/token-manager.ts)', () => {
  let as: FakeOAuthServer;
  let dataDir: string;
  let store: CredentialStore;
  let now = Date.parse('2026-03-01T10:00:00Z');
  const account: ImapAccount = { id: 'ada', host: '127.0.0.1', port: 1143, security: 'none', user: EMAIL, auth: { kind: 'oauth2', provider: 'fake' } };

  async function signedIn(): Promise<TokenManager> {
    const f = new OAuthFlows({ dataDir, now: () => now, redirectUri: () => 'http://127.0.0.1:9/oauth/callback', saveAccount: (a, t) => store.setOAuth({ ...a, id: 'ada' }, t), env: {} });
    const { authorizationUrl } = f.start({ provider: providerFile(dataDir, as), email: EMAIL });
    expect((await f.callback(new URL(await as.approve(authorizationUrl)).searchParams)).status).toBe(200);
    return new TokenManager({ dataDir, credentials: store, now: () => now, env: {} });
  }

  beforeAll(async () => {
    as = await startFakeOAuthServer();
    dataDir = tempDataDir();
    store = CredentialStore.open(dataDir);
  });
  afterAll(async () => as.close());

  it('uses the stored access token until the renewal margin, then renews once for concurrent callers and stores the rotated refresh token first', async () => {
    const tm = await signedIn();
    const first = store.getOAuth('ada')!;
    expect(await tm.accessToken('ada')).toBe(first.accessToken);
    expect(as.counts.refresh_token ?? 0).toBe(0);
    now += 3600_000 - OAUTH_LIMITS.refreshMarginMs + 1;
    const [a, b] = await Promise.all([tm.accessToken('ada'), tm.accessToken('ada')]);
    expect(a).toBe(b);
    expect(a).not.toBe(first.accessToken);
    expect(as.counts.refresh_token).toBe(1);
    const stored = store.getOAuth('ada')!;
    expect(stored.accessToken).toBe(a);
    expect(stored.refreshToken).not.toBe(first.refreshToken); // rotated, and kept: the old one is spent
    // A restart reads the same tokens back (encrypted on disk).
    expect(CredentialStore.open(dataDir).getOAuth('ada')).toEqual(stored);
    expect(fs.readFileSync(path.join(dataDir, 'credentials.enc'), 'utf8')).not.toContain(stored.refreshToken);
  });

  it('a token a server refused is renewed even inside its lifetime; a token already renewed by another session is reused', async () => {
    const tm = new TokenManager({ dataDir, credentials: store, now: () => now, env: {} });
    const current = store.getOAuth('ada')!.accessToken!;
    const before = as.counts.refresh_token ?? 0;
    const renewed = await tm.loginFor('ada').renew(current);
    expect(renewed).not.toBe(current);
    expect(await tm.loginFor('ada').renew(current)).toBe(renewed);
    expect(as.counts.refresh_token).toBe(before + 1);
  });

  it('invalid_grant means OAUTH_REVOKED (Authentication Error, "Sign in again"); unreachable or a 5xx means OAUTH_UNREACHABLE (a connection problem)', async () => {
    const tm = new TokenManager({ dataDir, credentials: store, now: () => now, env: {} });
    const stored = store.getOAuth('ada')!;
    await as.down();
    expect(await code(tm.loginFor('ada').renew(stored.accessToken!))).toBe('OAUTH_UNREACHABLE');
    await as.up();
    const failing = http.createServer((_req, res) => res.writeHead(503).end('{"error":"temporarily_unavailable"}'));
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    const port = failing.address() as AddressInfo;
    const tm503 = new TokenManager({ dataDir, credentials: store, now: () => now, env: {}, fetchImpl: (_u, init) => fetch(`http://127.0.0.1:${port.port}/token`, init) });
    expect(await code(tm503.loginFor('ada').renew(stored.accessToken!))).toBe('OAUTH_UNREACHABLE');
    failing.close();
    expect(store.getOAuth('ada')).toEqual(stored); // nothing lost on a failed renewal
    as.revokeUser(EMAIL);
    expect(await code(tm.loginFor('ada').renew(stored.accessToken!))).toBe('OAUTH_REVOKED');
    expect(errorHint('OAUTH_REVOKED')).toContain('Sign in again');
    expect(errorHint('OAUTH_UNREACHABLE')).toContain('tries again by itself');
  });

  it('an account without stored tokens is OAUTH_REVOKED, not a crash', async () => {
    const tm = new TokenManager({ dataDir, credentials: store, now: () => now, env: {} });
    expect(await code(tm.accessToken('nobody'))).toBe('OAUTH_REVOKED');
    void account;
  });
});

describe('token endpoint answers, by who must act (relay/oauth/token-endpoint.ts)', () => {
  /** A token endpoint that answers with `reply` (a loopback HTTP server). */
  async function endpoint(reply: (res: http.ServerResponse) => void): Promise<{ url: string; close(): void }> {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => reply(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }
  const provider = (tokenEndpoint: string) => ({ id: 'p', name: 'P', authorizationEndpoint: 'http://127.0.0.1:9/a', tokenEndpoint, clientId: 'c', scopes: ['mail'], imap: { host: 'h', port: 993, security: 'tls' as const } });
  const refresh = { grant_type: 'refresh_token' as const, refresh_token: 'CANARYrt' };
  const cases: [string, (res: http.ServerResponse) => void, string][] = [
    ['invalid_grant on a refresh', (res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}'), 'OAUTH_REVOKED'],
    ['invalid_client', (res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}'), 'OAUTH_NOT_CONFIGURED'],
    ['a 500', (res) => res.writeHead(500).end('oops'), 'OAUTH_UNREACHABLE'],
    ['a 429', (res) => res.writeHead(429).end('{"error":"slow_down"}'), 'OAUTH_UNREACHABLE'],
    ['200 without an access token', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"token_type":"Bearer"}'), 'OAUTH_UNREACHABLE'],
    ['200 that is not JSON', (res) => res.writeHead(200).end('<html>captive portal</html>'), 'OAUTH_UNREACHABLE'],
    ['an answer over the size cap', (res) => res.writeHead(200).end('x'.repeat(OAUTH_LIMITS.tokenResponseMaxBytes + 1)), 'OAUTH_UNREACHABLE'],
  ];
  for (const [what, reply, expected] of cases) {
    it(`${what} -> ${expected}, and the message holds no token`, async () => {
      const ep = await endpoint(reply);
      try {
        const err = await postTokenRequest(provider(ep.url), refresh, { now: () => 0 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: expected });
        expect((err as Error).message).not.toContain('CANARY');
      } finally {
        ep.close();
      }
    });
  }

  it('a trickling token endpoint cannot hold a renewal past its deadline: OAUTH_UNREACHABLE', async () => {
    let timer: NodeJS.Timeout | undefined;
    const ep = await endpoint((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      timer = setInterval(() => res.write(' '), 20);
    });
    try {
      await expect(postTokenRequest(provider(ep.url), refresh, { now: () => 0, timeoutMs: 300 })).rejects.toMatchObject({ code: 'OAUTH_UNREACHABLE' });
    } finally {
      clearInterval(timer);
      ep.close();
    }
  });

  it('a good answer gives the expiry from the injected clock; a missing expires_in counts as one hour', async () => {
    const ep = await endpoint((res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"a","refresh_token":"r"}'));
    try {
      expect(await postTokenRequest(provider(ep.url), refresh, { now: () => 1_000 })).toEqual({ accessToken: 'a', refreshToken: 'r', accessExpiresAt: 1_000 + 3600_000 });
    } finally {
      ep.close();
    }
  });
});

describe('the relay log filter covers OAuth values', () => {
  it('redacts bearer tokens, access/refresh tokens, codes, verifiers and client secrets as query, form or JSON', () => {
    const lines = [
      'GET /oauth/callback?code=CANARY1&state=s',
      'grant_type=refresh_token&refresh_token=CANARY2&client_id=c',
      '{"access_token":"CANARY3","refresh_token":"CANARY4","expires_in":3599}',
      'Authorization: Bearer CANARY5',
      'code_verifier=CANARY6 client_secret=CANARY7',
      "{ accessToken: 'CANARY8' }",
    ];
    for (const l of lines) expect(redactSecrets(l)).not.toMatch(/CANARY\d/);
    expect(redactSecrets('account ada: access renewed with Google')).toBe('account ada: access renewed with Google');
  });
});
