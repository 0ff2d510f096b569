import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SEARCH_LIMITS } from '../../lib/limits.ts';
import { BackgroundIndexer } from '../../relay/search/background-indexer.ts';
import { IndexPacer, type PacerClock } from '../../relay/search/index-pacer.ts';
import type { UpdateOptions } from '../../relay/search/index-update.ts';
import { closeSearchSessions, searchArchive, updateSearchIndex } from '../../relay/search/index.ts';
import { writeRun } from '../support/search-archive.ts';
import { searchBenchMessages } from '../support/search-corpus.ts';
import { bigMessage } from '../support/large-message.ts';

/**
 * The relay's background indexer must not slow a backup by more than 10 % (issue 15): while a backup
 * runs it works at most SEARCH_LIMITS.busyShare of wall time, whatever one message or one commit
 * costs, with everything a pass does counted. Driven by a simulated clock (no real waiting): the
 * indexer's work is the simulated time a fake pass spends, and the test keeps its own account of
 * that work to check the indexer's.
 */

const SHARE = SEARCH_LIMITS.busyShare;
const SLICE = SEARCH_LIMITS.busyWorkSliceMs;
const REST_FACTOR = 1 / SHARE - 1;

/** Simulated time: work advances it at once; sleeps wait until the test runs the clock past them. */
class SimClock implements PacerClock {
  t = 0;
  yields = 0;
  private seq = 0;
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  /** Every sleep asked for: when, how long, and the work done since the sleep before it. */
  readonly sleeps: { at: number; ms: number; workBefore: number }[] = [];
  /** The simulated truth: [start, ms] of every piece of work, and what runs. */
  readonly work: { at: number; ms: number }[] = [];
  private workSinceSleep = 0;

  now = (): number => this.t;

  sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      this.sleeps.push({ at: this.t, ms, workBefore: this.workSinceSleep });
      this.workSinceSleep = 0;
      if (signal.aborted) return resolve();
      const timer = { at: this.t + ms, seq: this.seq++, fire: resolve };
      this.timers.push(timer);
      signal.addEventListener('abort', () => {
        this.timers = this.timers.filter((x) => x !== timer);
        resolve();
      });
    });

  yieldTurn = async (): Promise<void> => {
    this.yields++;
  };

  /** The indexer working for `ms` (synchronously, as on the relay's thread). */
  spend(ms: number): void {
    this.work.push({ at: this.t, ms });
    this.workSinceSleep += ms;
    this.t += ms;
  }

  /** A test event (a backup starting or ending, a group committed) at simulated time `at`. */
  at(at: number, fn: () => void): void {
    this.timers.push({ at, seq: this.seq++, fire: fn });
  }

  pending(): number {
    return this.timers.length;
  }

  /** Fires timers in order until none is left before `until` (work may make them fire late). */
  async runUntil(until: number): Promise<void> {
    for (;;) {
      await flush();
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > until) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fire();
    }
    await flush();
    this.t = Math.max(this.t, until);
  }

  /** The indexer's work within [from, to). */
  workIn(from: number, to: number): number {
    return this.work.reduce((sum, w) => sum + Math.max(0, Math.min(w.at + w.ms, to) - Math.max(w.at, from)), 0);
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

/**
 * An archive a simulated backup fills: each message costs some work to index, and every 50 messages
 * a batch commit; `plain` messages cost 0.2-0.8 ms, every 37th message and every 10th commit 200 ms.
 */
class SimArchive {
  readonly pending: number[] = [];
  private messages = 0;
  private commits = 0;
  commitGroup(n: number): void {
    for (let i = 0; i < n; i++) {
      this.messages++;
      this.pending.push(this.messages % 37 === 0 ? 200 : 0.2 + (this.messages % 7) * 0.1);
      if (this.messages % 50 === 0) this.pending.push(++this.commits % 10 === 0 ? 200 : 4);
    }
  }
}

/** A pass as index-update.ts makes it: open, pause before each unit, close after the last. */
function simUpdate(clock: SimClock, archives: Map<string, SimArchive>, costs = { open: 30, close: 20 }) {
  return async (dir: string, opts: UpdateOptions): Promise<void> => {
    const archive = archives.get(dir)!;
    clock.spend(costs.open); // before the first pause: opening the databases, the first query
    for (;;) {
      await opts.pacer!.pause();
      if (opts.signal?.aborted) return;
      const cost = archive.pending.shift();
      if (cost === undefined) break;
      clock.spend(cost);
    }
    clock.spend(costs.close); // after the last pause: the final mark, closing
  };
}

function world(dirs: string[], costs?: { open: number; close: number }) {
  const clock = new SimClock();
  const archives = new Map(dirs.map((d) => [d, new SimArchive()]));
  const errors: unknown[] = [];
  const indexer = new BackgroundIndexer((_d, e) => errors.push(e), simUpdate(clock, archives, costs), clock);
  /** When each simulated backup ended (its end event fires late when a unit of work overran it). */
  const ended: number[] = [];
  return { clock, archives, errors, indexer, ended };
}

/** A backup of `dir` from `start` to `end`, committing `perGroup` messages every 5 s. */
function simBackup(w: ReturnType<typeof world>, dir: string, start: number, end: number, perGroup: number): void {
  w.clock.at(start, () => {
    w.archives.get(dir)!.commitGroup(perGroup);
    w.indexer.backupStarted(dir);
  });
  for (let g = start + 5000; g < end; g += 5000) w.clock.at(g, () => w.archives.get(dir)!.commitGroup(perGroup));
  w.clock.at(end, () => {
    w.ended.push(w.clock.t);
    w.indexer.backupEnded(dir);
  });
}

describe('the background indexer while a backup runs', () => {
  it('works at most busyShare of the backup’s wall time, whatever each message or commit costs, and rests in proportion to the work of each slice', async () => {
    const w = world(['a']);
    const T = 600_000; // a 10-minute backup, 100 messages every 5 s: the indexer never runs out of work
    simBackup(w, 'a', 0, T, 100);
    await w.clock.runUntil(T);
    const { busyWorkMs, busyWallMs } = w.indexer.pacing();
    const work = w.clock.workIn(0, T);
    // Tolerance: the stretch under way when the backup ends (at most the longest unit, 200 ms; + 1 ms
    // for the first slice, which a backup starts with as a rest: busyShare of it is not work).
    expect(work).toBeLessThanOrEqual(SHARE * T + 200 + 1);
    expect(work / T).toBeLessThanOrEqual(SHARE + 0.00034);
    expect(work / T).toBeGreaterThan(SHARE * 0.9); // paced, not starved
    // Its own account is the truth.
    expect(busyWallMs).toBe(w.ended[0]);
    expect(w.indexer.pacing().longestStretchMs).toBe(200);
    expect(busyWorkMs).toBeCloseTo(w.clock.workIn(0, w.ended[0]!), 6);
    // Every rest is the slice's work x (1/share - 1): a slice a 200 ms unit overran rests 3.8 s and more.
    const [first, ...rests] = w.clock.sleeps.filter((s) => s.at < T);
    // The backup starts with a rest: the indexer opens nothing before the backup has had it.
    expect(first).toEqual({ at: 0, ms: SLICE * REST_FACTOR, workBefore: 0 });
    expect(w.clock.work[0]!.at).toBe(SLICE * REST_FACTOR);
    expect(rests.length).toBeGreaterThan(100);
    for (const r of rests) {
      expect(r.workBefore).toBeGreaterThanOrEqual(SLICE);
      expect(r.ms).toBeCloseTo(r.workBefore * REST_FACTOR, 6);
    }
    expect(rests.filter((r) => r.workBefore >= 200).every((r) => r.ms >= 200 * REST_FACTOR)).toBe(true);
    expect(rests.some((r) => r.workBefore >= 200)).toBe(true);
    w.indexer.stop();
    await w.indexer.idle();
    expect(w.errors).toEqual([]);
  });

  it('runs at full speed once the backup ends: the rest under way ends and none follows, with a turn of the event loop every slice', async () => {
    const w = world(['a']);
    const T = 60_000;
    simBackup(w, 'a', 0, T, 200);
    await w.clock.runUntil(T);
    await w.indexer.idle();
    const end = w.ended[0]!;
    expect(w.archives.get('a')!.pending).toEqual([]);
    // Much was left when the backup ended, and it was done without a moment of wall time unworked.
    expect(w.clock.work.filter((x) => x.at >= end).length).toBeGreaterThan(1000);
    const finishedAt = w.clock.t;
    expect(finishedAt - end).toBeCloseTo(w.clock.workIn(end, finishedAt), 6);
    expect(w.clock.sleeps.filter((s) => s.at >= end)).toEqual([]);
    // The rest under way when it ended was cut short: the last one asked for reached past the end.
    const last = w.clock.sleeps.at(-1)!;
    expect(last.at + last.ms).toBeGreaterThan(end);
    expect(w.clock.yields).toBeGreaterThanOrEqual(Math.floor((finishedAt - end) / (SLICE + 200)));
    expect(w.clock.pending()).toBe(0);
    expect(w.indexer.pacing().busyWallMs).toBe(end);
  });

  it.each([
    ['two archives', 'b'],
    ['the same archive (counted twice)', 'a'],
  ])('two overlapping backups (%s) keep it paced until both end', async (_what, second) => {
    const w = world(['a', 'b']);
    simBackup(w, 'a', 0, 100_000, 100);
    simBackup(w, second, 60_000, 200_000, 100);
    await w.clock.runUntil(200_000);
    // Paced after the first ended, while the second still ran.
    const between = w.clock.workIn(100_000, 200_000);
    expect(between).toBeLessThanOrEqual(SHARE * 100_000 + 200 + 1);
    expect(between).toBeGreaterThan(SHARE * 100_000 * 0.9);
    expect(w.clock.sleeps.some((s) => s.at > 110_000 && s.at < 200_000)).toBe(true);
    // Wall time with a backup running is the union of the two, not their sum.
    expect(w.indexer.pacing().busyWallMs).toBe(Math.max(...w.ended));
    expect(w.indexer.pacing().busyWorkMs).toBeLessThanOrEqual(SHARE * 200_000 + 200 + 1);
    // And full speed after both.
    const rests = w.clock.sleeps.length;
    await w.indexer.idle();
    expect(w.clock.sleeps.length).toBe(rests);
    const end = Math.max(...w.ended);
    expect(w.clock.t - end).toBeCloseTo(w.clock.workIn(end, w.clock.t), 6);
  });

  it('counts each pass from opening to closing: many short passes over a slowly growing archive keep the share too', async () => {
    // 3 messages every 5 s: the indexer catches up and looks again every busyFollowUpMs, each look
    // costing 150 ms of opening and closing (a full count of a large archive): 7 % of wall time if
    // they were not counted.
    const w = world(['a'], { open: 100, close: 50 });
    const T = 300_000;
    simBackup(w, 'a', 0, T, 3);
    await w.clock.runUntil(T);
    const work = w.clock.workIn(0, T);
    expect(work).toBeLessThanOrEqual(SHARE * T + 200 + 1);
    expect(w.indexer.pacing().busyWorkMs).toBeCloseTo(w.clock.workIn(0, w.ended[0]!), 6);
    // It did keep looking, about once a group (each look, 150 ms of work, is followed by its 2.85 s
    // rest, then busyFollowUpMs): search stays about one group behind.
    expect(w.clock.work.filter((x) => x.ms === 100).length).toBeGreaterThanOrEqual(T / 6000);
    w.indexer.stop();
    await w.indexer.idle();
  });

  it('stop() ends a rest at once: the indexer is idle without the clock moving, and nothing is left waiting', async () => {
    const w = world(['a']);
    simBackup(w, 'a', 0, 600_000, 100);
    await w.clock.runUntil(30_000);
    expect(w.clock.sleeps.at(-1)!.at + w.clock.sleeps.at(-1)!.ms).toBeGreaterThan(30_000); // in a rest
    const t = w.clock.t;
    w.indexer.stop();
    await w.indexer.idle();
    expect(w.clock.t).toBe(t);
    const left = w.archives.get('a')!.pending.length;
    await w.clock.runUntil(600_000); // the backup's later groups and its end: nothing more is indexed
    expect(w.archives.get('a')!.pending.length).toBeGreaterThan(left);
    expect(w.clock.workIn(t, 600_000)).toBe(0);
    expect(w.clock.pending()).toBe(0);
  });
});

describe('a real pass under the pacer', () => {
  const dirs: string[] = [];
  afterEach(() => closeSearchSessions());
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('counts every moment of a real pass (opening, parsing a 3 MB message, commits, closing) as work and holds the share', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-search-pacer-'));
    dirs.push(dir);
    const head = 'From: big@example.org\r\nTo: b@example.net\r\nSubject: very large\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n';
    const big = bigMessage(`${head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`, 3);
    const msgs = searchBenchMessages(300, 11);
    await writeRun(dir, [{ folder: 'INBOX', messages: [...msgs.slice(0, 150), { raw: big }, ...msgs.slice(150)] }]);
    await writeRun(dir, [{ folder: 'Copy', messages: msgs }]); // memberships only: batches without a parse
    // Real time for the work, simulated time for the rests (added to the clock, never waited for).
    let rested = 0;
    const clock: PacerClock = {
      now: () => performance.now() + rested,
      sleep: async (ms) => {
        rested += ms;
      },
      yieldTurn: async () => {},
    };
    const pacer = new IndexPacer(clock);
    pacer.setBusy(true);
    let pauses = 0;
    const counting = { busy: () => pacer.busy(), pause: () => (pauses++, pacer.pause()) };
    const t0 = performance.now();
    await pacer.begin();
    const report = await updateSearchIndex(dir, { pacer: counting });
    await pacer.end();
    const elapsed = performance.now() - t0;
    const { busyWorkMs, busyWallMs } = pacer.figures();
    expect(report).toMatchObject({ complete: true, indexed: 301, memberships: 601 });
    expect(searchArchive(dir, 'subject:"very large"').hits).toHaveLength(1);
    // Nearly all the real time went into counted work (the rest is the event loop between stretches)...
    expect(busyWorkMs).toBeLessThanOrEqual(elapsed + 1);
    expect(busyWorkMs).toBeGreaterThan(elapsed * 0.9);
    // ...and was rested for: at most the share (a last slice under busyWorkSliceMs goes unrested, the
    // head start rested for one ahead: net, busyShare of one slice).
    expect(busyWorkMs).toBeLessThanOrEqual(SHARE * busyWallMs + SHARE * SLICE);
    // Batches of 50 while busy, each paused before, also the six batches of memberships only.
    expect(pauses).toBeGreaterThanOrEqual(301 + Math.ceil(601 / 50));
  }, 60_000);
});

describe('an account whose first backup has not made its archive yet', () => {
  it('is nothing to index and no error: the relay logs no "not updated" line for it', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-first-'));
    const errors: unknown[] = [];
    const indexer = new BackgroundIndexer((_dir, err) => errors.push(err));
    try {
      const dir = path.join(dataDir, 'archives', 'acc-1'); // the backup has not created it yet
      indexer.backupStarted(dir);
      indexer.backupEnded(dir);
      await indexer.idle();
      expect(errors).toEqual([]);
      expect(fs.existsSync(path.join(dir, 'search.sqlite'))).toBe(false);
    } finally {
      indexer.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
