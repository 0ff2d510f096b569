import type { ErrorCode } from '../../lib/protocol/error-codes.ts';
import { matchServerText, splitReply, type ServerReply, type ServerTextEntry } from '../../lib/status/server-text-words.ts';

/**
 * The mail server's own reply carried by an imapflow error: its response code (imapflow's
 * `serverResponseCode`, or a bracketed code at the start of the text) and its human text. null when
 * the error carries none (a socket error, a timeout, Mailkeep's own errors).
 */
export function serverReplyOf(err: unknown): ServerReply | null {
  const e = (err ?? {}) as { serverResponseCode?: unknown; responseText?: unknown; response?: unknown };
  const code = typeof e.serverResponseCode === 'string' && e.serverResponseCode ? e.serverResponseCode : null;
  const text = typeof e.responseText === 'string' && e.responseText ? e.responseText : typeof e.response === 'string' ? e.response : '';
  if (!code && !text) return null;
  return splitReply(text, code);
}

/** What the server's reply means (lib/status/server-text-words.ts), or null when there is none or it is unknown. */
export function serverTextEntryOf(err: unknown): ServerTextEntry | null {
  const reply = serverReplyOf(err);
  return reply ? matchServerText(reply) : null;
}

/** The error code the server's words give, or null: what relay/imap/classify-error.ts refines its answer with. */
export function serverTextCode(err: unknown): ErrorCode | null {
  return serverTextEntryOf(err)?.errorCode ?? null;
}

/** The reply as one line for a job's message ("[OVERQUOTA] Quota exceeded ..."), the code kept in front. */
export function serverReplyLine(err: unknown): string | null {
  const reply = serverReplyOf(err);
  if (!reply) return null;
  return `${reply.responseCode ? `[${reply.responseCode}] ` : ''}${reply.text}`.replace(/\s+/g, ' ').trim() || null;
}
