import type { ErrorCode } from '../protocol/error-codes.ts';
import { RELAY_LIMITS } from '../limits.ts';

/**
 * What a mail server's own words mean, in the product's words. A server's reply ("NO [OVERQUOTA]
 * Quota exceeded (mailbox for user is full) (0.001 + 0.000 secs).") is never shown to the user as
 * the message: the row shows `words` here, and the raw reply only in "Technical details" and the
 * diagnostics. Platform-free: the relay classifies with it (relay/imap/server-text.ts), the pages
 * word what the relay kept (lib/ui/job-detail-text.ts).
 *
 * A reply is matched in three passes:
 * 1. `specific` texts: narrow phrasings that name the cause better than any response code, even
 *    against the code the server sent (Gmail answers `[OVERQUOTA]` for its download limit, Dovecot
 *    `[UNAVAILABLE]` for too many connections);
 * 2. the response code (RFC 5530, RFC 7889, RFC 3501 [TRYCREATE]), which servers send on purpose;
 * 3. text patterns, for servers that send no code (Cyrus, Courier, Microsoft 365).
 *
 * `seen` holds real replies, each from the server named, so the test proves every one is recognised.
 */
export type MailServer = 'Dovecot' | 'Cyrus' | 'Courier' | 'Gmail' | 'Outlook';

export interface ServerTextEntry {
  readonly id: string;
  readonly responseCodes: readonly string[];
  readonly patterns: readonly RegExp[];
  readonly specific?: boolean;
  /** How a refusal with this reply is classified (lib/protocol/error-codes.ts). */
  readonly errorCode: ErrorCode;
  /** What the user reads: what happened, never what to do (the row's hint says that once). */
  readonly words: string;
  readonly seen: readonly { readonly server: MailServer; readonly reply: string }[];
}

export const SERVER_TEXTS: readonly ServerTextEntry[] = [
  // ---- 1. specific texts ----
  {
    id: 'download_limit',
    specific: true,
    responseCodes: [],
    patterns: [/command or bandwidth limits/i, /bandwidth limit/i],
    errorCode: 'PROVIDER_LIMIT_PAUSED',
    words: 'The provider limits how much this account may download in a day, and that limit was reached.',
    seen: [
      { server: 'Gmail', reply: '[OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)' },
      { server: 'Gmail', reply: '[ALERT] Account exceeded command or bandwidth limits. (Failure)' },
    ],
  },
  {
    id: 'too_many_connections',
    specific: true,
    responseCodes: [],
    patterns: [/too many (simultaneous |concurrent |open )?(connections|logins|sessions)/i, /maximum number of (imap )?connections/i, /connection limit/i],
    errorCode: 'PROVIDER_LIMIT_PAUSED',
    words: 'Too many programs are connected to this mailbox at once, so the mail server refused another connection.',
    seen: [
      { server: 'Dovecot', reply: '[UNAVAILABLE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)' },
      { server: 'Dovecot', reply: 'Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)' },
      { server: 'Gmail', reply: '[ALERT] Too many simultaneous connections. (Failure)' },
      { server: 'Courier', reply: 'Maximum number of connections from your IP address has been exceeded.' },
      { server: 'Outlook', reply: 'Too many concurrent connections.' },
    ],
  },
  {
    id: 'throttled',
    specific: true,
    responseCodes: ['THROTTLED'],
    patterns: [/throttl/i, /rate.?limit/i, /suggested backoff/i],
    errorCode: 'SERVER_BUSY',
    words: 'The mail server is slowing this account down because it asked for too much in a short time.',
    seen: [
      { server: 'Outlook', reply: 'Request is throttled. Suggested Backoff Time: 201317 milliseconds' },
      { server: 'Outlook', reply: 'BADRequest is throttled. Suggested Backoff Time: 173 milliseconds' },
    ],
  },
  {
    id: 'app_password_required',
    specific: true,
    responseCodes: [],
    patterns: [/application-specific password/i, /app password/i],
    errorCode: 'AUTH_FAILED',
    words: 'The provider does not accept the account’s normal password here: it wants an app password or “Sign in with Google”.',
    seen: [{ server: 'Gmail', reply: '[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)' }],
  },
  {
    id: 'web_login_required',
    specific: true,
    responseCodes: ['WEBALERT'],
    patterns: [/log ?in via your web browser/i, /web login required/i],
    errorCode: 'AUTH_FAILED',
    words: 'The provider wants the account to sign in once in a web browser before a mail program may connect.',
    seen: [{ server: 'Gmail', reply: '[ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)' }],
  },
  {
    id: 'imap_disabled',
    specific: true,
    responseCodes: [],
    patterns: [/not enabled for imap/i, /imap (access )?is disabled/i, /enable (your account for )?imap/i],
    errorCode: 'AUTH_FAILED',
    words: 'IMAP access is turned off for this account in the provider’s settings.',
    seen: [
      {
        server: 'Gmail',
        reply: '[ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)',
      },
    ],
  },
  {
    id: 'signed_in_not_connected',
    specific: true,
    responseCodes: [],
    patterns: [/authenticated but not connected/i],
    errorCode: 'AUTH_FAILED',
    words: 'The mail server took the sign-in but could not open the mailbox (Microsoft 365 answers this for a wrong password and when IMAP is off for the account).',
    seen: [{ server: 'Outlook', reply: 'User is authenticated but not connected.' }],
  },
  {
    id: 'secure_connection_required',
    specific: true,
    responseCodes: ['PRIVACYREQUIRED'],
    patterns: [/plaintext authentication (is )?disallowed/i, /requires? (an )?(ssl|tls|secure)/i],
    errorCode: 'TLS_FAILED',
    words: 'The mail server accepts the password only over a secure connection (TLS or STARTTLS).',
    seen: [{ server: 'Dovecot', reply: '[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.' }],
  },
  // ---- 2. response codes (and 3. their texts) ----
  {
    id: 'over_quota',
    responseCodes: ['OVERQUOTA'],
    patterns: [/quota/i, /mailbox (for user )?is full/i, /mailbox full/i, /storage (has been |is )?(exceeded|full)/i, /mailbox size (limit|exceeds)/i],
    errorCode: 'QUOTA_EXCEEDED',
    words: 'The mail server’s storage for this account is full.',
    seen: [
      { server: 'Dovecot', reply: '[OVERQUOTA] Quota exceeded (mailbox for user is full)' },
      { server: 'Dovecot', reply: '[OVERQUOTA] Quota exceeded (mailbox for user is full) (0.001 + 0.000 secs).' },
      { server: 'Cyrus', reply: 'Over quota' },
      { server: 'Cyrus', reply: 'mail system storage has been exceeded' },
      { server: 'Courier', reply: '[ALERT] You exceeded your mail quota.' },
      { server: 'Outlook', reply: 'The mailbox is full.' },
    ],
  },
  {
    id: 'authentication_failed',
    responseCodes: ['AUTHENTICATIONFAILED', 'AUTHORIZATIONFAILED'],
    patterns: [/authentication fail/i, /login failed/i, /log ?in failed/i, /invalid credentials/i, /authenticate failed/i, /incorrect (user ?name|password)/i, /bad password/i],
    errorCode: 'AUTH_FAILED',
    words: 'The mail server refused the user name or password.',
    seen: [
      { server: 'Dovecot', reply: '[AUTHENTICATIONFAILED] Authentication failed.' },
      { server: 'Cyrus', reply: 'Login failed: authentication failure' },
      { server: 'Courier', reply: 'Login failed.' },
      { server: 'Gmail', reply: '[AUTHENTICATIONFAILED] Invalid credentials (Failure)' },
      { server: 'Outlook', reply: 'LOGIN failed.' },
      { server: 'Outlook', reply: 'AUTHENTICATE failed.' },
    ],
  },
  {
    id: 'credentials_expired',
    responseCodes: ['EXPIRED'],
    patterns: [/password (has )?expired/i],
    errorCode: 'AUTH_FAILED',
    words: 'The account’s password or access has expired.',
    seen: [{ server: 'Dovecot', reply: '[EXPIRED] Password expired.' }],
  },
  {
    id: 'message_too_large',
    // [LIMIT] means a size limit as often as a connection limit: the text tells which.
    specific: true,
    responseCodes: ['TOOBIG'],
    patterns: [/too (large|big)/i, /exceeds fixed limit/i, /message size exceeds/i],
    errorCode: 'APPENDLIMIT_EXCEEDED',
    words: 'A message is larger than the mail server accepts.',
    seen: [
      { server: 'Dovecot', reply: '[TOOBIG] Mail too large' },
      { server: 'Cyrus', reply: 'Message size exceeds fixed limit' },
      { server: 'Gmail', reply: '[LIMIT] APPEND Message too large. (Failure)' },
    ],
  },
  {
    id: 'limit_reached',
    responseCodes: ['LIMIT'],
    patterns: [],
    // Where the table decides (APPEND, STORE, an unknown command), RFC 5530's [LIMIT] is about the
    // message ("such as the number of flags on a single message"): the message is retried with its
    // system flags only, then skipped, never the whole session retried. On LOGIN, SELECT and FETCH
    // relay/imap/provider-limits.ts takes it for an operation limit first (PROVIDER_LIMIT_PAUSED).
    errorCode: 'MESSAGE_REFUSED',
    words: 'The mail server refused because one of its limits for this account was reached.',
    seen: [{ server: 'Dovecot', reply: '[LIMIT] Too many commands' }],
  },
  {
    id: 'in_use',
    responseCodes: ['INUSE'],
    patterns: [/mailbox is locked/i, /mailbox (is )?in use/i],
    errorCode: 'SERVER_BUSY',
    words: 'The mailbox is in use by another program on the mail server.',
    seen: [
      { server: 'Dovecot', reply: '[INUSE] Mailbox is locked' },
      { server: 'Cyrus', reply: 'Mailbox is locked by POP server' },
    ],
  },
  {
    id: 'server_unavailable',
    responseCodes: ['UNAVAILABLE'],
    patterns: [/unavailable/i, /temporar(y|ily)/i, /try again later/i, /shutting down/i, /system error/i],
    errorCode: 'SERVER_BUSY',
    words: 'The mail server is temporarily unavailable.',
    seen: [
      { server: 'Dovecot', reply: '[UNAVAILABLE] Temporary authentication failure. [mail.example.org:2026-12-01 21:40:00]' },
      { server: 'Dovecot', reply: 'Server shutting down.' },
      { server: 'Cyrus', reply: 'Server(s) unavailable to complete operation' },
      { server: 'Gmail', reply: '[UNAVAILABLE] Temporary System Error (Failure)' },
      { server: 'Outlook', reply: 'Server Unavailable. 15' },
      { server: 'Outlook', reply: 'Server Unavailable. 21' },
    ],
  },
  {
    id: 'server_bug',
    responseCodes: ['SERVERBUG'],
    patterns: [/internal (server )?error/i],
    // On a folder command this is Dovecot's answer for a folder it cannot open (permissions, a
    // damaged index): that folder is skipped and named, the run goes on. On LOGIN the response code
    // alone makes it transient (relay/imap/classify-error.ts TRANSIENT_SERVER_CODES).
    errorCode: 'FOLDER_UNREADABLE',
    words: 'The mail server reported an internal error of its own.',
    seen: [
      { server: 'Dovecot', reply: '[SERVERBUG] Internal error occurred. Refer to server log for more information. [2026-12-01 21:40:00]' },
      { server: 'Cyrus', reply: 'Internal Error' },
    ],
  },
  {
    id: 'folder_missing',
    responseCodes: ['NONEXISTENT', 'TRYCREATE'],
    patterns: [/does ?n[o']t exist/i, /unknown mailbox/i, /no such (mailbox|folder)/i, /folder (was )?not found/i, /mailbox (was )?not found/i, /could not be found/i],
    errorCode: 'FOLDER_UNREADABLE',
    words: 'The folder does not exist on the mail server (it was renamed or deleted).',
    seen: [
      { server: 'Dovecot', reply: "[NONEXISTENT] Mailbox doesn't exist: Archive/2019" },
      { server: 'Dovecot', reply: '[TRYCREATE] Mailbox doesn\'t exist: Archive/2019' },
      { server: 'Cyrus', reply: 'Mailbox does not exist' },
      { server: 'Courier', reply: 'Mailbox does not exist, or must be subscribed to.' },
      { server: 'Gmail', reply: '[NONEXISTENT] Unknown Mailbox: Archive/2019 (now in authenticated state) (Failure)' },
      { server: 'Outlook', reply: 'The specified folder could not be found in the store.' },
    ],
  },
  {
    id: 'permission_denied',
    responseCodes: ['NOPERM'],
    patterns: [/permission denied/i, /access denied/i, /not allowed/i, /no permission/i],
    errorCode: 'FOLDER_UNREADABLE',
    words: 'The mail server does not let this account use this folder.',
    seen: [
      { server: 'Dovecot', reply: '[NOPERM] Permission denied' },
      { server: 'Cyrus', reply: 'Permission denied' },
      { server: 'Courier', reply: 'Permission denied.' },
    ],
  },
  {
    id: 'folder_exists',
    responseCodes: ['ALREADYEXISTS'],
    patterns: [/already exists/i],
    errorCode: 'FOLDER_NOT_CREATED',
    words: 'A folder of that name already exists on the mail server.',
    seen: [
      { server: 'Dovecot', reply: '[ALREADYEXISTS] Mailbox already exists' },
      { server: 'Cyrus', reply: 'Mailbox already exists' },
    ],
  },
  {
    id: 'cannot',
    responseCodes: ['CANNOT'],
    patterns: [/invalid mailbox name/i, /cannot create this folder/i],
    errorCode: 'FOLDER_NOT_CREATED',
    words: 'The mail server cannot do this with a folder of that name.',
    seen: [
      { server: 'Dovecot', reply: '[CANNOT] Invalid mailbox name: Name must not have \'/\' characters.' },
      // docs/testing.md: Courier's answer to CREATE of a folder that exists.
      { server: 'Courier', reply: 'Cannot create this folder.' },
    ],
  },
  {
    id: 'message_malformed',
    responseCodes: ['PARSE'],
    patterns: [/invalid header/i, /contains nul/i, /bare newlines?/i, /8-?bit/i],
    errorCode: 'MESSAGE_REFUSED',
    words: 'The mail server refused a message it considers malformed.',
    seen: [
      { server: 'Cyrus', reply: 'Message contains invalid header' },
      { server: 'Cyrus', reply: 'Message contains NUL characters' },
      { server: 'Cyrus', reply: 'Message contains bare newlines' },
    ],
  },
  {
    id: 'contact_admin',
    responseCodes: ['CONTACTADMIN'],
    patterns: [],
    errorCode: 'UNKNOWN',
    words: 'The mail server asks the administrator of this account to look at it.',
    seen: [{ server: 'Dovecot', reply: '[CONTACTADMIN] Account is disabled.' }],
  },
  {
    id: 'corruption',
    responseCodes: ['CORRUPTION'],
    patterns: [/corrupt/i],
    errorCode: 'UNKNOWN',
    words: 'The mail server reports damaged data in this mailbox.',
    seen: [{ server: 'Dovecot', reply: '[CORRUPTION] Mailbox is corrupted.' }],
  },
  {
    id: 'disconnected',
    responseCodes: [],
    patterns: [/disconnected for inactivity/i, /connection closed/i, /logging out/i, /autologout/i],
    errorCode: 'CONNECTION_LOST',
    words: 'The mail server closed the connection.',
    seen: [
      { server: 'Dovecot', reply: 'Disconnected for inactivity.' },
      { server: 'Outlook', reply: 'Connection closed. 14' },
      { server: 'Courier', reply: '[ALERT] Disconnected for inactivity.' },
    ],
  },
];

/** A reply split into its RFC 5530 response code (upper case, or null) and its text. */
export interface ServerReply {
  readonly responseCode: string | null;
  readonly text: string;
}

/** "[OVERQUOTA] Quota exceeded" -> { responseCode: 'OVERQUOTA', text: 'Quota exceeded' }. [ALERT] is no cause. */
export function splitReply(raw: string, responseCode?: string | null): ServerReply {
  let text = raw.trim();
  let code = responseCode ? responseCode.toUpperCase() : null;
  for (let m = /^\[([A-Za-z-]+)(?:[^\]]*)\]\s*/.exec(text); m; m = /^\[([A-Za-z-]+)(?:[^\]]*)\]\s*/.exec(text)) {
    const c = (m[1] ?? '').toUpperCase();
    if (!code && c !== 'ALERT') code = c;
    text = text.slice(m[0].length);
  }
  return { responseCode: code, text };
}

/** The entry a reply means, or null when Mailkeep does not know it. */
export function matchServerText(reply: ServerReply): ServerTextEntry | null {
  const has = (e: ServerTextEntry) => e.patterns.some((p) => p.test(reply.text));
  const code = reply.responseCode;
  return (
    SERVER_TEXTS.find((e) => e.specific && has(e)) ??
    (code ? SERVER_TEXTS.find((e) => e.responseCodes.includes(code)) : undefined) ??
    SERVER_TEXTS.find((e) => !e.specific && has(e)) ??
    null
  );
}

/**
 * Finds a known server reply anywhere in a job's message (the relay's messages embed the reply:
 * "cannot log in to host:993: [OVERQUOTA] Quota exceeded ..."): the entry, or null.
 */
export function serverTextIn(message: string | null | undefined): ServerTextEntry | null {
  if (!message) return null;
  const codes = [...message.matchAll(/\[([A-Z][A-Z-]+)[^\]]*\]/g)].map((m) => m[1] ?? '').filter((c) => c !== 'ALERT');
  const text = message.replace(/\[[^\]]*\]/g, ' ');
  for (const code of codes) {
    const e = matchServerText({ responseCode: code, text });
    if (e) return e;
  }
  return matchServerText({ responseCode: null, text });
}

/**
 * The reply as it may be shown in "Technical details" and kept in diagnostics: one line, at most
 * 300 characters, with anything that looks like a secret (a long token, "password=...") hidden.
 * A server may echo what it was sent; a token or password must never reach the page or a report.
 */
export function technicalText(raw: string): string {
  return raw
    .replace(/\b(pass(?:word)?|passwd|pwd|token|secret|access_token|refresh_token|authorization|api_?key)(\s*[=:]\s*)("[^"]*"|\S+)/gi, '$1$2[hidden]')
    .replace(/\b(bearer|basic)\s+\S+/gi, '$1 [hidden]')
    // A long run of letters and digits in both cases is a token (OAuth, base64), never a word.
    .replace(/[A-Za-z0-9+/=_.-]{24,}/g, (m) => (/\d/.test(m) && /[a-z]/.test(m) && /[A-Z]/.test(m) ? '[hidden]' : m))
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, RELAY_LIMITS.serverTextMaxChars);
}
