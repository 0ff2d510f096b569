import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSession, openSession } from '../../relay/imap/session.ts';
import type { OAuthLogin } from '../../relay/oauth/token-manager.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startFakeOAuthServer, type FakeOAuthServer } from '../support/fake-oauth-server.ts';

// relay/imap/session.ts with an OAuth2 account against Dovecot's oauth2 passdb: what a long backup
// relies on when its access token expires (an open session goes on; a new one logs in with a renewed
// token), and that a refused token is renewed once and retried once, no more.

const EMAIL = 'bob@example.com';

describe.skipIf(!dovecotAvailable())('IMAP sessions of an OAuth2 account (real Dovecot oauth2 passdb)', () => {
  let as: FakeOAuthServer;
  let dc: Dovecot;
  /** Tokens got through the real /authorize + /token, as the relay would. */
  async function freshToken(): Promise<string> {
    const verifier = 'v'.repeat(43);
    const url = `${as.url}/authorize?` + new URLSearchParams({ response_type: 'code', client_id: as.clientId, redirect_uri: 'http://127.0.0.1:9/cb', code_challenge: verifier, code_challenge_method: 'plain', login_hint: EMAIL, state: 's' });
    const code = new URL(await as.approve(url)).searchParams.get('code')!;
    const r = await fetch(`${as.url}/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', client_id: as.clientId, code, redirect_uri: 'http://127.0.0.1:9/cb', code_verifier: verifier }) });
    return ((await r.json()) as { access_token: string }).access_token;
  }
  const account = (oauth: OAuthLogin) => ({ host: '127.0.0.1', port: dc.port, security: 'none' as const, user: EMAIL, password: '', oauth });

  beforeAll(async () => {
    as = await startFakeOAuthServer();
    dc = await startDovecot({ users: [{ name: EMAIL, password: 'pw-unused-1' }], oauth2: { introspectionUrl: `${as.url}/introspect` } });
  }, 30_000);
  afterAll(async () => {
    await dc?.stop();
    await as?.close();
  });

  it('an open session keeps working after its token expired; the next session logs in with the renewed token', async () => {
    let token = await freshToken();
    const renewals: string[] = [];
    const login: OAuthLogin = {
      accessToken: async () => token,
      renew: async (rejected) => {
        renewals.push(rejected);
        token = await freshToken();
        return token;
      },
    };
    const first = await openSession(account(login));
    as.expireAccessTokens(EMAIL);
    // Mid-run work on the open session: Dovecot checked the token at AUTHENTICATE only.
    await first.mailboxCreate('Later');
    expect(await first.status('INBOX', { messages: true })).toMatchObject({ messages: 0 });
    const second = await openSession(account(login));
    expect(renewals).toHaveLength(1);
    expect((await second.list()).map((m) => m.path)).toContain('Later');
    await closeSession(first);
    await closeSession(second);
  });

  it('a token still refused after one renewal is OAUTH_TOKEN_REFUSED (IMAP access, not a password: Sign in again) after exactly one retry (no loop)', async () => {
    let renewCalls = 0;
    const login: OAuthLogin = {
      accessToken: async () => 'garbage-token',
      renew: async () => {
        renewCalls++;
        return 'still-garbage';
      },
    };
    await expect(openSession(account(login))).rejects.toMatchObject({ code: 'OAUTH_TOKEN_REFUSED' });
    expect(renewCalls).toBe(1);
  });

  it('a renewal that the provider refuses (invalid_grant) surfaces as its own code, not AUTH_FAILED', async () => {
    const login: OAuthLogin = {
      accessToken: async () => 'garbage-token',
      renew: async () => {
        const { mailkeepError } = await import('../../lib/protocol/error-codes.ts');
        throw mailkeepError('OAUTH_REVOKED', 'revoked');
      },
    };
    await expect(openSession(account(login))).rejects.toMatchObject({ code: 'OAUTH_REVOKED' });
  });

  it('a token revoked at the provider (RFC 7009 /revoke) is refused at the next login, while a session opened with it goes on', async () => {
    const token = await freshToken();
    const login: OAuthLogin = { accessToken: async () => token, renew: async () => token };
    const open = await openSession(account(login));
    const revoked = await fetch(`${as.url}/revoke`, { method: 'POST', body: new URLSearchParams({ token }) });
    expect(revoked.status).toBe(200);
    await expect(openSession(account(login))).rejects.toMatchObject({ code: 'OAUTH_TOKEN_REFUSED' });
    expect((await open.list()).length).toBeGreaterThan(0);
    await closeSession(open);
  });
});
