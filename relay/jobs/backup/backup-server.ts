/**
 * What a backup asks of the server, checked: the folder opened by its listed name with every number
 * in range, FETCHes drained under deadlines, and the two kinds of server fault (a folder's, a
 * message's) that the backup reports instead of aborting.
 */
import type { FetchMessageObject, FetchQueryObject, ImapFlow } from 'imapflow';
import { MailkeepError, type ErrorCode } from '../../../lib/protocol/error-codes.ts';
import { describeImapError } from '../../imap/classify-error.ts';
import { SessionDeadline } from '../../imap/session.ts';
import { sessionErrorCode } from '../../imap/session-error-code.ts';

const big = (v: unknown): string | null => (v === undefined || v === null || v === false ? null : String(v));

/** UIDVALIDITY, UIDs and UIDNEXT are 32-bit non-zero numbers (RFC 3501 §9 nz-number); EXISTS and sizes may be 0. */
const MAX_UINT32 = 0xffff_ffff;
export const inRange = (n: unknown, min: number): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= MAX_UINT32;

/** The server sent a number that cannot be (negative or out-of-range UIDVALIDITY, UID, EXISTS): the folder is skipped. */
export class FolderFault extends Error {}

/** One message the server did not deliver as it owes; the rest of the folder goes on. */
export class MessageFault extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Set when the fault took the session down: what it would be as a session failure. */
    readonly sessionCode: ErrorCode | null = null,
  ) {
    super(message);
  }
}

/** The fault of one message's command; `client` is the session it ran on. */
export function messageFault(err: unknown, client: ImapFlow): MessageFault {
  const code = err instanceof MailkeepError ? err.code : 'MESSAGE_UNREADABLE';
  const down = !client.usable ? (code === 'MESSAGE_TOO_SLOW' ? 'CONNECTION_TIMEOUT' : sessionErrorCode(err, client)) : null;
  return new MessageFault(code, describeImapError(err), down === 'UNKNOWN' ? 'CONNECTION_LOST' : down);
}

export interface OpenFolder {
  uidvalidity: number;
  exists: number;
  uidNext: number | null;
  highestModseq: string | null;
}

/** EXAMINE (read-only, I1) by the listed name, with every number checked before it reaches the index. */
export async function openFolder(client: ImapFlow, deadlineMs: number, rawName: string, name: string): Promise<OpenFolder> {
  // imapflow re-encodes a path to modified UTF-7 unless UTF8=ACCEPT is on; marked on for this one
  // command, the name goes out byte for byte as the server listed it, canonical or not.
  const enabled = client.enabled;
  const marked = !enabled.has('UTF8=ACCEPT');
  if (marked) enabled.add('UTF8=ACCEPT');
  let box;
  try {
    box = await new SessionDeadline(client).run(deadlineMs, 'CONNECTION_TIMEOUT', `EXAMINE ${name}`, () => client.mailboxOpen(rawName, { readOnly: true }));
  } finally {
    if (marked) enabled.delete('UTF8=ACCEPT');
  }
  // imapflow leaves out values it cannot parse (a negative UIDVALIDITY is undefined here).
  const uidvalidity = typeof box.uidValidity === 'bigint' ? Number(box.uidValidity) : NaN;
  if (!inRange(uidvalidity, 1)) throw new FolderFault(`the server sent an impossible UIDVALIDITY for ${name}`);
  if (!inRange(box.exists, 0)) throw new FolderFault(`the server sent an impossible message count (EXISTS) for ${name}`);
  if (box.uidNext !== undefined && !inRange(box.uidNext, 1)) throw new FolderFault(`the server sent an impossible UIDNEXT for ${name}`);
  return { uidvalidity, exists: box.exists, uidNext: box.uidNext ?? null, highestModseq: big(box.highestModseq) };
}

/** Drains a FETCH; returns the server's error (or null) so the caller can narrow, while local errors from `each` propagate. */
export async function drain(
  client: ImapFlow,
  range: string,
  query: FetchQueryObject,
  firstMs: number,
  code: ErrorCode,
  what: string,
  each: (m: FetchMessageObject) => Promise<number> | number,
): Promise<unknown> {
  const dl = new SessionDeadline(client);
  dl.arm(firstMs, code, what);
  try {
    const it = client.fetch(range, query, { uid: true })[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<FetchMessageObject>;
      try {
        r = await it.next();
      } catch (err) {
        return dl.expired ?? err ?? new Error('FETCH failed');
      }
      if (r.done) return null;
      dl.clear(); // storing is our time, not the server's
      const nextMs = await each(r.value);
      dl.arm(nextMs, code, what);
    }
  } finally {
    dl.clear();
  }
}

