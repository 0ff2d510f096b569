import { SEARCH_LIMITS } from '../../lib/limits.ts';
import type { Pacer } from './index-update.ts';

/** Time as the pacer sees it: injected so a test can drive a simulated run without waiting. */
export interface PacerClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** One turn of the event loop, so requests are answered between slices at full speed. */
  yieldTurn(): Promise<void>;
}

export const realClock: PacerClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      // unref: a pause or a follow-up never keeps a finished `mailkeep` process alive.
      const timer = setTimeout(done, ms);
      timer.unref();
      signal.addEventListener('abort', done);
    }),
  yieldTurn: () => new Promise<void>((resolve) => setImmediate(resolve)),
};

/** The indexer's own account of how much it worked while a backup ran (bench, diagnostics). */
export interface PacingFigures {
  /** Time the indexer spent working on the relay's thread while at least one backup ran. */
  busyWorkMs: number;
  /** Wall time during which at least one backup ran. */
  busyWallMs: number;
  /** The longest stretch of work between two pauses while a backup ran: what the share may overshoot by. */
  longestStretchMs: number;
}

/**
 * Holds the background indexer to SEARCH_LIMITS.busyShare of wall time while a backup runs.
 *
 * Everything from begin() to end() that is not a rest is the indexer's work: the caller calls
 * begin() before a pass, pause() between batches and messages and end() after it, so opening the
 * databases, the archive queries, reading packs, parsing, the batch commits and closing are all
 * counted. While a backup runs, once a slice holds busyWorkSliceMs of work the pacer rests for that
 * work times (1/busyShare - 1): a slice that overran (a 200 ms message or commit) is followed by a
 * proportionally longer rest, so work / (work + rest) is busyShare whatever a slice held. A backup
 * starts with a rest (as if a slice had just been worked), so at any moment of a backup the
 * indexer's work is at most busyShare x its wall time so far plus the stretch under way (one
 * message, one batch's commit and query). A rest ends early when the last backup ends (full speed
 * from there) or the pacer is stopped.
 *
 * A stretch is wall time, so it also holds whatever else the event loop ran meanwhile: parsing a
 * message yields to it about ten times (mailparser's streams), and a backup's group commit may
 * land there. The account is thus an upper bound of the indexer's own time; it only ever makes the
 * indexer rest more.
 */
export class IndexPacer implements Pacer {
  private busySince: number | null = null;
  private busyWallBefore = 0;
  private busyWork = 0;
  private longest = 0;
  /** A stretch of work is under way (between begin() and end()), begun at this point of busyClock. */
  private working = false;
  private stretchBusyStart = 0;
  /** Busy work since the last rest. */
  private slice = 0;
  private lastYield = 0;
  private wake = new AbortController();
  private stopped = false;

  constructor(private readonly clock: PacerClock = realClock) {}

  busy(): boolean {
    return this.busySince !== null;
  }

  /** The indexer's backups: true when the first starts, false when the last ends. */
  setBusy(busy: boolean): void {
    const now = this.clock.now();
    if (busy && this.busySince === null) {
      this.busySince = now;
      // A backup starts as if a slice had just been worked: it gets a rest's head start before the
      // indexer opens anything, and the indexer's work never runs ahead of its share by more than
      // the stretch under way.
      this.slice = SEARCH_LIMITS.busyWorkSliceMs;
    }
    if (!busy && this.busySince !== null) {
      this.busyWallBefore += now - this.busySince;
      this.busySince = null;
      this.wake.abort();
    }
  }

  /** Starts a pass: the time since end() was not the indexer's; a rest it still owes comes first. */
  async begin(): Promise<void> {
    this.lastYield = this.clock.now();
    await this.pause();
  }

  /** Ends the pass: its last stretch (final commit, closing) is counted and rested for too. */
  async end(): Promise<void> {
    await this.pause();
    this.working = false;
  }

  /** Ends the current stretch of work: counts it, rests (backup running) or yields (none). */
  async pause(): Promise<void> {
    const now = this.clock.now();
    if (this.working) {
      // Only the part of the stretch that overlapped a backup counts against the share.
      const worked = this.busyClock(now) - this.stretchBusyStart;
      this.busyWork += worked;
      this.longest = Math.max(this.longest, worked);
      if (this.busy()) this.slice += worked;
      else this.slice = 0;
      this.working = false;
    }
    if (this.busy() && !this.stopped) {
      if (this.slice >= SEARCH_LIMITS.busyWorkSliceMs) {
        const rest = this.slice * (1 / SEARCH_LIMITS.busyShare - 1);
        this.slice = 0;
        this.wake = new AbortController();
        await this.clock.sleep(rest, this.wake.signal);
      }
    } else if (now - this.lastYield >= SEARCH_LIMITS.busyWorkSliceMs && !this.stopped) {
      await this.clock.yieldTurn();
      this.lastYield = this.clock.now();
    }
    this.resume();
  }

  /** Ends a rest at once and rests no more (the relay is stopping). */
  stop(): void {
    this.stopped = true;
    this.wake.abort();
  }

  figures(): PacingFigures {
    const now = this.clock.now();
    const current = this.working ? this.busyClock(now) - this.stretchBusyStart : 0;
    return { busyWorkMs: this.busyWork + current, busyWallMs: this.busyClock(now), longestStretchMs: Math.max(this.longest, current) };
  }

  private resume(): void {
    this.working = true;
    this.stretchBusyStart = this.busyClock(this.clock.now());
  }

  /** Wall time with a backup running, from the pacer's creation to `now`. */
  private busyClock(now: number): number {
    return this.busyWallBefore + (this.busySince === null ? 0 : now - this.busySince);
  }
}
