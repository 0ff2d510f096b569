import fs from 'node:fs';
import path from 'node:path';
import { SEARCH_LIMITS } from '../../lib/limits.ts';
import { IndexPacer, realClock, type PacerClock, type PacingFigures } from './index-pacer.ts';
import type { UpdateOptions } from './index-update.ts';

/**
 * The relay keeps every account's search index up to date by itself: at start (a full pass over
 * each archive, which also finishes what a killed relay left), while a backup runs (after its group
 * commits, paced by index-pacer.ts: at most SEARCH_LIMITS.busyShare of wall time, every pass counted
 * from before it opens the databases to after it closes them, so the backup that shares this thread
 * and the machine's cores is not slowed by more than a few per cent), and once more at full speed
 * when the backup ends. One archive at a time. Failures are reported and retried at the
 * next trigger: the index is a cache, a search still answers from what it has.
 */
export class BackgroundIndexer {
  private readonly backups = new Map<string, number>();
  private readonly queue = new Map<string, boolean>();
  private running: Promise<void> | null = null;
  private readonly controller = new AbortController();
  private followUp = false;
  private readonly pacer: IndexPacer;

  constructor(
    public onError: (archiveDir: string, err: unknown) => void = () => {},
    private readonly update: (dir: string, opts: UpdateOptions) => Promise<unknown> = updateIfArchived,
    private readonly clock: PacerClock = realClock,
  ) {
    this.pacer = new IndexPacer(clock);
  }

  /** Every archive under `<dataDir>/archives` (relay/jobs/data-dirs.ts), with a full pass each. */
  startup(archivesDir: string): void {
    let names: string[] = [];
    try {
      names = fs.readdirSync(archivesDir);
    } catch {
      return; // no archive yet
    }
    for (const n of names) if (fs.existsSync(path.join(archivesDir, n, 'index.sqlite'))) this.schedule(path.join(archivesDir, n), true);
  }

  backupStarted(archiveDir: string): void {
    this.backups.set(archiveDir, (this.backups.get(archiveDir) ?? 0) + 1);
    this.pacer.setBusy(true);
    this.schedule(archiveDir, false);
  }

  backupEnded(archiveDir: string): void {
    const n = (this.backups.get(archiveDir) ?? 1) - 1;
    if (n <= 0) this.backups.delete(archiveDir);
    else this.backups.set(archiveDir, n);
    this.pacer.setBusy(this.backups.size > 0);
    this.schedule(archiveDir, false);
  }

  /** Resolves when nothing is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Ends a pause or a wait for the next look at once; a pass under way stops at its next message. */
  stop(): void {
    this.controller.abort();
    this.pacer.stop();
  }

  /** Its work on the relay's thread while backups ran, against their wall time (bench, diagnostics). */
  pacing(): PacingFigures {
    return this.pacer.figures();
  }

  schedule(archiveDir: string, full: boolean): void {
    if (this.controller.signal.aborted) return;
    this.queue.set(archiveDir, (this.queue.get(archiveDir) ?? false) || full);
    this.kick();
  }

  private kick(): void {
    this.running ??= this.drain().finally(() => {
      this.running = null;
      // Queued after the drain's last look (between its loop and here): not left waiting.
      if (this.queue.size > 0 && !this.controller.signal.aborted) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.size > 0 && !this.controller.signal.aborted) {
      const [dir, full] = this.queue.entries().next().value as [string, boolean];
      this.queue.delete(dir);
      // The whole pass is paced work, from opening the databases to closing them.
      await this.pacer.begin();
      try {
        if (!this.controller.signal.aborted) await this.update(dir, { full, signal: this.controller.signal, pacer: this.pacer });
      } catch (err) {
        this.onError(dir, err);
      }
      await this.pacer.end();
    }
    // A backup still running commits more groups: look again shortly.
    if (this.backups.size > 0 && !this.controller.signal.aborted && !this.followUp) {
      this.followUp = true;
      void this.clock.sleep(SEARCH_LIMITS.busyFollowUpMs, this.controller.signal).then(() => {
        this.followUp = false;
        for (const dir of this.backups.keys()) this.schedule(dir, false);
      });
    }
  }
}

/**
 * An account's first backup has not made its archive yet when it starts: nothing to index, nothing
 * wrong (the look after its first group commit finds it), so no "not updated" line in the log.
 */
async function updateIfArchived(dir: string, opts: UpdateOptions): Promise<unknown> {
  if (!fs.existsSync(path.join(dir, 'index.sqlite'))) return undefined;
  return (await import('./index-update.ts')).updateSearchIndex(dir, opts);
}

let shared: BackgroundIndexer | null = null;

/** The relay's one indexer (created on first use). */
export function searchIndexer(onError?: (archiveDir: string, err: unknown) => void): BackgroundIndexer {
  shared ??= new BackgroundIndexer();
  if (onError) shared.onError = onError;
  return shared;
}
