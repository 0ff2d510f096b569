import { createHash, randomBytes } from 'node:crypto';
import { OAUTH_LIMITS } from '../../lib/limits.ts';
import { MailkeepError, mailkeepError, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import type { ImapAccount } from '../../lib/protocol/common.ts';
import type { OAuthFlowEvent, OAuthFlowStatus } from '../../lib/protocol/oauth.ts';
import type { OAuthTokens } from '../secrets/credential-store.ts';
import { rememberProvider, resolveProvider, type ConfiguredProvider } from './providers.ts';
import { postTokenRequest } from './token-endpoint.ts';

/** The path the relay (or the CLI's one-shot listener) serves the provider's redirect on. */
export const CALLBACK_PATH = '/oauth/callback';

interface Flow {
  flowId: string;
  state: string;
  verifier: string;
  provider: ConfiguredProvider;
  email: string;
  accountId: string;
  redirectUri: string;
  expiresAt: number;
  status: OAuthFlowStatus;
  /** The callback was received (even if it failed afterwards): any later one is refused. */
  used: boolean;
  timer?: NodeJS.Timeout;
}

export interface OAuthFlowsOptions {
  dataDir: string;
  now: () => number;
  /** `http://127.0.0.1:PORT/oauth/callback` of whoever listens (known once the listener is up). */
  redirectUri: () => string;
  /** Stores the account and its tokens (RelayState, or the CLI's direct state). */
  saveAccount: (account: ImapAccount, tokens: OAuthTokens) => void;
  env?: NodeJS.ProcessEnv;
  fetchImpl?: typeof fetch;
  log?: (line: string) => void;
  /** Tests shorten it; production uses OAUTH_LIMITS.flowTtlMs. */
  ttlMs?: number;
}

/**
 * RFC 8252 sign-ins run by the relay: authorization code + PKCE S256 with a loopback redirect.
 * The PKCE verifier, `state` and the tokens never leave this process; the caller gets a flow id
 * (not the state: knowing the id does not let anyone forge a callback) and the authorization URL.
 * A callback is matched by `state`; one with an unknown state is refused and leaves pending flows
 * alone; a second callback of a flow is refused; a flow not finished by its deadline fails with
 * OAUTH_FLOW_EXPIRED.
 */
export class OAuthFlows {
  private readonly byId = new Map<string, Flow>();
  private readonly byState = new Map<string, Flow>();
  private readonly listeners = new Set<(e: OAuthFlowEvent) => void>();

  constructor(private readonly opts: OAuthFlowsOptions) {}

  start(input: { provider: string; email: string; accountId?: string }): { flowId: string; authorizationUrl: string; expiresAt: string } {
    this.prune();
    const pending = [...this.byId.values()].filter((f) => f.status.state === 'pending').length;
    if (pending >= OAUTH_LIMITS.maxPendingFlows) throw mailkeepError('RATE_LIMITED', `${pending} sign-ins are already waiting; finish or let them expire first`);
    const provider = resolveProvider(input.provider, { dataDir: this.opts.dataDir, ...(this.opts.env ? { env: this.opts.env } : {}) });
    const verifier = randomBytes(32).toString('base64url');
    const flow: Flow = {
      flowId: `f_${randomBytes(9).toString('hex')}`,
      state: randomBytes(24).toString('base64url'),
      verifier,
      provider,
      email: input.email,
      accountId: input.accountId ?? accountIdFromEmail(input.email),
      redirectUri: this.opts.redirectUri(),
      expiresAt: this.opts.now() + (this.opts.ttlMs ?? OAUTH_LIMITS.flowTtlMs),
      status: { state: 'pending' },
      used: false,
    };
    const url = new URL(provider.authorizationEndpoint);
    const params: Record<string, string> = {
      ...(provider.authorizationParams ?? {}),
      response_type: 'code',
      client_id: provider.clientId,
      redirect_uri: flow.redirectUri,
      scope: provider.scopes.join(' '),
      state: flow.state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      login_hint: input.email,
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    this.byId.set(flow.flowId, flow);
    this.byState.set(flow.state, flow);
    flow.timer = setTimeout(() => this.status(flow.flowId), Math.max(1, flow.expiresAt - this.opts.now()) + 10);
    flow.timer.unref();
    this.opts.log?.(`sign-in ${flow.flowId} started with ${provider.name} for account ${flow.accountId}`);
    return { flowId: flow.flowId, authorizationUrl: url.toString(), expiresAt: new Date(flow.expiresAt).toISOString() };
  }

  /** Where the flow stands; a pending flow past its deadline fails now (and says so to subscribers). */
  status(flowId: string): OAuthFlowStatus {
    const flow = this.byId.get(flowId);
    if (!flow) throw mailkeepError('NOT_FOUND', `no sign-in ${flowId.slice(0, 40)} (finished long ago, or the relay restarted)`);
    if (flow.status.state === 'pending' && this.opts.now() >= flow.expiresAt) {
      this.fail(flow, 'OAUTH_FLOW_EXPIRED', `the sign-in was not finished within ${Math.round((this.opts.ttlMs ?? OAUTH_LIMITS.flowTtlMs) / 60_000)} minutes`);
    }
    return flow.status;
  }

  subscribe(listener: (e: OAuthFlowEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The provider's redirect (the query of GET /oauth/callback). Answers the page the person sees:
   * 200 when signed in, 400 when refused. Resolves after the account is stored.
   */
  async callback(query: URLSearchParams): Promise<{ status: number; html: string }> {
    const flow = this.byState.get(query.get('state') ?? '');
    if (!flow) {
      // Unknown state: a forged or stale redirect. The pending flows are not touched by it.
      return page(400, 'Sign-in refused', 'This sign-in answer does not belong to any sign-in Mailkeep started (or it finished long ago). Start the sign-in again.');
    }
    if (flow.used) return page(400, 'Sign-in already handled', 'This sign-in was already answered once; a second answer is refused. You can close this tab.');
    flow.used = true;
    if (this.status(flow.flowId).state !== 'pending') return page(400, 'Sign-in expired', 'This sign-in took too long and expired. Start it again in Mailkeep.');
    const error = query.get('error');
    const code = query.get('code');
    if (error || !code) {
      const what = error === 'access_denied' ? 'access was denied' : `the provider answered ${error && /^[a-z_]{1,64}$/.test(error) ? error : 'without a code'}`;
      this.fail(flow, 'OAUTH_FLOW_FAILED', `the sign-in did not complete: ${what}`);
      return page(400, 'Sign-in not completed', `Mailkeep was not given access (${what}). You can close this tab and try again.`);
    }
    try {
      const grant = await postTokenRequest(
        flow.provider,
        { grant_type: 'authorization_code', code, redirect_uri: flow.redirectUri, code_verifier: flow.verifier },
        { now: this.opts.now, ...(this.opts.fetchImpl ? { fetchImpl: this.opts.fetchImpl } : {}) },
      );
      if (!grant.refreshToken) throw mailkeepError('OAUTH_FLOW_FAILED', `${flow.provider.name} gave no refresh token (offline access was not granted)`);
      const account: ImapAccount = {
        id: flow.accountId,
        host: flow.provider.imap.host,
        port: flow.provider.imap.port,
        security: flow.provider.imap.security,
        user: flow.email,
        auth: { kind: 'oauth2', provider: flow.provider.id },
      };
      rememberProvider(flow.provider, this.opts.dataDir);
      this.opts.saveAccount(account, { refreshToken: grant.refreshToken, accessToken: grant.accessToken, accessExpiresAt: grant.accessExpiresAt });
      this.settle(flow, { state: 'completed', accountId: account.id });
      this.opts.log?.(`sign-in ${flow.flowId} completed: account ${account.id} stored`);
      return page(200, 'Signed in', `Mailkeep can now back up ${escapeHtml(flow.email)}. You can close this tab.`);
    } catch (err) {
      const e = err instanceof MailkeepError ? err : mailkeepError('OAUTH_FLOW_FAILED', 'the sign-in could not be stored');
      this.fail(flow, e.code, e.message);
      return page(400, 'Sign-in not completed', `${escapeHtml(e.message)}. You can close this tab and try again.`);
    }
  }

  private fail(flow: Flow, code: ErrorCode, message: string): void {
    this.settle(flow, { state: 'failed', code, message: message.slice(0, 1024) });
    this.opts.log?.(`sign-in ${flow.flowId} failed: ${code}`);
  }

  private settle(flow: Flow, status: OAuthFlowStatus): void {
    if (flow.status.state !== 'pending') return;
    flow.status = status;
    clearTimeout(flow.timer);
    flow.verifier = '';
    const at = new Date(this.opts.now()).toISOString();
    const e: OAuthFlowEvent =
      status.state === 'completed'
        ? { event: 'oauth.completed', flowId: flow.flowId, accountId: status.accountId, at }
        : { event: 'oauth.failed', flowId: flow.flowId, code: status.state === 'failed' ? status.code : 'UNKNOWN', message: status.state === 'failed' ? status.message : '', at };
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* one broken listener must not stop the others */
      }
    }
  }

  /** Finished flows are remembered for one more flow lifetime (status and second-callback answers), then forgotten. */
  private prune(): void {
    const keep = this.opts.ttlMs ?? OAUTH_LIMITS.flowTtlMs;
    for (const f of this.byId.values()) {
      this.status(f.flowId);
      if (f.status.state !== 'pending' && this.opts.now() > f.expiresAt + keep) {
        this.byId.delete(f.flowId);
        this.byState.delete(f.state);
      }
    }
  }
}

/** "ada@example.org" -> "ada-example-org", as `mailkeep account add` names accounts. */
export function accountIdFromEmail(email: string): string {
  const id = email.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);
  return id || 'account';
}

function page(status: number, title: string, text: string): { status: number; html: string } {
  return {
    status,
    html: `<!doctype html><html><head><meta charset="utf-8"><title>Mailkeep: ${title}</title></head><body><h1>${title}</h1><p id="message">${text}</p></body></html>`,
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
