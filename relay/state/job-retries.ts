import { SCHEDULE_LIMITS } from '../../lib/limits.ts';
import type { Clock } from '../../lib/clock.ts';
import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import type { Timers } from './scheduler.ts';

export interface JobRetriesDeps {
  clock: Clock;
  timers: Timers;
  jobs: {
    /** Finished jobs owed an automatic retry (their snapshot's retryAt, kept in state.sqlite). */
    waitingRetries(): { jobId: string; retryAt: number }[];
    /** Runs the job again under its id (JobManager.retry); throws a MailkeepError when it cannot. */
    retry(jobId: string): unknown;
    /** Calls the retry off (status unchanged): it can never start. */
    dropRetry(jobId: string): void;
  };
  log(line: string): void;
}

/**
 * Keeps the promise of the hints "the status will change within a few hours" for the jobs the
 * user started (restore, download, migrate) with the browser closed: when a job's retryAt comes,
 * it runs again. The due time lives in the job's snapshot in state.sqlite, so a restart loses
 * nothing (an overdue retry runs at start); the timer only decides when to look, and looks at
 * least every SCHEDULE_LIMITS.tickMs so a wall-clock jump (sleep) is noticed. job.cancel of a
 * waiting job clears its retryAt, which is all it takes to call the retry off.
 */
export class JobRetries {
  private timer: unknown;
  private stopped = true;

  constructor(private readonly deps: JobRetriesDeps) {}

  start(): void {
    this.stopped = false;
    this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs every retry that is due, then sleeps until the next one (at most a tick). */
  check(): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    let earliest = Infinity;
    for (const { jobId, retryAt } of this.deps.jobs.waitingRetries()) {
      if (retryAt > now) {
        earliest = Math.min(earliest, retryAt);
        continue;
      }
      try {
        this.deps.jobs.retry(jobId);
        this.deps.log(`job ${jobId}: automatic retry started`);
      } catch (err) {
        const code = errorCodeOf(err);
        if (code === 'ARCHIVE_LOCKED' || code === 'CANCELLED') {
          // Busy (another run of the kind on the account) or shutting down: tried again next tick.
          this.deps.log(`job ${jobId}: automatic retry waits: ${(err as Error).message}`);
          earliest = Math.min(earliest, now + SCHEDULE_LIMITS.tickMs);
        } else {
          // It can never start (account deleted, no password, not a status the machine retries from):
          // called off once, not tried every minute; "Retry now" is still the user's.
          this.deps.log(`job ${jobId}: automatic retry called off: ${code}: ${(err as Error).message}`);
          this.deps.jobs.dropRetry(jobId);
        }
      }
    }
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(earliest - now, SCHEDULE_LIMITS.tickMs));
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      this.check();
    }, wait);
  }
}
