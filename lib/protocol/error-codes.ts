/**
 * Every failure in Mailkeep carries one of these stable codes, in the relay, over the wire and in
 * the extension. User-facing hints for them live in one table in lib/status (error-hints.ts).
 * Add codes; never rename one (stored job rows and diagnostics keep them).
 * No zod in this module: every archive command loads it, and zod costs about 40 ms of CPU at each
 * start (`mailkeep search` must start about as fast as Node with SQLite). Schemas take the zod
 * enum, ErrorCode, from error-code-schema.ts.
 */
export const ERROR_CODES = [
  // IMAP session
  'AUTH_FAILED', // server rejected the credentials -> Authentication Error, no automatic retry
  'CONNECTION_REFUSED', // nothing listens on host:port
  'HOST_NOT_FOUND', // DNS failure
  'CONNECTION_TIMEOUT', // connect, greeting or socket deadline passed
  'TLS_FAILED', // another certificate or handshake problem than the four below
  'TLS_CERT_UNTRUSTED', // the certificate is self-signed or from a CA this computer does not trust: account edit --ca FILE
  'TLS_CERT_NAME_MISMATCH', // the certificate is for another host name than the one given
  'TLS_CERT_EXPIRED', // the certificate has expired (or is not valid yet)
  'TLS_WRONG_PORT', // the port does not speak the chosen security mode (TLS to a plain-text port)
  'CONNECTION_LOST', // server closed the session (BYE, reset) mid-job
  'SERVER_BUSY', // transient server refusal: [LIMIT], [UNAVAILABLE], [INUSE]
  'QUOTA_EXCEEDED', // destination storage is full (APPEND)
  'PROVIDER_LIMIT_PAUSED', // not a fault: the provider said stop ([OVERQUOTA] bandwidth, [THROTTLED], too many connections, Suggested Backoff Time) or the account's daily transfer budget is spent; the job pauses (Retrying) and resumes by itself at the time it names (relay/imap/provider-limits.ts, relay/state/transfer-budget.ts)
  'APPENDLIMIT_EXCEEDED', // a message is larger than the destination accepts
  'MESSAGE_REFUSED', // restore/migrate: the destination refused one message's APPEND (its reason kept, e.g. Cyrus "Message contains invalid header")
  'FOLDER_UNREADABLE', // one folder could not be selected or fetched while others succeeded
  'FOLDER_NOT_CREATED', // restore/migrate: a destination folder could not be created (CREATE refused, or not listed back after it)
  'MESSAGE_UNREADABLE', // one message could not be fetched while others succeeded
  'MESSAGE_MISSING', // the server listed a message but a FETCH answered OK without it
  'MESSAGE_SIZE_MISMATCH', // the server sent a message with another length than it announced (RFC822.SIZE)
  'MESSAGE_TOO_SLOW', // a message arrived slower than the minimum transfer rate (a trickling server)
  'DESTINATION_LOSES_METADATA', // restore/migrate: a message read back after APPEND lacks the flags or INTERNALDATE it was given (GNU imap4d): the job stops Failed
  'LABELS_NOT_APPLIED', // restore/migrate into Gmail: a message was appended once but some of its other labels could not be added (STORE +X-GM-LABELS refused, or no UID to add them to); a rerun adds them
  'UIDVALIDITY_UNSTABLE', // the source gives messages new UIDs (or a new UIDVALIDITY) from one session or SELECT to the next: compared by content instead; with Completed it is a notice
  // OAuth2 sign-in (relay/oauth, docs/oauth.md)
  'OAUTH_NOT_CONFIGURED', // the provider has no client ID configured (providers.json or MAILKEEP_OAUTH_<ID>_CLIENT_ID): nothing started
  'OAUTH_REVOKED', // the token endpoint answered invalid_grant (access revoked, refresh token expired, password changed) -> Authentication Error, "Sign in again"
  'OAUTH_TOKEN_REFUSED', // the mail server refused a freshly renewed access token (IMAP off for the account, or the sign-in lacks mail access) -> Authentication Error, "Sign in again"
  'OAUTH_UNREACHABLE', // the token endpoint could not be reached or answered with a server error -> Retrying, then Connection Error
  'OAUTH_FLOW_FAILED', // a sign-in was refused: state mismatch, a second callback, the person denied, or the code exchange was refused
  'OAUTH_FLOW_EXPIRED', // the sign-in was not finished before its deadline
  'RUN_TIME_LIMIT', // the backup ran past its run deadline and was stopped; the next run resumes
  // archive and local disk
  'DISK_FULL',
  'ARCHIVE_CORRUPT', // a stored message read for restore/export does not match its hash (or is gone or cut short in its pack): restore skips it, export stops
  'ARCHIVE_DAMAGED', // the archive's index, journal or packs are damaged (verify, any reader of a damaged index, a writer refuses): repair
  'ARCHIVE_LOCKED', // another process holds the archive
  'ARCHIVE_INDEX_MISSING', // packs or a journal but no index.sqlite: `mailkeep repair` rebuilds it; a writer refuses
  'ARCHIVE_NOT_WRITABLE', // backup or repair: the archive folder is on a read-only disk or not writable; reading it (verify, archive-info, restore, export) still works
  'ARCHIVE_PATH_INVALID', // --archive (or a folder above it) is a file, or index.sqlite is not a file: refused, nothing changed
  'NOT_FOUND', // an account, job, folder or file that does not exist
  'OUTPUT_INSIDE_ARCHIVE', // an export's --out lies inside the archive directory: refused, nothing written
  'OUTPUT_EXISTS', // an export's --out already exists and --force was not given: refused, nothing written
  'OUTPUT_IS_DIRECTORY', // an export's --out is a directory, not a file name: refused, nothing written
  // the relay's own state files (in its data dir, not the archive)
  'JOBS_FILE_UNREADABLE', // jobs.json is not a job list the relay can read: it does not start, nothing is changed
  'CREDENTIALS_UNREADABLE', // the saved passwords (credentials file, key file) cannot be read or decrypted: it does not start, nothing is changed
  'STATE_UNREADABLE', // state.sqlite (accounts' schedules, job history) is damaged or from a newer Mailkeep: it does not start, nothing is changed
  // jobs
  'CANCELLED',
  'RETRY_LIMIT', // retries exhausted
  'JOB_INTERRUPTED', // the relay stopped under a job it had already resumed once after a stop: it is not resumed a second time (a job that stops the relay must not keep it from starting)
  'JOB_UNKNOWN_TO_RELAY', // the relay has no record of a job the extension followed (its state.sqlite was replaced or moved): shown with "Start again", never restarted by itself
  'ILLEGAL_TRANSITION', // a status change the state machine refuses
  'PASSWORD_NOT_STORED', // the relay holds no password (nor sign-in) for the account, so no job of it that signs in (all but a download) can start -> Authentication Error, "Edit" to enter it
  'IDEMPOTENCY_KEY_REUSED', // job.start with a key the relay already gave to a job of another kind or account: the caller's fault, nothing started (the extension sends it again under a fresh key)
  'JOB_KIND_UNSUPPORTED', // the relay has no runner for this kind of job (older than the extension): nothing started, update Mailkeep
  'INVALID_INPUT', // a request or form value that fails validation
  'SEARCH_QUERY_INVALID', // a search query that cannot be parsed (details.position: 0-based character where it fails); nothing was searched
  // relay door
  'RELAY_UNREACHABLE',
  'RELAY_UNPAIRED',
  'PAIRING_FAILED',
  'UNAUTHORIZED',
  'RATE_LIMITED',
  'PROTOCOL_MISMATCH',
  'EXPIRED',
  // native-messaging host and service (mailkeep native-host, install)
  'NATIVE_CALLER_REFUSED', // the browser launched the host for another extension than the pinned one
  'RELAY_START_FAILED', // the relay did not start listening before the deadline (its log says why)
  'RELAY_STOP_FAILED', // `mailkeep stop`: the relay did not release its lock before the deadline
  'UNKNOWN',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** An Error with a stable code and optional structured, secret-free details. */
export class MailkeepError extends Error {
  override readonly name = 'MailkeepError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function mailkeepError(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): MailkeepError {
  return new MailkeepError(code, message, details, cause === undefined ? undefined : { cause });
}

export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof MailkeepError ? err.code : 'UNKNOWN';
}
