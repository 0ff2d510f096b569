import type { ImapFlow } from 'imapflow';
import { AppendPipeline, type AppendWindowLimits } from '../imap/append-pipeline.ts';
import type { AppendOptions, AppendRequest, AppendUid } from '../imap/append-stream.ts';
import { providerLimitOf } from '../imap/provider-limits.ts';
import { appendTries, appendWithFallback, QuotaStop, refusalOutcome, type AppendOutcome } from './append-job.ts';

/** One message for the window: its APPEND with all flags, and the system flags to fall back to. */
export type WindowRequest = Omit<AppendRequest, 'flags'> & { flags: string[]; systemFlags: string[] };

/** What became of one message, reported once, in the order the messages were added. */
export interface AppendReport<M> {
  message: M;
  size: number;
  outcome: AppendOutcome;
  /** The server's APPENDUID for an 'ok' (UIDPLUS), else null. */
  ack: AppendUid | null;
}

export interface AppendWindowOptions<M> extends AppendOptions {
  /** The reason given for a refused message (default: the server's words). */
  refused?: (err: unknown, size: number) => string;
  window?: Partial<AppendWindowLimits>;
  /** Stops the window like a quota stop: nothing more is sent, what is in flight is answered. */
  signal?: AbortSignal;
  /**
   * Called for each message whose outcome is known, in the order they were added (the place to
   * record an APPENDUID durably). Awaited; if it throws, nothing more is sent and add() or
   * settled() throws its error once the APPENDs already sent are answered.
   */
  onReport: (r: AppendReport<M>) => void | Promise<void>;
}

interface Entry<M> {
  message: M;
  req: WindowRequest;
  tries: string[][];
  /** Known: reported in order. */
  outcome?: AppendOutcome;
  ack?: AppendUid | null;
  /** Unknown or not sent (the window stopped): never reported, counted as not appended. */
  dropped?: boolean;
  finished: Promise<void>;
  finish: () => void;
}

/**
 * The APPEND loop of Restore and Migrate with the round trips overlapped: small messages (a Buffer)
 * go through an AppendPipeline, large ones (a chunk source: streamed, relay/imap/append-stream.ts)
 * alone once everything before them is answered. Each message is reported once, in the order it
 * was added: appended (with its APPENDUID) or refused with its code. A refusal falls back once to
 * the system flags (resent behind the messages already in flight).
 *
 * What stops it, and what is then known (never-twice rests on this):
 * - an over-quota refusal (QuotaStop): nothing more is sent; the APPENDs already in flight are
 *   answered and reported (a smaller one may still fit), then add() or settled() throws QuotaStop;
 *   the refused messages are not reported (not appended);
 * - a lost or timed-out session: the messages in flight are not reported: whether the server
 *   kept them is unknown, and the next run's presence check finds those it kept;
 * - onReport throwing, or the signal: as for quota, with its error (the signal's reason).
 * `inDoubt` lists the messages whose APPEND was sent but never answered.
 * Without the internals the pipeline needs, every message goes the one-at-a-time way.
 */
export class AppendWindow<M> {
  private readonly pipe: AppendPipeline | null;
  private readonly entries: Entry<M>[] = [];
  private stop: { err: unknown } | null = null;
  private reporting: Promise<void> = Promise.resolve();
  private readonly onAbort = (): void => this.halt(this.opts.signal?.reason ?? new Error('aborted'));
  /** Sent, never answered (the session was lost): whether the server kept them is unknown. */
  readonly inDoubt: M[] = [];

  constructor(
    private readonly client: ImapFlow,
    private readonly opts: AppendWindowOptions<M>,
  ) {
    this.pipe = AppendPipeline.possible(client) ? new AppendPipeline(client, { window: opts.window, deadline: opts.deadline }) : null;
    if (opts.signal?.aborted) this.onAbort();
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Sends one message (waits while the window is full). Throws what stopped the window. */
  async add(message: M, req: WindowRequest): Promise<void> {
    if (this.stop) return this.settled();
    if (!this.pipe || !Buffer.isBuffer(req.body)) {
      // Everything before it answered first: imapflow's own APPEND (streamed) must be alone on the
      // session, and the order of the folder is kept.
      await this.settled();
      let ack: AppendUid | null = null;
      let outcome: AppendOutcome;
      try {
        outcome = await appendWithFallback(this.client, req, { ...this.opts, refused: this.why(req.size), appended: (a) => (ack = a) });
      } catch (err) {
        // Refused for quota or by a provider's limit on this very APPEND: not appended.
        if (!(err instanceof QuotaStop) && !refusedByLimit(err)) this.inDoubt.push(message);
        throw err;
      }
      await this.opts.onReport({ message, size: req.size, outcome, ack });
      return;
    }
    const entry = this.entry(message, req);
    try {
      await this.pipe.room(req.size);
    } catch (err) {
      this.halt(err);
      this.drop(entry);
      return this.settled();
    }
    if (this.stop) {
      this.drop(entry);
      return this.settled();
    }
    this.launch(entry);
  }

  /** A message whose outcome is known without the server (a damaged blob): reported in its turn. */
  skip(message: M, size: number, outcome: Exclude<AppendOutcome, 'ok'>): void {
    const entry = this.entry(message, { path: '', flags: [], systemFlags: [], internalDate: null, size, body: Buffer.alloc(0) });
    entry.outcome = outcome;
    entry.finish();
    this.pump();
  }

  /** Waits until every message added is answered and reported; throws what stopped the window. */
  async settled(): Promise<void> {
    while (this.entries.length) {
      await Promise.all(this.entries.map((e) => e.finished));
      this.pump();
      await this.reporting;
    }
    await this.reporting;
    if (this.stop) throw this.stop.err;
  }

  /** Gives the session back (call after settled(), or to abandon: then the session is closed). */
  close(): void {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.pipe?.close();
  }

  private why(size: number): ((err: unknown) => string) | undefined {
    const refused = this.opts.refused;
    return refused ? (err) => refused(err, size) : undefined;
  }

  private entry(message: M, req: WindowRequest): Entry<M> {
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const entry: Entry<M> = { message, req, tries: appendTries(req), finished, finish };
    this.entries.push(entry);
    return entry;
  }

  private launch(entry: Entry<M>): void {
    const flags = entry.tries.shift()!;
    const { systemFlags, ...base } = entry.req;
    this.pipe!.send({ ...base, flags, body: base.body as Buffer }).then(
      (ack) => this.known(entry, 'ok', ack),
      (err: unknown) => {
        let outcome: AppendOutcome | 'retry';
        try {
          outcome = refusalOutcome(this.client, err, flags === systemFlags, this.why(entry.req.size));
        } catch (stop) {
          this.halt(stop);
          // Refused for quota or by a provider's limit: not appended. Anything else: the session went with the answer.
          if (!(stop instanceof QuotaStop) && !providerLimitOf(err, 'APPEND')) this.inDoubt.push(entry.message);
          this.drop(entry);
          return;
        }
        if (outcome !== 'retry') return this.known(entry, outcome, null);
        // Refused with its keywords: once more with the system flags, unless the window stopped
        // (then it was refused: not appended).
        if (this.stop) return this.drop(entry);
        this.launch(entry);
      },
    );
  }

  private known(entry: Entry<M>, outcome: AppendOutcome, ack: AppendUid | null): void {
    entry.outcome = outcome;
    entry.ack = ack;
    entry.finish();
    this.pump();
  }

  private drop(entry: Entry<M>): void {
    entry.dropped = true;
    entry.finish();
    this.pump();
  }

  private halt(err: unknown): void {
    this.stop ??= { err };
  }

  /** Reports, in order, every message at the head whose outcome is known. */
  private pump(): void {
    this.reporting = this.reporting.then(async () => {
      for (;;) {
        const head = this.entries[0];
        if (!head || (!head.outcome && !head.dropped)) return;
        this.entries.shift();
        if (head.dropped || !head.outcome) continue;
        try {
          await this.opts.onReport({ message: head.message, size: head.req.size, outcome: head.outcome, ack: head.ack ?? null });
        } catch (err) {
          this.halt(err);
        }
      }
    });
  }
}

/** A PROVIDER_LIMIT_PAUSED whose cause is this APPEND's own refusal (not the session closing under it). */
function refusedByLimit(err: unknown): boolean {
  return !!providerLimitOf((err as { cause?: unknown } | null)?.cause, 'APPEND');
}
