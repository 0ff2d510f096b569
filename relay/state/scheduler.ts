import { SCHEDULE_LIMITS } from '../../lib/limits.ts';
import type { Clock } from '../../lib/clock.ts';
import type { JobSnapshot } from '../../lib/protocol/common.ts';
import { canTransition } from '../../lib/status/state-machine.ts';
import { statusInfo } from '../../lib/status/catalog.ts';
import type { AccountRow, AccountStore } from './account-store.ts';
import { nextSlot } from './schedule-slots.ts';

/** The timer functions the scheduler uses; tests pass fakes they advance by hand. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SchedulerDeps {
  /** Wall clock and the zone daily schedules are read in. */
  clock: Clock;
  /** A clock that does not jump: performance.now() (it stands still while the machine sleeps). */
  monotonic: () => number;
  timers: Timers;
  /** 0 <= x < 1; the jitter of missed runs. Seeded in tests. */
  random: () => number;
  accounts: AccountStore;
  jobs: {
    isRunning(accountId: string): boolean;
    latest(accountId: string): JobSnapshot | null;
    /** Starts the account's backup under this idempotency key; throws a MailkeepError when it cannot. */
    startBackup(accountId: string, idempotencyKey: string): void;
  };
  /** Something the account's state shows has changed (next run, retry). */
  onChanged(accountId: string): void;
  log(line: string): void;
  /** Overrides SCHEDULE_LIMITS.missedRunJitterMaxMs (the documented test hook only). */
  jitterMaxMs?: () => number;
}

export type CheckReason = 'start' | 'tick' | 'change';

/**
 * The relay's scheduler: starts each account's backup at its schedule's slots and the automatic
 * retry after Connection Error / Partially Completed, with the browser closed. Everything it
 * decides is kept in state.sqlite (anchor, deferred run, retry), so a restart loses nothing.
 *
 * A slot missed while the machine slept or the relay was down runs once: the next slot is always
 * computed from the previous run (one slot after it), and a run moves the anchor to now. After a
 * start, or a clock jump (wall time advancing far more than the monotonic clock: a sleep), an
 * overdue slot waits a random moment first. Statuses come from lib/status: a run starts only where
 * the backup state machine allows Preparing, an Authentication Error waits for a new password, and
 * only statuses marked autoRetry earn a retry.
 */
export class Scheduler {
  private timer: unknown;
  private last: { wall: number; mono: number } | undefined;
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {}

  start(): void {
    this.stopped = false;
    this.check('start');
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** When the account's next automatic run starts (the slot, a deferred missed run or the retry), or null. */
  nextRunAt(row: AccountRow): number | null {
    if (row.schedule.kind === 'off' || this.authBlocked(row)) return null;
    const slot = this.slotOf(row);
    return row.deferredUntil ?? slot;
  }

  retryAt(row: AccountRow): number | null {
    return row.schedule.kind === 'off' || this.authBlocked(row) ? null : row.retryAt;
  }

  /** Looks at every account now; anything due starts. Then sleeps until the next thing (at most a tick). */
  check(reason: CheckReason = 'change'): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    const mono = this.deps.monotonic();
    const ahead = this.last === undefined ? 0 : now - this.last.wall - (mono - this.last.mono);
    const jumped = ahead > SCHEDULE_LIMITS.clockJumpMs;
    this.last = { wall: now, mono };
    if (jumped) this.deps.log(`the wall clock moved ${Math.round(ahead / 60_000)} min more than the timers (the computer slept?): missed runs start once, soon`);
    let earliest = Infinity;
    for (const row of this.deps.accounts.list()) {
      try {
        const next = this.evaluate(row, now, reason === 'start' || jumped);
        if (next !== null) earliest = Math.min(earliest, next);
      } catch (err) {
        this.deps.log(`scheduler: account ${row.account.id}: ${(err as Error).message}`);
      }
    }
    this.arm(earliest, now);
  }

  private arm(earliest: number, now: number): void {
    if (this.timer !== undefined) this.deps.timers.clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(earliest - now, SCHEDULE_LIMITS.tickMs));
    this.timer = this.deps.timers.setTimeout(() => {
      this.timer = undefined;
      this.check('tick');
    }, wait);
  }

  /** The first slot after the anchor; a never-backed-up account's first run comes soon, not a whole interval later. */
  private slotOf(row: AccountRow): number | null {
    const slot = nextSlot(row.schedule, row.anchorAt, this.deps.clock.timeZone());
    if (slot === null) return null;
    if (this.deps.jobs.latest(row.account.id) === null) return Math.min(slot, row.anchorAt + SCHEDULE_LIMITS.firstBackupDelayMs);
    return slot;
  }

  /** An Authentication Error is not retried or rescheduled until the password changes (spec). */
  private authBlocked(row: AccountRow): boolean {
    const latest = this.deps.jobs.latest(row.account.id);
    return latest?.status === 'authentication_error' && latest.phase === 'finished' && Date.parse(latest.updatedAt) >= row.passwordChangedAt;
  }

  /** Starts what is due for one account; returns when it next needs a look (or null). */
  private evaluate(row: AccountRow, now: number, mayDefer: boolean): number | null {
    const id = row.account.id;
    if (row.schedule.kind === 'off' || this.authBlocked(row) || this.deps.jobs.isRunning(id)) return null;
    // The clock was set back past the anchor: count from now rather than wait the difference.
    if (row.anchorAt > now + SCHEDULE_LIMITS.clockJumpMs) {
      this.deps.accounts.patch(id, { anchorAt: now, deferredUntil: null }, now);
      this.deps.onChanged(id);
      return this.evaluate(this.deps.accounts.get(id)!, now, mayDefer);
    }
    const slot = this.slotOf(row)!;
    const slotDue = slot <= now;
    const retryDue = row.retryAt !== null && row.retryAt <= now;
    if (!slotDue && !retryDue) return Math.min(slot, row.retryAt ?? Infinity);
    // Due. Overdue by more than a late timer explains, right after a start or a sleep: a missed
    // run, which waits a random moment (once; the deferral is kept in the row).
    const dueSince = Math.min(slotDue ? slot : Infinity, retryDue ? row.retryAt! : Infinity);
    if (row.deferredUntil === null && mayDefer && now - dueSince > SCHEDULE_LIMITS.missedRunGraceMs) {
      const max = this.deps.jitterMaxMs?.() ?? SCHEDULE_LIMITS.missedRunJitterMaxMs;
      const until = now + Math.floor(this.deps.random() * max);
      if (until > now) {
        this.deps.accounts.patch(id, { deferredUntil: until }, now);
        this.deps.log(`account ${id}: a scheduled backup was missed; it runs once at ${new Date(until).toISOString()}`);
        this.deps.onChanged(id);
        return until;
      }
    }
    if (row.deferredUntil !== null && row.deferredUntil > now) return row.deferredUntil;
    // One run covers both a due slot and a due retry: the slot's key when a slot is due.
    if (slotDue) this.run(row, now, `schedule-${id}-${new Date(slot).toISOString()}`, true);
    else this.run(row, now, `retry-${id}-${new Date(row.retryAt!).toISOString()}`, false);
    return null;
  }

  private run(row: AccountRow, now: number, key: string, scheduled: boolean): void {
    const id = row.account.id;
    const current = this.deps.jobs.latest(id)?.status;
    // The anchor moves even when the run cannot start, so a refusal is not retried every tick.
    this.deps.accounts.patch(id, { ...(scheduled ? { anchorAt: now } : {}), deferredUntil: null, retryAt: null }, now);
    if (current !== undefined && !canTransition('backup', current, 'preparing')) {
      this.deps.log(`account ${id}: not starting a backup from ${current}`);
      this.deps.onChanged(id);
      return;
    }
    try {
      this.deps.jobs.startBackup(id, key);
      this.deps.log(`account ${id}: ${scheduled ? 'scheduled' : 'automatic retry'} backup started`);
    } catch (err) {
      this.deps.log(`account ${id}: ${scheduled ? 'scheduled' : 'automatic retry'} backup not started: ${(err as Error).message}`);
    }
    this.deps.onChanged(id);
  }

  /** A backup of the account finished: owe it a retry when its status says so ("within a few hours"). */
  backupFinished(job: JobSnapshot): void {
    const row = this.deps.accounts.get(job.accountId);
    if (!row) return;
    const now = this.deps.clock.now();
    const owed = statusInfo('backup', job.status).autoRetry && row.schedule.kind !== 'off';
    // Paused under a provider's limit (PROVIDER_LIMIT_PAUSED): the next run starts when the budget
    // refills or after the server's suggested wait, not after the fixed retry delay.
    const pausedUntil = job.kind === 'backup' && job.errorCode === 'PROVIDER_LIMIT_PAUSED' && job.outcome?.pause ? Date.parse(job.outcome.pause.resumeAt) : NaN;
    const retryAt = Number.isFinite(pausedUntil) && row.schedule.kind !== 'off' ? Math.max(now, pausedUntil) : owed ? now + SCHEDULE_LIMITS.autoRetryDelayMs : null;
    this.deps.accounts.patch(job.accountId, { retryAt }, now);
    this.check('change');
  }
}
