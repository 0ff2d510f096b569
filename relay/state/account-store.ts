import { ImapAccount } from '../../lib/protocol/common.ts';
import { DEFAULT_SCHEDULE, Schedule } from '../../lib/protocol/account-state.ts';
import type { StateDb } from './state-db.ts';

/** One account's row in state.sqlite: its non-secret settings and everything the scheduler owns. */
export interface AccountRow {
  account: ImapAccount;
  schedule: Schedule;
  /** ms: the previous scheduled run's start, or when the schedule was set. */
  anchorAt: number;
  /** ms: a missed run waits until then (a little jitter after a wake or a start). */
  deferredUntil: number | null;
  /** ms: the automatic retry owed after Connection Error or Partially Completed. */
  retryAt: number | null;
  /** ms: the latest password change; an Authentication Error older than it no longer blocks runs. */
  passwordChangedAt: number;
  createdAt: number;
}

interface Raw {
  id: string;
  settings: string;
  schedule: string;
  anchor_at: number;
  deferred_until: number | null;
  retry_at: number | null;
  password_changed_at: number;
  created_at: number;
}

export class AccountStore {
  constructor(private readonly db: StateDb) {}

  get(id: string): AccountRow | undefined {
    const raw = this.db.prepare('SELECT * FROM accounts WHERE id = ?').get(id) as Raw | undefined;
    return raw ? toRow(raw) : undefined;
  }

  list(): AccountRow[] {
    return (this.db.prepare('SELECT * FROM accounts ORDER BY created_at, id').all() as Raw[]).flatMap((r) => {
      const row = toRow(r);
      return row ? [row] : [];
    });
  }

  /** Saves settings; a new account gets `schedule` or the default, an existing one keeps its own unless given. */
  upsert(account: ImapAccount, opts: { schedule?: Schedule; now: number; passwordChanged: boolean }): AccountRow {
    const existing = this.get(account.id);
    const schedule = opts.schedule ?? existing?.schedule ?? DEFAULT_SCHEDULE;
    const scheduleChanged = !existing || (opts.schedule !== undefined && JSON.stringify(opts.schedule) !== JSON.stringify(existing.schedule));
    this.db
      .prepare(
        `INSERT INTO accounts (id, settings, schedule, anchor_at, deferred_until, retry_at, password_changed_at, created_at, updated_at)
         VALUES (@id, @settings, @schedule, @now, NULL, NULL, @pw, @now, @now)
         ON CONFLICT(id) DO UPDATE SET settings = excluded.settings, schedule = excluded.schedule,
           anchor_at = CASE WHEN @scheduleChanged THEN @now ELSE anchor_at END,
           deferred_until = CASE WHEN @scheduleChanged THEN NULL ELSE deferred_until END,
           password_changed_at = CASE WHEN @pwChanged THEN @now ELSE password_changed_at END,
           updated_at = @now`,
      )
      .run({
        id: account.id,
        settings: JSON.stringify(account),
        schedule: JSON.stringify(schedule),
        now: opts.now,
        pw: opts.passwordChanged ? opts.now : 0,
        pwChanged: opts.passwordChanged ? 1 : 0,
        scheduleChanged: scheduleChanged ? 1 : 0,
      });
    return this.get(account.id)!;
  }

  /** A new schedule counts from now: "every 6h" set at 10:00 first runs at 16:00. */
  setSchedule(id: string, schedule: Schedule, now: number): void {
    const off = schedule.kind === 'off';
    this.db
      .prepare(`UPDATE accounts SET schedule = ?, anchor_at = ?, deferred_until = NULL, retry_at = CASE WHEN ? THEN NULL ELSE retry_at END, updated_at = ? WHERE id = ?`)
      .run(JSON.stringify(schedule), now, off ? 1 : 0, now, id);
  }

  patch(id: string, p: { anchorAt?: number; deferredUntil?: number | null; retryAt?: number | null }, now: number): void {
    const row = this.get(id);
    if (!row) return;
    this.db
      .prepare('UPDATE accounts SET anchor_at = ?, deferred_until = ?, retry_at = ?, updated_at = ? WHERE id = ?')
      .run(p.anchorAt ?? row.anchorAt, p.deferredUntil === undefined ? row.deferredUntil : p.deferredUntil, p.retryAt === undefined ? row.retryAt : p.retryAt, now, id);
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM accounts WHERE id = ?').run(id).changes > 0;
  }
}

function toRow(r: Raw): AccountRow | undefined {
  const account = ImapAccount.safeParse(parseJson(r.settings));
  if (!account.success) return undefined;
  const schedule = Schedule.safeParse(parseJson(r.schedule));
  return {
    account: account.data,
    schedule: schedule.success ? schedule.data : DEFAULT_SCHEDULE,
    anchorAt: r.anchor_at,
    deferredUntil: r.deferred_until,
    retryAt: r.retry_at,
    passwordChangedAt: r.password_changed_at,
    createdAt: r.created_at,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
