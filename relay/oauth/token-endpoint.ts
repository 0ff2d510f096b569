import { OAUTH_LIMITS } from '../../lib/limits.ts';
import { z } from '../../lib/zod.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { ConfiguredProvider } from './providers.ts';

/** A token endpoint's answer (RFC 6749 §5.1); only what the relay uses. */
const TokenAnswer = z.object({
  access_token: z.string().min(1).max(16_384),
  token_type: z.string().max(64).optional(),
  expires_in: z.coerce.number().positive().optional(),
  refresh_token: z.string().min(1).max(16_384).optional(),
});

export interface TokenGrant {
  accessToken: string;
  /** ms since the epoch, from the relay's clock. */
  accessExpiresAt: number;
  /** Present when the provider issued (or rotated) one. */
  refreshToken?: string;
}

/** An access token without `expires_in` is assumed to live this long (Google and Microsoft say 3599). */
const DEFAULT_EXPIRES_IN_S = 3600;

/**
 * POSTs one grant to the provider's token endpoint. Failures, by who must act:
 * - `invalid_grant` (revoked, expired, password changed, a spent or wrong code): OAUTH_REVOKED for
 *   a refresh (the person signs in again), OAUTH_FLOW_FAILED for a code exchange;
 * - `invalid_client` / `unauthorized_client`: OAUTH_NOT_CONFIGURED (the client ID is wrong);
 * - unreachable, a deadline passed, a 5xx or an unreadable answer: OAUTH_UNREACHABLE (retried).
 * No token, code or verifier ever appears in a message: only the provider's error code.
 */
export async function postTokenRequest(
  provider: ConfiguredProvider,
  grant: { grant_type: 'authorization_code'; code: string; redirect_uri: string; code_verifier: string } | { grant_type: 'refresh_token'; refresh_token: string },
  opts: { now: () => number; fetchImpl?: typeof fetch; timeoutMs?: number },
): Promise<TokenGrant> {
  const body = new URLSearchParams({ ...grant, client_id: provider.clientId });
  if (provider.clientSecret) body.set('client_secret', provider.clientSecret);
  if (grant.grant_type === 'refresh_token') body.set('scope', provider.scopes.join(' '));
  const what = grant.grant_type === 'refresh_token' ? 'renewing access' : 'finishing the sign-in';
  const host = safeHost(provider.tokenEndpoint);
  let res: Response;
  let text: string;
  try {
    res = await (opts.fetchImpl ?? fetch)(provider.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      redirect: 'error',
      // One deadline for connect and the whole answer: a trickle cannot hold it open.
      signal: AbortSignal.timeout(opts.timeoutMs ?? OAUTH_LIMITS.tokenRequestTimeoutMs),
    });
    text = await readCapped(res);
  } catch (err) {
    const cause = (err as { cause?: { code?: string } })?.cause?.code ?? (err as Error)?.name ?? 'error';
    throw mailkeepError('OAUTH_UNREACHABLE', `${provider.name}'s token endpoint (${host}) could not be reached while ${what} (${String(cause).slice(0, 40)})`, { provider: provider.id });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.ok) {
    const parsed = TokenAnswer.safeParse(json);
    if (!parsed.success) throw mailkeepError('OAUTH_UNREACHABLE', `${provider.name}'s token endpoint (${host}) sent an answer without an access token while ${what}`, { provider: provider.id });
    const a = parsed.data;
    return {
      accessToken: a.access_token,
      accessExpiresAt: opts.now() + (a.expires_in ?? DEFAULT_EXPIRES_IN_S) * 1000,
      ...(a.refresh_token ? { refreshToken: a.refresh_token } : {}),
    };
  }
  const error = errorCodeOf(json);
  if (res.status >= 400 && res.status < 500 && error === 'invalid_grant') {
    if (grant.grant_type === 'refresh_token') {
      throw mailkeepError('OAUTH_REVOKED', `${provider.name} no longer accepts Mailkeep's access (invalid_grant): sign in again`, { provider: provider.id });
    }
    throw mailkeepError('OAUTH_FLOW_FAILED', `${provider.name} refused the sign-in code (invalid_grant)`, { provider: provider.id });
  }
  if (res.status >= 400 && res.status < 500 && (error === 'invalid_client' || error === 'unauthorized_client')) {
    throw mailkeepError('OAUTH_NOT_CONFIGURED', `${provider.name} refused the configured client ID (${error}): check it (docs/oauth.md)`, { provider: provider.id });
  }
  throw mailkeepError('OAUTH_UNREACHABLE', `${provider.name}'s token endpoint (${host}) answered HTTP ${res.status}${error ? ` (${error})` : ''} while ${what}`, { provider: provider.id });
}

/** The provider's `error` field, if it is a plain RFC 6749 code (never free text, which may echo input). */
function errorCodeOf(json: unknown): string | undefined {
  const e = (json as { error?: unknown } | undefined)?.error;
  return typeof e === 'string' && /^[a-z_]{1,64}$/.test(e) ? e : undefined;
}

async function readCapped(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > OAUTH_LIMITS.tokenResponseMaxBytes) {
      await reader.cancel();
      throw new Error('token endpoint answer too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the token endpoint';
  }
}
