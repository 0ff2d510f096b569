import type { Writable } from 'node:stream';
import type { ImapFlow } from 'imapflow';
import { compiler, parser } from 'imapflow/lib/handler/imap-handler';
import { enhanceCommandError, getTextValues } from 'imapflow/lib/tools';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { appendAttributes, appendDeadlineMs, appendLimitError, appendUidOf, nonSyncLiteral, type AppendDeadline, type AppendRequest, type AppendUid } from './append-stream.ts';

/**
 * Pipelined APPENDs on one imapflow session: the next APPEND goes out before the previous one's
 * tagged answer is back, so the server never waits for a round trip between messages (the way
 * mbsync pushes, its PipelineDepth). imapflow keeps one command in flight per connection and
 * fails the session on a tagged answer to a command it has not sent yet, so while a pipeline is
 * open it owns the connection: APPEND commands are compiled by imapflow's compiler (flags and
 * INTERNALDATE exactly as its `append()`), written to its `writeSocket` under tags of our own
 * (`MK<n>`: imapflow's are hex, never starting with M), and their tagged answers (and the "+" of a
 * synchronizing literal) are taken out of its reader before it sees them. Everything else
 * (untagged EXISTS, BYE, ALERT) still goes to imapflow. Nothing else may use the session until
 * `drained()`; `close()` gives the reader back.
 *
 * Literals go non-synchronizing ({n+}) where the server has LITERAL+ (or LITERAL- up to 4 KiB):
 * command, literal and CRLF in one write. Without it each literal waits for its "+", but the next
 * command still follows the literal at once, halving the round trips (Courier).
 *
 * Each APPEND's answer (OK with its APPENDUID, or the NO/BAD as imapflow's error, with
 * serverResponseCode and responseText) settles its own promise; the window (messages and bytes,
 * lib/limits.ts) bounds what is unanswered, and so the memory the caller keeps for it. The oldest
 * unanswered APPEND has the minimum-rate deadline of one APPEND of its size, counted from when it
 * became the oldest: a server that stalls or trickles is cut there (the session is closed). A lost
 * session fails every unanswered APPEND: their outcome is unknown (the caller's presence check of
 * the next run finds those the server kept).
 */

interface Internals {
  socket?: { setNoDelay?: (noDelay?: boolean) => unknown };
  handleResponse(data: ResponseData): Promise<boolean>;
  writeSocket?: Writable;
  currentRequest?: unknown;
  requestQueue?: unknown[];
  idling?: boolean;
  state: unknown;
  states: { AUTHENTICATED: unknown; SELECTED: unknown };
}

interface ResponseData {
  payload: Buffer;
  literals?: Buffer[];
}

interface InFlight {
  tag: string;
  size: number;
  resolve(a: AppendUid | null): void;
  reject(e: unknown): void;
  /** A synchronizing literal waits here: true on the server's "+", false on a tagged answer first. */
  plus?: (go: boolean) => void;
}

export interface AppendWindowLimits {
  messages: number;
  bytes: number;
}

const CRLF = Buffer.from('\r\n');
const OUR_TAG = /^\0*(MK\d+) /;
let tags = 0;

export class AppendPipeline {
  private readonly inflight: InFlight[] = [];
  private bytes = 0;
  private failure: unknown = null;
  private writing: Promise<void> = Promise.resolve();
  private waiters: (() => void)[] = [];
  private awaitingPlus: InFlight | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly conn: Internals;
  private readonly ws: Writable;
  private readonly limits: AppendWindowLimits;
  private readonly restoreReader: () => void;
  private readonly deadline: Partial<AppendDeadline> | undefined;

  /**
   * True when this session can carry a pipeline: imapflow's internals are where this relies on
   * them, and nothing of imapflow's own is in flight or queued (or idling).
   */
  static possible(client: ImapFlow): boolean {
    const c = client as unknown as Internals;
    return (
      client.usable &&
      typeof c.handleResponse === 'function' &&
      !!c.writeSocket &&
      typeof c.writeSocket.write === 'function' &&
      !c.currentRequest &&
      Array.isArray(c.requestQueue) &&
      c.requestQueue.length === 0 &&
      !c.idling &&
      (c.state === c.states.AUTHENTICATED || c.state === c.states.SELECTED)
    );
  }

  constructor(
    private readonly client: ImapFlow,
    opts: { window?: Partial<AppendWindowLimits>; deadline?: Partial<AppendDeadline> } = {},
  ) {
    if (!AppendPipeline.possible(client)) throw new Error('this session cannot carry pipelined APPENDs');
    this.deadline = opts.deadline;
    this.limits = {
      messages: Math.max(1, opts.window?.messages ?? RELAY_LIMITS.appendPipelineMessages),
      bytes: Math.max(1, opts.window?.bytes ?? RELAY_LIMITS.appendPipelineBytes),
    };
    this.conn = client as unknown as Internals;
    this.ws = this.conn.writeSocket!;
    // imapflow leaves Nagle's algorithm on: a command line written after a literal (no LITERAL+)
    // would then wait for the server's ACK, which comes with its answer to the previous APPEND,
    // undoing the overlap (seen on Courier). Writes here are whole commands, so none is too small.
    this.conn.socket?.setNoDelay?.(true);
    const own = Object.prototype.hasOwnProperty.call(this.conn, 'handleResponse') ? this.conn.handleResponse : undefined;
    const original = this.conn.handleResponse;
    this.conn.handleResponse = (data: ResponseData) => this.intercept(data, original);
    const onClose = (): void => this.fail(mailkeepError('CONNECTION_LOST', 'the destination closed the connection during APPEND'));
    const wake = (): void => this.wake();
    client.on('close', onClose);
    this.ws.on('drain', wake);
    this.restoreReader = () => {
      if (own) this.conn.handleResponse = own;
      else delete (this.conn as Partial<Internals>).handleResponse;
      client.removeListener('close', onClose);
      this.ws.removeListener('drain', wake);
    };
  }

  /** APPENDs sent and not answered yet. */
  get pending(): number {
    return this.inflight.length;
  }

  /**
   * Waits until a message of `size` bytes fits in the window (always when nothing is in flight)
   * and the socket has taken what was written. Throws what ended the pipeline.
   */
  async room(size: number): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      const n = this.inflight.length;
      if (n === 0 || (n < this.limits.messages && this.bytes + size <= this.limits.bytes && !this.ws.writableNeedDrain)) return;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /**
   * Sends one APPEND now (call `room()` first to stay within the window). Resolves with its
   * APPENDUID on OK; rejects with imapflow's error on NO/BAD, with the APPENDLIMIT refusal before
   * anything is sent, or with what ended the pipeline.
   */
  send(req: Omit<AppendRequest, 'body'> & { body: Buffer }): Promise<AppendUid | null> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('append pipeline closed'));
    const tooBig = appendLimitError(this.client, req.size);
    if (tooBig) return Promise.reject(tooBig);
    if (req.body.length !== req.size) return Promise.reject(new Error(`literal of ${req.body.length} bytes announced as ${req.size}`));
    const nonSync = nonSyncLiteral(this.client, req.size);
    const tag = `MK${++tags}`;
    let line: Buffer;
    try {
      line = compiler({ tag, command: 'APPEND', attributes: appendAttributes(this.client, req, nonSync) } as Parameters<typeof compiler>[0]) as Buffer;
    } catch (err) {
      // A value the compiler will not encode: nothing was sent, the message is refused here.
      return Promise.reject(err);
    }
    return new Promise<AppendUid | null>((resolve, reject) => {
      const item: InFlight = { tag, size: req.size, resolve, reject };
      this.inflight.push(item);
      this.bytes += req.size;
      if (this.inflight.length === 1) this.arm();
      const body = req.body;
      this.writing = this.writing.then(() => this.write(item, line, body, nonSync)).catch((err: unknown) => {
        this.fail(err);
        this.client.close();
      });
    });
  }

  /** Waits until every APPEND sent has its answer (or the pipeline failed: then nothing is left). */
  async drained(): Promise<void> {
    while (this.inflight.length && !this.failure) await new Promise<void>((r) => this.waiters.push(r));
    await this.writing;
  }

  /**
   * Gives the session back to imapflow. APPENDs still unanswered (a caller that stopped early)
   * would leave the connection mid-command: they fail, and the session is closed.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.inflight.length) {
      this.fail(mailkeepError('CONNECTION_LOST', 'APPENDs abandoned unanswered: session closed'));
      this.client.close();
    }
    clearTimeout(this.timer);
    this.restoreReader();
  }

  private async write(item: InFlight, line: Buffer, body: Buffer, nonSync: boolean): Promise<void> {
    if (this.failure || !this.inflight.includes(item)) return;
    if (this.ws.destroyed) throw mailkeepError('CONNECTION_LOST', 'the destination closed the connection during APPEND');
    if (nonSync) {
      // One write for command, literal and CRLF: imapflow leaves Nagle on (see append-stream.ts).
      this.ws.cork();
      this.ws.write(line);
      this.ws.write(CRLF);
      this.ws.write(body);
      this.ws.write(CRLF);
      this.ws.uncork();
      return;
    }
    const go = new Promise<boolean>((r) => {
      item.plus = r;
    });
    this.awaitingPlus = item;
    this.ws.write(Buffer.concat([line, CRLF]));
    const sendLiteral = await go;
    if (this.awaitingPlus === item) this.awaitingPlus = null;
    // A tagged NO before the "+" refused the message unseen: its literal is not sent.
    if (!sendLiteral || this.failure) return;
    this.ws.cork();
    this.ws.write(body);
    this.ws.write(CRLF);
    this.ws.uncork();
  }

  /** imapflow's reader, with our tagged answers and the "+" we wait for taken out first. */
  private async intercept(data: ResponseData, original: Internals['handleResponse']): Promise<boolean> {
    const head = data.payload.toString('latin1', 0, Math.min(data.payload.length, 32));
    const ours = OUR_TAG.exec(head);
    if (ours) {
      await this.answer(ours[1]!, data);
      return true;
    }
    if (this.awaitingPlus && /^\0*\+/.test(head)) {
      const item = this.awaitingPlus;
      this.awaitingPlus = null;
      item.plus?.(true);
      return true;
    }
    return original.call(this.conn, data);
  }

  private async answer(tag: string, data: ResponseData): Promise<void> {
    const at = this.inflight.findIndex((i) => i.tag === tag);
    if (at < 0) return; // an APPEND already failed with its pipeline: nobody waits for it
    const [item] = this.inflight.splice(at, 1) as [InFlight];
    this.bytes -= item.size;
    if (this.awaitingPlus === item) this.awaitingPlus = null;
    item.plus?.(false);
    if (at === 0) this.arm();
    let parsed: { command?: string; attributes?: unknown[] };
    try {
      parsed = (await parser(data.payload, { literals: data.literals })) as typeof parsed;
    } catch (err) {
      // The answer cannot be read, so whether the server kept the message is unknown: stop here.
      item.reject(mailkeepError('CONNECTION_LOST', 'unreadable answer to APPEND: session closed', {}, err));
      this.fail(mailkeepError('CONNECTION_LOST', 'unreadable answer to APPEND: session closed', {}, err));
      this.client.close();
      return;
    }
    const status = String(parsed.command ?? '').toUpperCase();
    if (status === 'OK') item.resolve(appendUidOf(parsed));
    else if (status === 'NO' || status === 'BAD') {
      // The same error imapflow's own commands reject with (its settleRequest), so refusals are
      // classified the same way whichever path sent the message.
      const err = new Error('Command failed') as Error & { response: unknown; responseStatus: string; responseText?: string; executedCommand: string };
      err.response = parsed;
      err.responseStatus = status;
      err.executedCommand = `${tag} APPEND`;
      const text = getTextValues(parsed.attributes as Parameters<typeof getTextValues>[0])
        .map((v) => v.trim())
        .join(' ');
      if (text) err.responseText = text;
      await enhanceCommandError(err as Parameters<typeof enhanceCommandError>[0]);
      item.reject(err);
    } else {
      item.reject(mailkeepError('CONNECTION_LOST', `unexpected answer to APPEND: ${status.slice(0, 20)}`));
      this.fail(mailkeepError('CONNECTION_LOST', `unexpected answer to APPEND: ${status.slice(0, 20)}`));
      this.client.close();
    }
    this.wake();
  }

  /** The deadline of the oldest unanswered APPEND, from now (it just became the oldest). */
  private arm(): void {
    clearTimeout(this.timer);
    const head = this.inflight[0];
    if (!head) return;
    const ms = appendDeadlineMs(head.size, this.deadline);
    this.timer = setTimeout(() => {
      const rate = ((this.deadline?.minBytesPerSecond ?? RELAY_LIMITS.appendMinBytesPerSecond) / 1024).toFixed(0);
      this.fail(
        mailkeepError(
          'CONNECTION_TIMEOUT',
          `the destination server moved a ${head.size}-byte message slower than ${rate} KiB/s (deadline ${Math.round(ms / 1000)} s): connection closed`,
          { side: 'destination', size: head.size, deadlineMs: ms },
        ),
      );
      this.client.close();
    }, ms);
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err;
    clearTimeout(this.timer);
    const lost = this.inflight.splice(0);
    this.bytes = 0;
    for (const item of lost) {
      item.plus?.(false);
      item.reject(err);
    }
    this.awaitingPlus = null;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters.splice(0);
    for (const r of w) r();
  }
}
