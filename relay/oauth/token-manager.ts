import type { OAuthLogin } from '../imap/oauth-login.ts';
import { OAUTH_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { ImapAccount } from '../../lib/protocol/common.ts';
import type { OAuthTokens, StoredAccount } from '../secrets/credential-store.ts';
import { resolveProvider, type ConfiguredProvider } from './providers.ts';
import { postTokenRequest } from './token-endpoint.ts';

/** What an IMAP session needs of an OAuth2 account (relay/imap/session.ts). */
export type { OAuthLogin };

export interface TokenStoreLike {
  get(accountId: string): StoredAccount | undefined;
  getOAuth(accountId: string): OAuthTokens | undefined;
  setOAuth(account: ImapAccount, tokens: OAuthTokens): void;
}

/**
 * Keeps OAuth2 access tokens fresh. One refresh per account at a time (sessions opened together
 * share it); a rotated refresh token is stored before the new access token is handed out. A
 * session already open keeps working on its old token: only new logins use the new one (Dovecot,
 * Gmail and Outlook check the token at AUTHENTICATE only).
 */
export class TokenManager {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly opts: {
      dataDir: string;
      credentials: TokenStoreLike;
      now: () => number;
      env?: NodeJS.ProcessEnv;
      fetchImpl?: typeof fetch;
      log?: (line: string) => void;
    },
  ) {}

  loginFor(accountId: string): OAuthLogin {
    return {
      accessToken: () => this.accessToken(accountId),
      renew: (rejected) => this.accessToken(accountId, rejected),
    };
  }

  /** `rejected`: the token a server refused; a stored token other than it is newer and is used as is. */
  async accessToken(accountId: string, rejected?: string): Promise<string> {
    const tokens = this.opts.credentials.getOAuth(accountId);
    if (!tokens) throw mailkeepError('OAUTH_REVOKED', `account ${accountId} has no sign-in stored: sign in again`);
    const live = tokens.accessToken !== undefined && (tokens.accessExpiresAt ?? 0) - OAUTH_LIMITS.refreshMarginMs > this.opts.now();
    if (tokens.accessToken !== undefined && (rejected === undefined ? live : tokens.accessToken !== rejected)) return tokens.accessToken;
    const running = this.inflight.get(accountId);
    if (running) return running;
    const refresh = this.refresh(accountId).finally(() => this.inflight.delete(accountId));
    this.inflight.set(accountId, refresh);
    return refresh;
  }

  /**
   * Best effort (RFC 7009): asks the provider to forget the grant of an account being removed, so
   * Mailkeep keeps no access it no longer uses. Never throws; false when the provider has no
   * revocation endpoint or did not accept the request in time.
   */
  async revoke(account: ImapAccount, tokens: OAuthTokens): Promise<boolean> {
    if (account.auth?.kind !== 'oauth2') return false;
    try {
      const provider = resolveProvider(account.auth.provider, { dataDir: this.opts.dataDir, ...(this.opts.env ? { env: this.opts.env } : {}) });
      if (!provider.revocationEndpoint) return false;
      const body = new URLSearchParams({ token: tokens.refreshToken, token_type_hint: 'refresh_token', client_id: provider.clientId });
      if (provider.clientSecret) body.set('client_secret', provider.clientSecret);
      const res = await (this.opts.fetchImpl ?? fetch)(provider.revocationEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(OAUTH_LIMITS.tokenRequestTimeoutMs),
      });
      await res.body?.cancel();
      this.opts.log?.(`account ${account.id}: ${provider.name} ${res.ok ? 'revoked Mailkeep\'s access' : `answered HTTP ${res.status} to the revocation`}`);
      return res.ok;
    } catch {
      this.opts.log?.(`account ${account.id}: the revocation of Mailkeep's access could not be sent`);
      return false;
    }
  }

  private async refresh(accountId: string): Promise<string> {
    const stored = this.opts.credentials.get(accountId);
    const tokens = stored?.oauth;
    const auth = stored?.account.auth;
    if (!stored || !tokens || auth?.kind !== 'oauth2') throw mailkeepError('OAUTH_REVOKED', `account ${accountId} has no sign-in stored: sign in again`);
    const provider: ConfiguredProvider = resolveProvider(auth.provider, { dataDir: this.opts.dataDir, ...(this.opts.env ? { env: this.opts.env } : {}) });
    const grant = await postTokenRequest(provider, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken }, { now: this.opts.now, ...(this.opts.fetchImpl ? { fetchImpl: this.opts.fetchImpl } : {}) });
    // Stored before use: with a rotating provider the old refresh token is spent now.
    this.opts.credentials.setOAuth(stored.account, {
      refreshToken: grant.refreshToken ?? tokens.refreshToken,
      accessToken: grant.accessToken,
      accessExpiresAt: grant.accessExpiresAt,
    });
    this.opts.log?.(`account ${accountId}: access renewed with ${provider.name}`);
    return grant.accessToken;
  }
}
