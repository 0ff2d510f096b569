import { ImapFlow } from 'imapflow';
import { LIMITS, RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { classifyImapError, describeImapError } from './classify-error.ts';

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
  opts: { signal?: AbortSignal; timeouts?: ImapTimeouts } = {},
): Promise<ImapFlow> {
  opts.signal?.throwIfAborted();
  const t = opts.timeouts ?? {};
  const client = new ImapFlow({
    host: account.host,
    port: account.port,
    secure: account.security === 'tls',
    doSTARTTLS: account.security === 'starttls' ? true : account.security === 'none' ? false : undefined,
    auth: { user: account.user, pass: account.password },
    tls: { rejectUnauthorized: true, ...(account.ca ? { ca: account.ca } : {}) },
    logger: false,
    // BINARY would decode transfer encodings: the archive must hold the bytes as stored.
    disableBinary: true,
    disableAutoIdle: true,
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
  client.on('close', () => opts.signal?.removeEventListener('abort', onAbort));
  try {
    await client.connect();
  } catch (err) {
    client.close();
    if (opts.signal?.aborted) throw mailkeepError('CANCELLED', 'backup cancelled', {}, err);
    const code = classifyImapError(lastError && !hasImapFields(err) ? lastError : err);
    throw mailkeepError(
      code === 'UNKNOWN' || code === 'FOLDER_UNREADABLE' ? 'CONNECTION_LOST' : code,
      `cannot log in to ${account.host}:${account.port}: ${describeImapError(err)}`,
      { host: account.host, port: account.port },
      err,
    );
  }
  (client as ImapFlow & { lastSocketError?: () => unknown }).lastSocketError = () => lastError;
  return client;
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
