/**
 * Every way a provider says "stop, you are over a limit", recognised wherever it appears: on any
 * command (LOGIN, SELECT, FETCH of headers or bodies, APPEND, STORE), as a tagged NO or BAD, an
 * untagged `* NO [ALERT]`, or a `* BYE`. One classifier for all of them, so a limit is never taken
 * for a wrong password (Authentication Error) or a broken server (Connection Error).
 *
 * Where imapflow 2.10 leaves the signal (read in node_modules/imapflow/dist/esm):
 * - `serverResponseCode`: only LOGIN/AUTHENTICATE and the commands that call enhanceCommandError.
 * - `response.attributes[0].section[0].value`: a failed FETCH keeps the raw parsed response there
 *   and never copies the code out (fetch.js).
 * - `response` as a string: enhanceCommandError replaces it with the compiled response text.
 * - `responseText`: the text of a tagged NO/BAD.
 * - `reason`: the text of a BYE, on the NoConnection error of every command rejected by it.
 * - `code === 'ETHROTTLE'` with `throttleReset`: Microsoft's "Suggested Backoff Time"; imapflow then
 *   re-sends the FETCH up to three times by itself, which is why a session watcher (below) closes
 *   the session the moment the server says it, before any retry goes out.
 * - untagged `* NO [ALERT] ...` / `* BYE ...` reach no error at all: only the session watcher sees them.
 */
import type { ImapFlow, Logger } from 'imapflow';
import { SERVER_TEXTS } from '../../lib/status/server-text-words.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';

export type ProviderLimitKind = 'bandwidth' | 'throttled' | 'connections' | 'session-expired';

export interface ProviderLimit {
  kind: ProviderLimitKind;
  /** How long the server asked us to wait, when it said (Microsoft's Suggested Backoff Time). */
  waitMs?: number;
  /** The server's words, one line, trimmed (server text holds no secret of ours). */
  text: string;
}

const BANDWIDTH_TEXT = /exceeded (?:the )?(?:command or )?bandwidth|bandwidth limit|download limit|upload limit|exceeded command/i;
const CONNECTIONS_TEXT = /too many (?:simultaneous |concurrent )?connections|maximum number of connections|connection limit/i;
const THROTTLE_TEXT = /request is throttled|throttl/i;
const BACKOFF_TEXT = /backoff time[:=\s]+(\d+)\s*(milliseconds|ms|seconds|s)?/i;
const SESSION_TEXT = /session expired|system error/i;

/**
 * The server-text table (lib/status/server-text-words.ts) words the same replies for the pages: every
 * text it calls a download limit, a connection cap or throttling is that limit here too, so one
 * reply is never paused and worded as a limit in one place and retried as SERVER_BUSY in another.
 */
const wordedAs = (id: string): readonly RegExp[] => SERVER_TEXTS.find((e) => e.id === id)?.patterns ?? [];
const WORDED_BANDWIDTH = wordedAs('download_limit');
const WORDED_CONNECTIONS = wordedAs('too_many_connections');
const WORDED_THROTTLED = wordedAs('throttled');
const any = (res: readonly RegExp[], t: string): boolean => res.some((re) => re.test(t));

/**
 * A status response (its status word, its response code if any, its text) as a limit, or null.
 * `command` is the command it answered when known: an [OVERQUOTA] on APPEND without bandwidth words
 * is the destination's storage being full (QUOTA_EXCEEDED), not a transfer limit; a [LIMIT] on
 * APPEND is the message's size (APPENDLIMIT_EXCEEDED, relay/imap/classify-error.ts).
 */
export function limitOfResponse(status: string, code: string | null, text: string, command?: string): ProviderLimit | null {
  command = command || undefined;
  const st = status.toUpperCase();
  const c = (code ?? '').toUpperCase();
  const t = oneLine(text);
  const append = /^(?:UID )?APPEND\b/i.test(command ?? '');
  if (st === 'OK' || st === 'PREAUTH') return null;
  const backoff = BACKOFF_TEXT.exec(t);
  if (THROTTLE_TEXT.test(t) && backoff) {
    const n = Number(backoff[1]);
    const unit = (backoff[2] ?? 'ms').toLowerCase();
    return { kind: 'throttled', waitMs: unit.startsWith('s') ? n * 1000 : n, text: t };
  }
  if (c === 'OVERQUOTA') {
    // Without bandwidth words, only where the command is known and is not an APPEND (a FETCH cannot fill a mailbox).
    if (BANDWIDTH_TEXT.test(t) || any(WORDED_BANDWIDTH, t) || (command !== undefined && !append)) return { kind: 'bandwidth', text: t };
    return null;
  }
  if (BANDWIDTH_TEXT.test(t) || any(WORDED_BANDWIDTH, t)) return { kind: 'bandwidth', text: t };
  if (c === 'THROTTLED' || THROTTLE_TEXT.test(t) || any(WORDED_THROTTLED, t)) return { kind: 'throttled', text: t };
  if (CONNECTIONS_TEXT.test(t) || any(WORDED_CONNECTIONS, t)) return { kind: 'connections', text: t };
  // RFC 5530: [LIMIT] is "an implementation limit of some kind, such as the number of flags on a
  // single message": about the message on APPEND and STORE (keywords, size), and not taken for a
  // rate limit when the command is unknown either (a pipelined APPEND's answer, which imapflow never
  // logs). On LOGIN, SELECT, FETCH and the like it is an operation limit of the server.
  // [UNAVAILABLE] is a limit only when its text says so (otherwise a subsystem is down: SERVER_BUSY).
  if (c === 'LIMIT' && command !== undefined && !append && !/^(?:UID )?STORE\b/i.test(command)) return { kind: 'throttled', text: t };
  if (st === 'BYE' && SESSION_TEXT.test(t)) return { kind: 'session-expired', text: t };
  return null;
}

type ErrLike = {
  code?: unknown;
  serverResponseCode?: unknown;
  responseStatus?: unknown;
  responseText?: unknown;
  response?: unknown;
  reason?: unknown;
  throttleReset?: unknown;
  executedCommand?: unknown;
  providerLimit?: unknown;
};

/**
 * The limit an imapflow error carries in any of the places listed above, or null. `command`: the
 * command that failed when the caller knows it and the error does not say (a pipelined APPEND).
 */
export function providerLimitOf(err: unknown, command?: string): ProviderLimit | null {
  if (!err || typeof err !== 'object') return null;
  const e = err as ErrLike;
  if (isLimit(e.providerLimit)) return e.providerLimit;
  // imapflow marks a refused LOGIN/AUTHENTICATE without naming the command.
  command =
    typeof e.executedCommand === 'string'
      ? e.executedCommand.replace(/^\S+\s+/, '')
      : (command ?? ((err as { authenticationFailed?: unknown }).authenticationFailed === true ? 'LOGIN' : undefined));
  const status = typeof e.responseStatus === 'string' ? e.responseStatus : 'NO';
  const text = typeof e.responseText === 'string' ? e.responseText : '';
  const raw = rawResponse(e.response);
  const code = typeof e.serverResponseCode === 'string' ? e.serverResponseCode : (raw?.code ?? null);
  if (e.code === 'ETHROTTLE') {
    const wait = Number(e.throttleReset);
    return { kind: 'throttled', ...(Number.isFinite(wait) && wait > 0 ? { waitMs: wait } : {}), text: oneLine(text || 'Request is throttled') };
  }
  const fromTagged = limitOfResponse(status, code, text || raw?.text || (typeof e.response === 'string' ? stripStatus(e.response) : ''), command);
  if (fromTagged) return fromTagged;
  if (typeof e.reason === 'string' && e.reason) return limitOfResponse('BYE', codeIn(e.reason), e.reason);
  return null;
}

function isLimit(v: unknown): v is ProviderLimit {
  return !!v && typeof v === 'object' && typeof (v as ProviderLimit).kind === 'string' && typeof (v as ProviderLimit).text === 'string';
}

/** The code and text of a parsed imapflow response ({ attributes: [{ section }, { value }...] }). */
function rawResponse(r: unknown): { code: string | null; text: string } | null {
  if (!r || typeof r !== 'object') return null;
  const attrs = (r as { attributes?: unknown }).attributes;
  if (!Array.isArray(attrs)) return null;
  const section = (attrs[0] as { section?: { value?: unknown }[] } | undefined)?.section;
  const code = Array.isArray(section) && typeof section[0]?.value === 'string' ? section[0].value : null;
  const text = attrs
    .map((a) => (a && typeof (a as { value?: unknown }).value === 'string' ? (a as { value: string }).value : ''))
    .filter(Boolean)
    .join(' ');
  return { code, text };
}

function codeIn(text: string): string | null {
  return /^\s*\[([A-Z-]+)/i.exec(text)?.[1] ?? null;
}

function stripStatus(s: string): string {
  return s.replace(/^\S+\s+(?:NO|BAD|BYE)\s+/i, '');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, RELAY_LIMITS.serverTextMaxChars);
}

/**
 * A server line as imapflow logs it ("A5 BAD Request is throttled...", "* NO [ALERT] Too many
 * simultaneous connections", "* BYE Session expired"): its status, code and text.
 */
export function limitOfLine(line: string, command?: string): ProviderLimit | null {
  const m = /^(\S+) (NO|BAD|BYE)\b ?(?:\[([^\]\s]+)[^\]]*\] ?)?(.*)$/i.exec(line.trim());
  if (!m) return null;
  return limitOfResponse(m[2]!, m[3] ?? null, `${m[3] && !m[4] ? m[3] : ''}${m[4] ?? ''}`, command);
}

/**
 * imapflow's logger option, used as a tap on every status response the server sends (imapflow logs
 * each non-FETCH response at debug before it settles the command): the first limit signal is kept
 * and `onLimit` runs at once, before imapflow can wait out or retry a throttled command. Nothing is
 * written anywhere; client lines (which could hold a password) are never looked at.
 */
export function limitTap(onLimit: (limit: ProviderLimit) => void): Logger {
  let seen = false;
  /** Tag -> command verb of the commands in flight (only the verb is kept: arguments may be secret). */
  const verbs = new Map<string, string>();
  const look = (entry: unknown): void => {
    if (seen || !entry || typeof entry !== 'object') return;
    const e = entry as { src?: unknown; msg?: unknown; throttleDelay?: unknown };
    let limit: ProviderLimit | null = null;
    if (e.src === 'c' && typeof e.msg === 'string') {
      const m = /^(\S+) ((?:UID )?[A-Z]+)/i.exec(e.msg);
      if (m) verbs.set(m[1]!, m[2]!.toUpperCase());
      return;
    }
    if (e.src === 's' && typeof e.msg === 'string') {
      const tag = e.msg.split(' ', 1)[0]!;
      limit = limitOfLine(e.msg, verbs.get(tag));
      verbs.delete(tag);
    }
    else if (e.msg === 'Throttling detected' && typeof e.throttleDelay === 'number') limit = { kind: 'throttled', waitMs: e.throttleDelay, text: 'Request is throttled' };
    if (!limit) return;
    seen = true;
    onLimit(limit);
  };
  const none = (): void => undefined;
  return {
    trace: none,
    debug: look,
    info: none,
    warn: look,
    error: none,
    fatal: none,
    isLevelEnabled: (level: string) => level === 'debug' || level === 'warn',
  } as Logger;
}

/** The limit signal a session's tap saw (set by relay/imap/session.ts), or null. */
export function sessionLimit(client: ImapFlow | null | undefined): ProviderLimit | null {
  return (client as (ImapFlow & { providerLimit?: ProviderLimit }) | null | undefined)?.providerLimit ?? null;
}
