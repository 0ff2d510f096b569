import fs from 'node:fs';
import path from 'node:path';
import { SEARCH_LIMITS } from '../../lib/limits.ts';
import type { Pacer, UpdateOptions } from './index-update.ts';

/**
 * The relay keeps every account's search index up to date by itself: at start (a full pass over
 * each archive, which also finishes what a killed relay left), while a backup runs (after its group
 * commits, paced: at most SEARCH_LIMITS.busyShare of wall time in slices, so the backup that shares
 * this thread and the machine's cores is not slowed by more than a few per cent), and once more at
 * full speed when the backup ends. One archive at a time. Failures are reported and retried at the
 * next trigger: the index is a cache, a search still answers from what it has.
 */
export class BackgroundIndexer {
  private readonly backups = new Map<string, number>();
  private readonly queue = new Map<string, boolean>();
  private running: Promise<void> | null = null;
  private readonly controller = new AbortController();
  private sliceStart = 0;
  private followUp: NodeJS.Timeout | null = null;

  constructor(
    public onError: (archiveDir: string, err: unknown) => void = () => {},
    private readonly update: (dir: string, opts: UpdateOptions) => Promise<unknown> = async (dir, opts) => (await import('./index-update.ts')).updateSearchIndex(dir, opts),
  ) {}

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
    this.schedule(archiveDir, false);
  }

  backupEnded(archiveDir: string): void {
    const n = (this.backups.get(archiveDir) ?? 1) - 1;
    if (n <= 0) this.backups.delete(archiveDir);
    else this.backups.set(archiveDir, n);
    this.schedule(archiveDir, false);
  }

  /** Resolves when nothing is queued or running (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    this.controller.abort();
    if (this.followUp) clearTimeout(this.followUp);
  }

  schedule(archiveDir: string, full: boolean): void {
    if (this.controller.signal.aborted) return;
    this.queue.set(archiveDir, (this.queue.get(archiveDir) ?? false) || full);
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  private readonly pacer: Pacer = {
    busy: () => this.backups.size > 0,
    pause: async () => {
      if (this.backups.size === 0) {
        // Between backups: full speed, but a turn of the event loop now and then for requests.
        if (performance.now() - this.sliceStart > SEARCH_LIMITS.busyWorkSliceMs) {
          await new Promise((r) => setImmediate(r));
          this.sliceStart = performance.now();
        }
        return;
      }
      if (performance.now() - this.sliceStart < SEARCH_LIMITS.busyWorkSliceMs) return;
      const rest = SEARCH_LIMITS.busyWorkSliceMs * (1 / SEARCH_LIMITS.busyShare - 1);
      await new Promise((r) => setTimeout(r, rest).unref());
      this.sliceStart = performance.now();
    },
  };

  private async drain(): Promise<void> {
    while (this.queue.size > 0 && !this.controller.signal.aborted) {
      const [dir, full] = this.queue.entries().next().value as [string, boolean];
      this.queue.delete(dir);
      this.sliceStart = performance.now();
      try {
        await this.update(dir, { full, signal: this.controller.signal, pacer: this.pacer });
      } catch (err) {
        this.onError(dir, err);
      }
    }
    // A backup still running commits more groups: look again shortly.
    if (this.backups.size > 0 && !this.controller.signal.aborted && !this.followUp) {
      this.followUp = setTimeout(() => {
        this.followUp = null;
        for (const dir of this.backups.keys()) this.schedule(dir, false);
      }, SEARCH_LIMITS.busyFollowUpMs);
      this.followUp.unref();
    }
  }
}

let shared: BackgroundIndexer | null = null;

/** The relay's one indexer (created on first use). */
export function searchIndexer(onError?: (archiveDir: string, err: unknown) => void): BackgroundIndexer {
  shared ??= new BackgroundIndexer();
  if (onError) shared.onError = onError;
  return shared;
}
