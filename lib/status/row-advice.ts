import type { ErrorCode } from '../protocol/error-codes.ts';
import type { JobKind } from '../protocol/status-ids.ts';
import { statusInfo } from './catalog.ts';
import { errorHint } from './error-hints.ts';
import { AUTO_RETRY } from './hint-phrases.ts';
import { serverTextIn, technicalText } from './server-text-words.ts';
import { dateTimeFormat } from '../intl-formats.ts';

/**
 * What one job row says besides its status name: the hint (what to do), the last error (what
 * happened) and the technical details (the relay's raw message, folded away). Rules, each tested
 * over every status and error code (test/unit/row-advice.test.ts):
 * - each piece of advice ("Edit", "Retry now", "tries again by itself", "Copy diagnostics", "contact
 *   your email provider", ...) is said once per row: not in the hint when the Condition column
 *   beside it says it already, not in the last error when the hint says it;
 * - the last error names the cause: the server's words translated (server-text-words.ts), else the
 *   error code's hint; a server's raw reply is never the message, only in `technical`;
 * - an address that answered before and does not now is an outage, not a wrong setting: no
 *   "check the host and port in Edit" for it;
 * - "within a few hours" becomes the relay's own next try ("at 21:40"), in the zone given.
 */
export interface RowAdviceInput {
  kind: JobKind;
  status: string;
  lastErrorCode: ErrorCode | null;
  /** The relay's message for the run (may embed a server reply). */
  message: string | null | undefined;
  /** When this job (or account) last succeeded: the address is known to work. */
  lastSuccessAt: number | null;
  /** The relay's next automatic try, epoch ms. */
  nextRetryAt: number | null;
  /** The row shows the specification's condition beside the hint (the dashboard table does). */
  conditionShown: boolean;
  /** The row says when the relay tries again on a line of its own (the popup card does). */
  retryShown?: boolean;
  /** The row shows the pause's own condition ("…daily download limit reached; resumes at 21:40"):
   * it already says why and when, so the last error does not say it again. */
  pauseShown?: boolean;
  /** False while the relay is not reachable: the status is only its last known one. */
  relayLive?: boolean;
}

export interface RowAdvice {
  hint: string;
  lastError: string | null;
  technical: string | null;
}

/** Said when the server's reply is one Mailkeep does not know and the code says nothing more. */
export const UNKNOWN_REPLY = 'The mail server refused with a reply Mailkeep does not know; it is kept in the technical details.';

/**
 * A run last reported running while the relay does not answer: "Nothing to do: the green bar
 * shows…" would speak of a bar no page shows and of a run nobody can confirm. The relay resumes a
 * job it stopped under at its next start (relay/server/job-manager.ts resumeInterrupted).
 */
export const LAST_KNOWN_RUNNING = 'The relay does not answer this browser now, so nothing confirms this run goes on. A relay that stopped under a job picks it up again when it next starts.';

function refusalSpeaksForItself(code: ErrorCode, status: string): boolean {
  return code === 'PASSWORD_NOT_STORED' || code === 'JOB_KIND_UNSUPPORTED' || (code === 'NOT_FOUND' && status === 'cancelled');
}

/** An address that worked before and is not answering now: the server is down or out of reach. */
export const OUTAGE =
  'The mail server did not answer at its address. It answered there before, so it is probably down or out of reach for now; nothing in the settings needs to change.';

const OUTAGE_CODES = new Set<ErrorCode>(['CONNECTION_REFUSED', 'HOST_NOT_FOUND', 'CONNECTION_TIMEOUT']);

/**
 * Codes whose message may carry a mail server's reply. Any other code is Mailkeep's or this
 * computer's ("EACCES: permission denied" on the archive is no folder the server refused): its own
 * hint names it, whatever words its message happens to contain.
 */
const SERVER_REPLY_CODES = new Set<ErrorCode>([
  'AUTH_FAILED', 'SERVER_BUSY', 'QUOTA_EXCEEDED', 'APPENDLIMIT_EXCEEDED', 'MESSAGE_REFUSED', 'FOLDER_UNREADABLE',
  'FOLDER_NOT_CREATED', 'CONNECTION_LOST', 'TLS_FAILED', 'TLS_CERT_UNTRUSTED', 'TLS_CERT_NAME_MISMATCH', 'TLS_CERT_EXPIRED', 'TLS_WRONG_PORT', 'OAUTH_TOKEN_REFUSED', 'RETRY_LIMIT', 'UNKNOWN',
]);

/** The pieces of advice a row may give, each to be said once. */
const ADVICE: readonly [string, RegExp][] = [
  ['edit', /"Edit"/],
  ['provider', /contact your email provider/i],
  ['retry-now', /"Retry now"/],
  ['auto-retry', /(tries|trying) again by itself/i],
  ['report', /Copy diagnostics|report the problem/i],
  ['sign-in-again', /"Sign in again"/],
  ['free-space', /Free space/i],
  ['start-again', /"Start again"/],
];

export function adviceKeys(sentence: string): string[] {
  return ADVICE.filter(([, re]) => re.test(sentence)).map(([k]) => k);
}

/** "A. B. C." -> ["A.", "B.", "C."]: a sentence ends at . ! or ? (and a closing quote) before a capital. */
export function sentences(text: string): string[] {
  return text.split(/(?<=[.!?]["”’)]?)\s+(?=[A-Z"“])/).map((s) => s.trim()).filter(Boolean);
}

/**
 * Drops the sentences, and the clauses after a ";", whose every piece of advice was said already,
 * and records what is said.
 */
function withoutRepeats(text: string, said: Set<string>): string {
  const fresh = (part: string): boolean => {
    const keys = adviceKeys(part);
    if (keys.length > 0 && keys.every((k) => said.has(k))) return false;
    for (const k of keys) said.add(k);
    return true;
  };
  const kept: string[] = [];
  for (const s of sentences(text)) {
    const end = /[.!?]["”’)]?$/.exec(s)?.[0] ?? '';
    const clauses = s.slice(0, s.length - end.length).split(/;\s+/).filter(fresh);
    if (!clauses.length) continue;
    const joined = clauses.join('; ');
    kept.push(`${joined.charAt(0).toUpperCase()}${joined.slice(1)}${end}`);
  }
  return kept.join(' ');
}

function formatsFor(timeZone: string) {
  return {
    day: dateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }),
    time: dateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    date: dateTimeFormat('en-GB', { timeZone, day: 'numeric', month: 'short' }),
  };
}

/** "at 21:40" today, "on 3 Dec at 09:10" another day, in `timeZone`. */
export function retryTimeWords(at: number, now: number, timeZone: string): string {
  const f = formatsFor(timeZone);
  const time = f.time.format(at);
  if (f.day.format(at) === f.day.format(now)) return `at ${time}`;
  return `on ${f.date.format(at)} at ${time}`;
}

export function rowAdvice(input: RowAdviceInput, clock: { now: number; timeZone: string }): RowAdvice {
  const info = statusInfo(input.kind, input.status);
  const said = new Set<string>();
  if (input.conditionShown) for (const k of adviceKeys(info.condition)) if (k === 'edit' || k === 'provider') said.add(k);
  if (input.retryShown) said.add('auto-retry');

  // Paused under a provider's limit the server did answer (with its limit): Retrying's generic "did
  // not answer" would be untrue; the pause condition and the last error say why and when it resumes.
  let hint = input.lastErrorCode === 'PROVIDER_LIMIT_PAUSED' && input.status === 'retrying' ? '' : info.hint;
  if (input.relayLive === false && info.severity === 'progress') return { hint: LAST_KNOWN_RUNNING, lastError: null, technical: null };
  // A run the relay refused to start (no password stored, a kind it cannot run, the account gone):
  // the status's own hint would be untrue ("contact your email provider", "tries again by itself",
  // "retries ran out"); the cause's words say what to do, once. Only while the row is failing: the
  // code stays on a row that later runs and completes.
  const failing = info.severity === 'warning' || info.severity === 'error';
  if (failing && input.lastErrorCode && refusalSpeaksForItself(input.lastErrorCode, input.status)) {
    return { hint: withoutRepeats(errorHint(input.lastErrorCode) ?? hint, said), lastError: null, technical: null };
  }
  if (info.autoRetry && input.nextRetryAt != null) {
    const when = input.nextRetryAt > clock.now ? retryTimeWords(input.nextRetryAt, clock.now, clock.timeZone) : 'in a moment';
    hint = hint.replace(AUTO_RETRY, `Mailkeep tries again by itself ${when}.`);
  }
  hint = withoutRepeats(hint, said);

  let lastError: string | null = null;
  if (failing && input.lastErrorCode) {
    const code = input.lastErrorCode;
    const known = SERVER_REPLY_CODES.has(code) ? serverTextIn(input.message) : null;
    const cause =
      OUTAGE_CODES.has(code) && input.lastSuccessAt != null
        ? OUTAGE
        : known
          ? known.words
          : input.message && code === 'UNKNOWN'
            ? UNKNOWN_REPLY
            : (errorHint(code) ?? UNKNOWN_REPLY);
    lastError = withoutRepeats(cause, said) || null;
    if (code === 'PROVIDER_LIMIT_PAUSED' && input.status === 'retrying' && input.pauseShown) lastError = null;
  }
  const technical = failing && input.message ? technicalText(input.message) : null;
  return { hint, lastError, technical };
}
