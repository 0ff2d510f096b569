import { ImapFlow } from 'imapflow';
import { LIMITS, RELAY_LIMITS } from '../../lib/limits.ts';
import { MailkeepError, mailkeepError, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import type { OAuthLogin } from './oauth-login.ts';
import { classifyImapError, describeImapError } from './classify-error.ts';
import { limitTap, providerLimitOf, sessionLimit, type ProviderLimit } from './provider-limits.ts';
import { takeConnection } from './connection-cap.ts';

export type Security = 'tls' | 'starttls' | 'none';

/** Where and how to log in. The password is held only in memory and never logged or echoed. */
export interface ImapAccount {
  host: string;
  port: number;
  security: Security;
  user: string;
  password: string;
  /** PEM text of extra trusted CA certificates (self-hosted servers). */
  ca?: string;
  /**
   * An OAuth2 account (relay/oauth/token-manager.ts): log in with XOAUTH2/OAUTHBEARER and an access
   * token instead of `password`. A refused token is renewed once and the login retried once.
   */
  oauth?: OAuthLogin;
  /** The account's connection cap (relay/state/transfer-budget.ts pacing): sessions beyond it wait for one to close. */
  maxConnections?: number | null;
}

/** Deadlines of one session; defaults come from lib/limits.ts, tests shorten them. */
export interface ImapTimeouts {
  connectMs?: number;
  greetingMs?: number;
  socketMs?: number;
}

/**
 * Opens an authenticated session with a deadline on every phase, an `error` listener attached
 * before anything can fail (without one a socket timeout crashes the process) and the signal wired
 * to close the socket. Rejects with a MailkeepError whose code is the classified cause.
 */
export async function openSession(
  account: ImapAccount,
  opts: { signal?: AbortSignal; timeouts?: ImapTimeouts; utf8Names?: boolean } = {},
): Promise<ImapFlow> {
  if (!account.oauth) return openSessionWith(account, { user: account.user, pass: account.password }, opts);
  const token = await account.oauth.accessToken();
  try {
    return await openSessionWith(account, { user: account.user, accessToken: token }, opts);
  } catch (err) {
    // [AUTHENTICATIONFAILED]: the token may have expired or been revoked early. Renew once (an
    // invalid_grant there is OAUTH_REVOKED: sign in again) and retry once; [UNAVAILABLE] (the
    // server could not reach its identity provider) stays a connection-class SERVER_BUSY.
    if (!(err instanceof MailkeepError) || err.code !== 'AUTH_FAILED') throw err;
    const renewed = await account.oauth.renew(token);
    try {
      return await openSessionWith(account, { user: account.user, accessToken: renewed }, opts);
    } catch (again) {
      // A token renewed a moment ago and still refused: not a password, not a revoked grant, but
      // the account's mail access (IMAP off, or a sign-in without the mail scope).
      if (again instanceof MailkeepError && again.code === 'AUTH_FAILED') throw mailkeepError('OAUTH_TOKEN_REFUSED', `the server refused a freshly renewed access token for ${account.user}`, {}, again);
      throw again;
    }
  }
}

async function openSessionWith(
  account: ImapAccount,
  auth: { user: string; pass: string } | { user: string; accessToken: string },
  opts: { signal?: AbortSignal; timeouts?: ImapTimeouts; utf8Names?: boolean },
): Promise<ImapFlow> {
  opts.signal?.throwIfAborted();
  const t = opts.timeouts ?? {};
  // At the account's cap: wait (bounded by the login's own budget) for one of its sessions to close.
  let release: (() => void) | null = null;
  if (account.maxConnections) {
    release = await takeConnection(`${account.host}:${account.port}:${account.user}`, account.maxConnections, (t.connectMs ?? LIMITS.imapConnectTimeoutMs) + (t.greetingMs ?? LIMITS.imapGreetingTimeoutMs), opts.signal);
    opts.signal?.throwIfAborted();
    if (!release) throw limitError({ kind: 'connections', text: `${account.maxConnections} connection(s) of this account are open already (its cap)` }, `${account.host}:${account.port}`);
  }
  try {
    return await openCapped(account, auth, opts, t, release);
  } catch (err) {
    release?.();
    throw err;
  }
}

async function openCapped(
  account: ImapAccount,
  auth: { user: string; pass: string } | { user: string; accessToken: string },
  opts: { signal?: AbortSignal; timeouts?: ImapTimeouts; utf8Names?: boolean },
  t: ImapTimeouts,
  release: (() => void) | null,
): Promise<ImapFlow> {
  // A provider's limit signal (relay/imap/provider-limits.ts) stops all traffic on this session at
  // once: kept on the client for the classifiers, and the socket closed before imapflow can wait out
  // or re-send a throttled command, or the caller send its next FETCH.
  let client: ImapFlow;
  const onLimit = (limit: ProviderLimit): void => {
    (client as ImapFlow & { providerLimit?: ProviderLimit }).providerLimit = limit;
    // At once, from inside imapflow's reader: after a refused SELECT it would otherwise send its
    // own LIST in the same turn, and after Microsoft's BAD it would wait and re-send the FETCH.
    client.close();
  };
  client = new ImapFlow({
    host: account.host,
    port: account.port,
    secure: account.security === 'tls',
    doSTARTTLS: account.security === 'starttls' ? true : account.security === 'none' ? false : undefined,
    auth,
    tls: { rejectUnauthorized: true, ...(account.ca ? { ca: account.ca } : {}) },
    // Not a log: a tap that only looks at the server's status lines for limit signals.
    logger: limitTap(onLimit),
    // BINARY would decode transfer encodings: the archive must hold the bytes as stored.
    disableBinary: true,
    disableAutoIdle: true,
    // utf8Names: false sends no ENABLE (UTF8=ACCEPT, CONDSTORE, IMAP4rev2): imapflow then writes
    // folder names in modified UTF-7, which every client can list back (relay/imap/create-folders.ts).
    ...(opts.utf8Names === false ? { disableAutoEnable: true } : {}),
    connectionTimeout: t.connectMs ?? LIMITS.imapConnectTimeoutMs,
    greetingTimeout: t.greetingMs ?? LIMITS.imapGreetingTimeoutMs,
    socketTimeout: t.socketMs ?? LIMITS.imapSocketTimeoutMs,
  } as ConstructorParameters<typeof ImapFlow>[0]);
  let lastError: unknown;
  client.on('error', (err: unknown) => {
    // imapflow also rejects the pending command; keeping the cause lets callers classify a close.
    lastError = err;
  });
  const onAbort = (): void => {
    client.close();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  client.on('close', () => {
    opts.signal?.removeEventListener('abort', onAbort);
    release?.();
  });
  // imapflow's deadlines end at the greeting, and its idle timeout restarts on every byte: a server
  // trickling its answers to LOGIN, CAPABILITY or LIST could hold the login open for ever. The whole
  // set-up gets the connect and greeting budgets together.
  const setup = new SessionDeadline(client);
  setup.arm((t.connectMs ?? LIMITS.imapConnectTimeoutMs) + (t.greetingMs ?? LIMITS.imapGreetingTimeoutMs), 'CONNECTION_TIMEOUT', 'the login');
  try {
    await client.connect();
  } catch (err) {
    client.close();
    if (opts.signal?.aborted) throw mailkeepError('CANCELLED', 'backup cancelled', {}, err);
    // A LOGIN refused with `NO [ALERT] Account exceeded command or bandwidth limits`, a greeting
    // `* BYE Too many simultaneous connections`: a limit, never Authentication or Connection Error.
    const limit = sessionLimit(client) ?? providerLimitOf(err) ?? providerLimitOf(lastError);
    if (limit) throw limitError(limit, `${account.host}:${account.port}`, err);
    if (setup.expired) throw mailkeepError('CONNECTION_TIMEOUT', `cannot log in to ${account.host}:${account.port}: ${setup.expired.message}`, { host: account.host, port: account.port }, err);
    const code = classifyImapError(lastError && !hasImapFields(err) ? lastError : err);
    throw mailkeepError(
      code === 'UNKNOWN' || code === 'FOLDER_UNREADABLE' ? 'CONNECTION_LOST' : code,
      `cannot log in to ${account.host}:${account.port}: ${describeImapError(err)}`,
      { host: account.host, port: account.port },
      err,
    );
  } finally {
    setup.clear();
  }
  (client as ImapFlow & { lastSocketError?: () => unknown }).lastSocketError = () => lastError;
  return client;
}

/** PROVIDER_LIMIT_PAUSED with the limit in its details (providerLimitOf reads it back). */
export function limitError(limit: ProviderLimit, where: string, cause?: unknown): MailkeepError {
  const e = mailkeepError('PROVIDER_LIMIT_PAUSED', `${where} limits this account: ${limit.text}`, { providerLimit: limit }, cause);
  (e as MailkeepError & { providerLimit?: ProviderLimit }).providerLimit = limit;
  return e;
}

function hasImapFields(err: unknown): boolean {
  const e = err as { authenticationFailed?: unknown; serverResponseCode?: unknown; code?: unknown };
  return e?.authenticationFailed !== undefined || e?.serverResponseCode !== undefined || typeof e?.code === 'string';
}

/** The socket error seen by the `error` listener, if any (e.g. ETIMEOUT before a NoConnection). */
export function lastSocketError(client: ImapFlow): unknown {
  return (client as ImapFlow & { lastSocketError?: () => unknown }).lastSocketError?.();
}

/** LOGOUT with a deadline; a dead server must not hold a finished job. */
export async function closeSession(client: ImapFlow): Promise<void> {
  if (!client.usable) {
    client.close();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.logout().catch(() => undefined),
    new Promise<void>((r) => {
      timer = setTimeout(r, RELAY_LIMITS.imapLogoutTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  client.close();
}

/**
 * A deadline on a session that a trickle cannot defeat: imapflow's socket timeout restarts on every
 * byte, this one does not. When it passes, the session is closed (the pending command then fails)
 * and `expired` holds the error to report instead of the resulting "connection closed".
 */
export class SessionDeadline {
  expired: MailkeepError | null = null;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly client: ImapFlow) {}

  /** (Re)starts the clock: `ms` from now, the session is closed unless `clear` or `arm` comes first. */
  arm(ms: number, code: ErrorCode, what: string): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.expired = mailkeepError(code, `${what} did not arrive within ${Math.round(ms / 1000)} s`);
      this.client.close();
    }, Math.max(1, ms));
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  /** Runs one command under a deadline; rejects with the deadline's error if it passed. */
  async run<T>(ms: number, code: ErrorCode, what: string, work: () => Promise<T>): Promise<T> {
    this.arm(ms, code, what);
    try {
      return await work();
    } catch (err) {
      throw this.expired ?? err;
    } finally {
      this.clear();
    }
  }
}
