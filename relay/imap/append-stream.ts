import type { ImapFlow, MailboxObject } from 'imapflow';
import { canUseFlag, encodePath, enhanceCommandError, formatDateTime, formatFlag, normalizePath } from 'imapflow/lib/tools';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { reclaimStreamChunks } from './append-reclaim.ts';

/**
 * One APPEND whose literal is written by us, on imapflow's own connection, so a message never has
 * to be whole in memory. imapflow's `append()` takes a Buffer only, and waits for the server's "+"
 * before every literal over 4 KB even when the server has LITERAL+. Its lower-level path does what
 * we need: `exec()` queues the command like any other (one in flight per connection), the
 * compiler writes a TEXT token verbatim (our `{n}` / `{n+}` marker), `onSend` fires right after
 * the command line is on the wire (a non-synchronizing literal follows at once) and `onPlusTag`
 * receives the server's "+" (a synchronizing literal follows it). The literal itself goes to
 * `writeSocket` (the socket, or the COMPRESS stream) with backpressure, chunk by chunk.
 *
 * Flags are filtered and formatted by imapflow's own helpers, exactly as its `append()` does, so
 * keywords, system flags and INTERNALDATE reach the server as before.
 */

/** The internals of imapflow this relies on (present, but marked @internal in its typings). */
interface ImapFlowInternals {
  exec(command: string, attributes: unknown[], options: Record<string, unknown>): Promise<{ response: unknown; next: () => void }>;
  writeSocket: import('node:stream').Writable;
  state: unknown;
  states: { AUTHENTICATED: unknown; SELECTED: unknown };
}

export interface AppendRequest {
  /** Destination folder, as imapflow takes paths (decoded). */
  path: string;
  /** System flags and keywords; those the selected destination refuses are left out. */
  flags: string[];
  internalDate: Date | null;
  /** The literal's size: the body must yield exactly this many bytes. */
  size: number;
  /** The whole message (small: one write), or its chunks in order (streamed). */
  body: Buffer | (() => AsyncIterable<Buffer> | Promise<AsyncIterable<Buffer>>);
}

export interface AppendDeadline {
  baseMs: number;
  minBytesPerSecond: number;
}

export interface AppendOptions {
  deadline?: Partial<AppendDeadline>;
  /** Closed as well when the deadline passes while the body is awaited (Migrate's source). */
  bodyClient?: ImapFlow;
}

/** How long one APPEND of `size` bytes may take at most (lib/limits.ts: minimum rate per message). */
export function appendDeadlineMs(size: number, d: Partial<AppendDeadline> = {}): number {
  const base = d.baseMs ?? RELAY_LIMITS.appendDeadlineBaseMs;
  const rate = d.minBytesPerSecond ?? RELAY_LIMITS.appendMinBytesPerSecond;
  return base + Math.ceil((size / rate) * 1000);
}

/** Whether the literal may go without waiting for "+" (RFC 7888 LITERAL+ / LITERAL-). */
export function nonSyncLiteral(client: ImapFlow, size: number): boolean {
  if (client.capabilities.has('LITERAL+')) return size <= RELAY_LIMITS.appendNonSyncMaxBytes;
  return (client.capabilities.has('LITERAL-') || client.capabilities.has('IMAP4rev2')) && size <= RELAY_LIMITS.literalMinusMaxBytes;
}

/** The refusal for a message over the server's advertised APPENDLIMIT (nothing is sent), or null. */
export function appendLimitError(client: ImapFlow, size: number): Error | null {
  const limit = client.capabilities.get('APPENDLIMIT');
  if (typeof limit !== 'number' || limit <= 0 || size <= limit) return null;
  const err = new Error(`Message content too big for APPENDLIMIT=${limit}`) as Error & { serverResponseCode: string };
  err.serverResponseCode = 'APPENDLIMIT';
  return err;
}

/** What a UIDPLUS server (RFC 4315) says it stored: `OK [APPENDUID <uidvalidity> <uid>]`. */
export interface AppendUid {
  uidValidity: number;
  uid: number;
}

/** The APPENDUID of a tagged OK as imapflow parsed it, or null (no UIDPLUS, or not numbers). */
export function appendUidOf(response: unknown): AppendUid | null {
  const section = (response as { attributes?: { section?: { value?: unknown }[] }[] } | null)?.attributes?.[0]?.section;
  if (!Array.isArray(section) || String(section[0]?.value ?? '').toUpperCase() !== 'APPENDUID') return null;
  const num = (v: unknown): number | null => (typeof v === 'string' && /^[1-9]\d{0,9}$/.test(v) && Number(v) <= 0xffffffff ? Number(v) : null);
  const uidValidity = num(section[1]?.value);
  const uid = num(section[2]?.value);
  return uidValidity !== null && uid !== null ? { uidValidity, uid } : null;
}

/**
 * The APPEND command's arguments up to the literal's `{n}` / `{n+}` marker. Flags are filtered and
 * formatted by imapflow's own helpers, exactly as its `append()` does.
 */
export function appendAttributes(client: ImapFlow, req: Pick<AppendRequest, 'path' | 'flags' | 'internalDate' | 'size'>, nonSync: boolean): unknown[] {
  const path = normalizePath(client, req.path);
  const selected = client.mailbox && client.mailbox.path === path ? (client.mailbox as MailboxObject) : false;
  const flagSource = selected && !selected.readOnly ? selected : false;
  const flags = req.flags.map((f) => formatFlag(f)).filter((f): f is string => !!f && canUseFlag(flagSource, f));
  const idate = req.internalDate ? formatDateTime(req.internalDate) : undefined;
  const attributes: unknown[] = [{ type: 'ATOM', value: encodePath(client, path) }];
  if (flags.length || idate) attributes.push(flags.map((value) => ({ type: 'ATOM', value })));
  if (idate) attributes.push({ type: 'STRING', value: idate });
  attributes.push({ type: 'TEXT', value: `{${req.size}${nonSync ? '+' : ''}}` });
  return attributes;
}

const CRLF = Buffer.from('\r\n');

/**
 * APPENDs one message. Resolves once the server answered OK, with its APPENDUID if it gave one.
 * Rejects with imapflow's error for a NO/BAD (serverResponseCode and responseText kept, as from `append()`), with an error whose
 * serverResponseCode is APPENDLIMIT when the size is over the advertised limit (nothing sent),
 * with CONNECTION_TIMEOUT when the minimum-rate deadline passed (the session is closed: a literal
 * cut short cannot be resumed), or with the body's own error (the session is closed too).
 */
export async function appendMessage(client: ImapFlow, req: AppendRequest, opts: AppendOptions = {}): Promise<AppendUid | null> {
  const conn = client as unknown as ImapFlowInternals & ImapFlow;
  if (typeof conn.exec !== 'function') throw new Error('this imapflow version has no exec(): streamed APPEND unavailable');
  if (!client.usable || (conn.state !== conn.states.AUTHENTICATED && conn.state !== conn.states.SELECTED))
    throw mailkeepError('CONNECTION_LOST', 'the session closed before APPEND');
  const tooBig = appendLimitError(client, req.size);
  if (tooBig) throw tooBig;
  const nonSync = nonSyncLiteral(client, req.size);
  const attributes = appendAttributes(client, req, nonSync);

  let stopped = false;
  let waitingForBody = false;
  let literal: Promise<void> | null = null;
  let wake: (() => void) | null = null;
  const stop = (): void => {
    stopped = true;
    wake?.();
  };
  const ws = conn.writeSocket;
  const drained = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        wake = null;
        ws.removeListener('drain', done);
        ws.removeListener('close', done);
        ws.removeListener('error', done);
        resolve();
      };
      wake = done;
      ws.once('drain', done);
      ws.once('close', done);
      ws.once('error', done);
    });
  const write = async (chunk: Buffer): Promise<void> => {
    if (stopped || ws.destroyed) throw mailkeepError('CONNECTION_LOST', 'the destination closed the connection during APPEND');
    if (!ws.write(chunk)) await drained();
  };
  const sendLiteral = async (): Promise<void> => {
    if (Buffer.isBuffer(req.body)) {
      if (req.body.length !== req.size) throw new Error(`literal of ${req.body.length} bytes announced as ${req.size}`);
      if (stopped || ws.destroyed) throw mailkeepError('CONNECTION_LOST', 'the destination closed the connection during APPEND');
      // One write for literal and CRLF (with LITERAL+ also the command line: see the cork below).
      // imapflow leaves Nagle's algorithm on, so a separate small write would wait for the
      // server's delayed ACK (measured: migrate 1.6x slower with three writes per message).
      ws.cork();
      ws.write(req.body);
      ws.write(CRLF);
      ws.uncork();
      if (ws.writableNeedDrain) await drained();
      return;
    } else {
      let sent = 0;
      let reclaimed = 0;
      waitingForBody = true;
      const chunks = await req.body();
      const it = chunks[Symbol.asyncIterator]();
      for (;;) {
        waitingForBody = true;
        const r = await it.next();
        waitingForBody = false;
        if (r.done) break;
        if (stopped) throw mailkeepError('CONNECTION_LOST', 'APPEND stopped');
        sent += r.value.length;
        if (sent > req.size) throw mailkeepError('MESSAGE_UNREADABLE', `the message has more than the ${req.size} bytes announced`);
        await write(r.value);
        if (sent - reclaimed >= RELAY_LIMITS.appendReclaimEveryBytes) {
          reclaimed = sent;
          reclaimStreamChunks();
        }
      }
      if (sent !== req.size) throw mailkeepError('MESSAGE_UNREADABLE', `the message ended after ${sent} of the ${req.size} bytes announced`);
    }
    await write(CRLF);
  };
  let failLiteral: (err: unknown) => void = () => undefined;
  const literalFailed = new Promise<never>((_, reject) => {
    failLiteral = reject;
  });
  literalFailed.catch(() => undefined);
  const startLiteral = (): void => {
    if (literal || stopped) return;
    literal = sendLiteral();
    // A literal that cannot be finished leaves the server inside our command: only closing helps.
    literal.catch((err: unknown) => {
      failLiteral(err);
      stop();
      client.close();
    });
  };

  const ms = appendDeadlineMs(req.size, opts.deadline);
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      const slowSide = waitingForBody && opts.bodyClient ? 'source' : 'destination';
      stop();
      client.close();
      if (slowSide === 'source') opts.bodyClient!.close();
      const rate = ((opts.deadline?.minBytesPerSecond ?? RELAY_LIMITS.appendMinBytesPerSecond) / 1024).toFixed(0);
      reject(
        mailkeepError(
          'CONNECTION_TIMEOUT',
          `the ${slowSide} server moved a ${req.size}-byte message slower than ${rate} KiB/s (deadline ${Math.round(ms / 1000)} s): connection closed`,
          { side: slowSide, size: req.size, deadlineMs: ms },
        ),
      );
    }, ms);
  });
  expired.catch(() => undefined);
  try {
    // A non-synchronizing literal follows its command line at once (onSend runs in this tick when
    // the connection is idle): corked, command line, literal and CRLF leave in one write.
    if (nonSync) ws.cork();
    let command: ReturnType<typeof conn.exec>;
    try {
      command = conn.exec('APPEND', attributes, {
        onSend: nonSync ? startLiteral : undefined,
        onPlusTag: nonSync ? undefined : startLiteral,
      });
    } finally {
      if (nonSync) ws.uncork();
    }
    command.catch(() => undefined);
    // The tagged answer settles the command; a literal that failed first is the better reason.
    const res = await Promise.race([command, expired, literalFailed]);
    res.next();
    if (literal) await literal;
    return appendUidOf(res.response);
  } catch (err) {
    stop();
    if (timedOut) throw await expired.catch((e: unknown) => e);
    if (literal) {
      // The body's own error (a damaged blob, a source that failed) explains a closed session.
      const bodyErr = await (literal as Promise<void>).then(() => null, (e: unknown) => e);
      if (bodyErr) throw bodyErr;
    }
    // exec() leaves the response code in the raw response; append() adds it the same way.
    const e = err as { responseStatus?: unknown; response?: unknown };
    if ((e.responseStatus === 'NO' || e.responseStatus === 'BAD') && e.response && typeof e.response === 'object') await enhanceCommandError(err as Parameters<typeof enhanceCommandError>[0]);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
