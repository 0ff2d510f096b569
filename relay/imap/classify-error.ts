import { ImapFlowErrorCode as C } from 'imapflow';
import { MailkeepError, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import { isIndexCorruption } from '../archive/index-damage.ts';
import { serverReplyLine, serverTextCode } from './server-text.ts';
import { providerLimitOf } from './provider-limits.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';

/**
 * imapflow error -> stable ErrorCode. Built from the properties observed on this machine
 * (../shared/notes/imap-lab.md §2), not guessed:
 * - `authenticationFailed` only means "LOGIN/AUTHENTICATE got NO/BAD"; Dovecot also sets it for
 *   [LIMIT] and [UNAVAILABLE], which are transient, not a wrong password.
 * - Some servers (Cyrus, Microsoft 365) send no response code on a bad password, so
 *   "authenticationFailed and no transient code" is still an auth error.
 */
const TRANSIENT_SERVER_CODES = new Set(['UNAVAILABLE', 'LIMIT', 'INUSE', 'SERVERBUG']);
const TIMEOUT_CODES = new Set<string>([C.CONNECT_TIMEOUT, C.GREETING_TIMEOUT, C.UPGRADE_TIMEOUT, C.ETIMEOUT, 'ETIMEDOUT']);
const LOST_CODES = new Set<string>([
  C.NoConnection,
  C.EConnectionClosed,
  C.StateLogout,
  C.ClosedAfterConnectText,
  C.ClosedAfterConnectTLS,
  C.ETHROTTLE,
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
]);
const REFUSED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

type ErrLike = {
  code?: unknown;
  authenticationFailed?: unknown;
  serverResponseCode?: unknown;
  tlsFailed?: unknown;
  responseStatus?: unknown;
  responseText?: unknown;
  response?: unknown;
  name?: unknown;
};

export function classifyImapError(err: unknown): ErrorCode {
  if (err instanceof MailkeepError) return err.code;
  // A damaged archive index (SQLITE_CORRUPT, SQLITE_NOTADB) is the archive's fault, never the
  // server's: not retried as a lost connection, and named so the user runs repair.
  if (isIndexCorruption(err)) return 'ARCHIVE_DAMAGED';
  const e = (err ?? {}) as ErrLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const src = typeof e.serverResponseCode === 'string' ? e.serverResponseCode.toUpperCase() : '';
  if (e.name === 'AbortError' || code === 'ABORT_ERR') return 'CANCELLED';
  // A provider's limit (relay/imap/provider-limits.ts), wherever imapflow left it: before the
  // password and connection checks, so it is never Authentication Error or Connection Error.
  if (providerLimitOf(err)) return 'PROVIDER_LIMIT_PAUSED';
  // The server's own words refine what its response code (or the lack of one) says
  // (relay/imap/server-text.ts): Gmail's "Too many simultaneous connections" on LOGIN has no
  // code and is no wrong password; its "[OVERQUOTA] ... bandwidth limits" is no full mailbox.
  const byText = serverTextCode(err);
  if (e.authenticationFailed === true)
    return TRANSIENT_SERVER_CODES.has(src) || byText === 'SERVER_BUSY' ? 'SERVER_BUSY' : byText === 'TLS_FAILED' ? 'TLS_FAILED' : 'AUTH_FAILED';
  if (src === 'AUTHENTICATIONFAILED') return 'AUTH_FAILED';
  if (src === 'OVERQUOTA') return byText === 'SERVER_BUSY' ? 'SERVER_BUSY' : 'QUOTA_EXCEEDED';
  const tls = tlsCause(code);
  if (tls) return tls;
  if (e.tlsFailed === true || /CERT|TLS|SSL/.test(code)) return 'TLS_FAILED';
  if (REFUSED_CODES.has(code)) return 'CONNECTION_REFUSED';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'HOST_NOT_FOUND';
  if (TIMEOUT_CODES.has(code)) return 'CONNECTION_TIMEOUT';
  if (LOST_CODES.has(code)) return 'CONNECTION_LOST';
  if (code === 'ENOSPC') return 'DISK_FULL';
  if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') return byText === 'QUOTA_EXCEEDED' || byText === 'SERVER_BUSY' ? byText : 'FOLDER_UNREADABLE';
  return 'UNKNOWN';
}

/**
 * A refused APPEND that is about this message's size, not the session: imapflow's own APPENDLIMIT
 * check (nothing sent), RFC 7889's `NO [TOOBIG]`, and RFC 5530's `NO [LIMIT]`, which servers use
 * for a message over their size limit. That message is skipped; the job goes on.
 */
const APPEND_SIZE_CODES = new Set(['APPENDLIMIT', 'TOOBIG', 'LIMIT']);

/** APPENDLIMIT_EXCEEDED or QUOTA_EXCEEDED for a refused APPEND, else null (classify as usual). */
export function classifyAppendRefusal(err: unknown): 'APPENDLIMIT_EXCEEDED' | 'QUOTA_EXCEEDED' | null {
  if (err instanceof MailkeepError) return null;
  // Gmail's `[OVERQUOTA] Account exceeded command or bandwidth limits` is the upload limit, not a full mailbox.
  if (providerLimitOf(err)) return null;
  const e = (err ?? {}) as ErrLike;
  const src = typeof e.serverResponseCode === 'string' ? e.serverResponseCode.toUpperCase() : '';
  if (src === 'OVERQUOTA') return 'QUOTA_EXCEEDED';
  if (APPEND_SIZE_CODES.has(src) && e.responseStatus !== 'BAD') return 'APPENDLIMIT_EXCEEDED';
  return null;
}

/** Node's (OpenSSL's) TLS error codes -> the cause the user can act on; null: not one of these. */
function tlsCause(code: string): ErrorCode | null {
  if (/^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE)$/.test(code)) return 'TLS_CERT_UNTRUSTED';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return 'TLS_CERT_NAME_MISMATCH';
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'TLS_CERT_EXPIRED';
  // A plain-text greeting read as a TLS record ("* OK" is no TLS version): TLS sent to a plain port.
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'ERR_SSL_HTTP_REQUEST') return 'TLS_WRONG_PORT';
  return null;
}

/** A TLS failure of any cause (the certificate, the mode, the handshake). */
export function isTlsCode(code: ErrorCode): boolean {
  return code === 'TLS_FAILED' || code === 'TLS_CERT_UNTRUSTED' || code === 'TLS_CERT_NAME_MISMATCH' || code === 'TLS_CERT_EXPIRED' || code === 'TLS_WRONG_PORT';
}

/** Codes worth another connection attempt inside the job (then Connection Error). */
export function isConnectionCode(code: ErrorCode): boolean {
  return (
    code === 'CONNECTION_REFUSED' ||
    code === 'HOST_NOT_FOUND' ||
    code === 'CONNECTION_TIMEOUT' ||
    isTlsCode(code) ||
    code === 'CONNECTION_LOST' ||
    code === 'SERVER_BUSY' ||
    code === 'OAUTH_UNREACHABLE'
  );
}

/**
 * Codes that mean the user must act on the credentials (Authentication Error, no automatic retry):
 * a refused password, a revoked OAuth2 grant, or an OAuth2 client ID the provider refuses or that
 * is no longer configured.
 */
export function isAuthCode(code: ErrorCode): boolean {
  return code === 'AUTH_FAILED' || code === 'PASSWORD_NOT_STORED' || code === 'OAUTH_REVOKED' || code === 'OAUTH_TOKEN_REFUSED' || code === 'OAUTH_NOT_CONFIGURED';
}

/** A one-line, secret-free description of an imapflow error for messages and logs. */
export function describeImapError(err: unknown): string {
  if (err instanceof Error) {
    const e = err as Error & ErrLike;
    // The reply with its response code ("[OVERQUOTA] Quota exceeded ..."): the pages word it by
    // the code first (lib/status/server-text-words.ts) and show the line only as technical detail.
    const text = serverReplyLine(err) ?? e.message;
    const code = typeof e.code === 'string' ? ` (${e.code})` : '';
    return `${text}${code}`.replace(/\s+/g, ' ').slice(0, RELAY_LIMITS.serverTextMaxChars);
  }
  return String(err).slice(0, RELAY_LIMITS.serverTextMaxChars);
}
