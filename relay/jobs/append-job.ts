/**
 * Scaffolding shared by the jobs that APPEND to an IMAP server (Restore and Migrate): their
 * status reporting, the quota stop and the retry-or-give-up decision. Kept in one place so the
 * two jobs cannot drift apart on what a retry limit or a full mailbox means.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ImapFlow } from 'imapflow';
import { MailkeepError, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import { appendMessage, type AppendOptions, type AppendRequest, type AppendUid } from '../imap/append-stream.ts';
import { classifyAppendRefusal, classifyImapError, describeImapError, isConnectionCode } from '../imap/classify-error.ts';
import { providerLimitOf, sessionLimit } from '../imap/provider-limits.ts';
import { limitError } from '../imap/session.ts';
import { budgetSpent } from './backup/pause.ts';
import type { JobPacing } from './pacing.ts';

/**
 * Before an APPEND of `size` bytes: the destination's daily upload budget (and, for a migrate, the
 * source's download budget the message was just read under) is counted here. A spent budget
 * throws PROVIDER_LIMIT_PAUSED ({ budget: true }) before the message goes out: the job pauses and
 * resumes when the budget refills; the append record keeps the next run from appending twice.
 */
export function paceAppend(pacing: JobPacing | null | undefined, size: number): void {
  if (!pacing) return;
  if (pacing.spent()) throw budgetSpent(pacing);
  pacing.took(size);
}

/** The destination's storage is full: nothing more can be appended in this run. */
export class QuotaStop extends Error {}

/** Throws QuotaStop when an APPEND was refused because the destination is over quota. */
export function throwIfQuotaRefusal(err: unknown): void {
  if (err instanceof MailkeepError) return;
  const e = err as { serverResponseCode?: string; responseText?: string; response?: string };
  const text = `${e.responseText ?? ''} ${typeof e.response === 'string' ? e.response : ''}`;
  if (classifyAppendRefusal(err) === 'QUOTA_EXCEEDED' || /quota/i.test(text)) throw new QuotaStop(describeImapError(err));
}

export type AppendOutcome = 'ok' | { code: ErrorCode; reason: string };

/**
 * One APPEND with the original flags, keywords and INTERNALDATE (relay/imap/append-stream.ts:
 * streamed when the body is a chunk source). A refusal falls back once to the system flags (a
 * server may refuse keywords); see refusalOutcome for what else a refusal means. Quota stops the
 * run (QuotaStop); a lost or timed-out session is thrown. `appended` hears the APPENDUID.
 */
export async function appendWithFallback(
  client: ImapFlow,
  req: Omit<AppendRequest, 'flags'> & { flags: string[]; systemFlags: string[] },
  opts: AppendOptions & {
    refused?: (err: unknown) => string;
    /** Called on success, before this returns (so before the caller's next APPEND): the append record (append-records.ts). */
    appended?: (uid: AppendUid | null) => void;
  } = {},
): Promise<AppendOutcome> {
  const { systemFlags, ...base } = req;
  for (const flags of appendTries(req)) {
    let uid: AppendUid | null;
    try {
      uid = await appendMessage(client, { ...base, flags }, opts);
    } catch (err) {
      const outcome = refusalOutcome(client, err, flags === systemFlags, opts.refused);
      if (outcome !== 'retry') return outcome;
      continue;
    }
    // Outside the try: a failure to record is no refusal (retrying the APPEND would duplicate).
    opts.appended?.(uid);
    return 'ok';
  }
  return { code: 'MESSAGE_REFUSED', reason: 'APPEND refused' };
}

/** The flag sets to try, in order: all flags and keywords, then the system flags alone. */
export function appendTries(req: { flags: string[]; systemFlags: string[] }): string[][] {
  return req.flags.length === req.systemFlags.length ? [req.systemFlags] : [req.flags, req.systemFlags];
}

/**
 * What an APPEND's failure means for its message. A refusal for the message's size (APPENDLIMIT,
 * TOOBIG, or LIMIT still with system flags only: LIMIT also means "too many keywords") is
 * APPENDLIMIT_EXCEEDED for this message only; any other refusal of the message is MESSAGE_REFUSED
 * with the server's reason, or 'retry' while the system flags alone are still to be tried. Quota
 * throws QuotaStop; a lost or timed-out session throws the error itself.
 */
export function refusalOutcome(client: ImapFlow, err: unknown, systemFlagsOnly: boolean, refused?: (err: unknown) => string): AppendOutcome | 'retry' {
  const why = refused ?? ((e: unknown) => describeImapError(e));
  // A provider's limit ([OVERQUOTA] with bandwidth words, [THROTTLED], a BYE on this session) is no
  // full mailbox and no refused message: the job pauses (PROVIDER_LIMIT_PAUSED), nothing more is sent.
  const limit = sessionLimit(client) ?? providerLimitOf(err, 'APPEND');
  if (limit) throw limitError(limit, 'the destination server', err);
  throwIfQuotaRefusal(err);
  if (err instanceof MailkeepError) throw err;
  const refusal = classifyAppendRefusal(err);
  const src = String((err as { serverResponseCode?: unknown }).serverResponseCode ?? '').toUpperCase();
  if (refusal === 'APPENDLIMIT_EXCEEDED' && (src !== 'LIMIT' || systemFlagsOnly)) return { code: 'APPENDLIMIT_EXCEEDED', reason: why(err) };
  if (!client.usable || isConnectionCode(classifyImapError(err))) throw err;
  // The server refused this message itself (Cyrus: "Message contains invalid header"): skipped
  // with the server's words, the job goes on and ends Partially Complete.
  if (systemFlagsOnly) return { code: 'MESSAGE_REFUSED', reason: `APPEND refused: ${why(err)}` };
  return 'retry';
}

/**
 * The listener as the job calls it: "running" is announced once per change (each attempt calls
 * it again after a retry), and a listener's bug never breaks the job.
 */
export function statusReporter<S extends string, D>(listener: ((s: S, d: D) => void) | undefined): (s: S, d: D) => void {
  let last: S | null = null;
  return (s, d) => {
    if (s === last && s === 'running') return;
    last = s;
    try {
      listener?.(s, d);
    } catch {
      /* a listener's bug must not break the job */
    }
  };
}

export interface RetryStop {
  status: 'connection_error' | 'cancelled';
  /** CANCELLED when the job's signal stopped the wait, RETRY_LIMIT, or the failure's own code. */
  code: ErrorCode;
  message: string;
}

/**
 * After a connection-class failure: announces Retrying (even on the last attempt: Connection Error
 * and Cancelled are reached from Retrying) and waits the doubled delay, or says how the job ends.
 * Could not even log in on the last try -> the server is unreachable (Connection Error); sessions
 * that opened but kept breaking -> the retry limit cancels the job (the specification's "When
 * retry has reached limit, it is automatically cancelled").
 */
export async function retryOrStop(p: {
  attempt: number;
  maxAttempts: number;
  baseDelayMs: number;
  /** every session of this attempt was opened (logged in) */
  opened: boolean;
  code: ErrorCode;
  message: string;
  signal: AbortSignal | undefined;
  /** what a cancelled wait reports, e.g. "restore cancelled" */
  cancelledMessage: string;
  announce: (retryInMs: number | undefined) => void;
}): Promise<RetryStop | null> {
  const delay = p.baseDelayMs * 2 ** (p.attempt - 1);
  const last = p.attempt >= p.maxAttempts;
  p.announce(last ? undefined : delay);
  if (last) {
    if (!p.opened) return { status: 'connection_error', code: p.code, message: p.message };
    return { status: 'cancelled', code: 'RETRY_LIMIT', message: `gave up after ${p.attempt} attempts: ${p.message}` };
  }
  try {
    await sleep(delay, undefined, { signal: p.signal });
  } catch {
    return { status: 'cancelled', code: 'CANCELLED', message: p.cancelledMessage };
  }
  return null;
}
