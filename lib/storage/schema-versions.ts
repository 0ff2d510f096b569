import type Dexie from 'dexie';
import { ErrorCode } from '../protocol/error-code-schema.ts';
import { EXTENSION_LIMITS } from '../limits.ts';

export const DB_NAME = 'mailkeep';

/**
 * Version 1, the first release's layout: schedule as `intervalHours` (0 = off), a free-text
 * `error` on jobs, no retry bookkeeping, no prompts. Kept verbatim: Dexie needs every old version
 * to upgrade from it, and the upgrade test opens a database with exactly this.
 */
export function declareVersion1(db: Dexie): void {
  db.version(1).stores({
    accounts: 'id, email',
    jobs: 'id, accountId, kind, status, updatedAt',
    jobEvents: '++id, jobId, at',
    settings: 'key',
  });
}

/** Row shapes of version 1, for the upgrade below and its test. */
export interface V1Account {
  id: string;
  displayName: string;
  email: string;
  username: string;
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  intervalHours: number;
  createdAt: number;
  updatedAt: number;
}
export interface V1Job {
  id: string;
  kind: string;
  accountId: string;
  status: string;
  progress: { messagesDone: number; messagesTotal: number | null; bytes: number; folder: string | null };
  createdAt: number;
  updatedAt: number;
  error: string | null;
}
export interface V1JobEvent {
  id?: number;
  jobId: string;
  from: string | null;
  to: string;
  at: number;
}

/** The tables and indexes of version 2, which version 3 keeps unchanged (only rows gain fields). */
const V2_INDEXES = {
  accounts: 'id, email',
  jobs: 'id, accountId, kind, status, updatedAt, nextRetryAt, [accountId+kind]',
  jobEvents: '++id, jobId, accountId, at',
  prompts: 'id, accountId, createdAt',
  settings: 'key',
} as const;

/**
 * Version 2: schedule object (keeps the interval while disabled), retry bookkeeping on jobs
 * (attempt, nextRetryAt, lastErrorCode with a stable code), accountId on events (the dashboard and
 * the notifier filter by account), a compound index for "the backup job of account X", prompts.
 */
export function declareVersion2(db: Dexie): void {
  db.version(2)
    .stores(V2_INDEXES)
    .upgrade(async (tx) => {
      await tx
        .table('accounts')
        .toCollection()
        .modify((a: Record<string, unknown>) => {
          const hours = typeof a.intervalHours === 'number' ? a.intervalHours : 0;
          a.schedule = {
            enabled: hours > 0,
            everyHours: hours > 0 ? hours : EXTENSION_LIMITS.defaultScheduleHours,
          };
          delete a.intervalHours;
        });
      const jobOwner = new Map<string, { accountId: string; kind: string }>();
      await tx
        .table('jobs')
        .toCollection()
        .modify((j: Record<string, unknown>) => {
          jobOwner.set(String(j.id), { accountId: String(j.accountId), kind: String(j.kind) });
          const code = ErrorCode.safeParse(j.error);
          j.lastErrorCode = code.success ? code.data : j.error ? 'UNKNOWN' : null;
          delete j.error;
          j.attempt = 0;
          j.nextRetryAt = null;
          j.startedAt = null;
          j.finishedAt = null;
          const succeeded = j.status === 'completed' || j.status === 'completed_link';
          j.lastSuccessAt = succeeded ? j.updatedAt : null;
          j.linkUrl = null;
        });
      await tx
        .table('jobEvents')
        .toCollection()
        .modify((e: Record<string, unknown>) => {
          const owner = jobOwner.get(String(e.jobId));
          e.accountId = owner?.accountId ?? '';
          e.kind = owner?.kind ?? 'backup';
          // v1 kept neither; 0 and null are what a v2 event of that moment would have said.
          e.attempt = 0;
          e.errorCode = null;
        });
    });
}

/**
 * Version 3: jobs keep the `params` their job.start sends (so the coordinator can drive restore,
 * download and migrate jobs, and re-send the very same job after a restart) and a summary of the
 * finished run's `outcome`; prompts keep the exact set a one-click restore brings back (`restore`)
 * and whether a notification was shown. Indexes are unchanged.
 *
 * A backup needs no parameters, so its rows get `{}`. Rows of the other kinds written before this
 * version never recorded what was asked (a prompt's restore queued "restore" with no scope): they
 * get `null`, and the coordinator refuses to guess (restoring the whole archive instead of the 37
 * messages the user meant would surprise them), cancelling a queued one so it does not wait
 * forever. Old prompts get `restore: null` and can only be dismissed.
 */
export function declareVersion3(db: Dexie): void {
  db.version(3)
    .stores(V2_INDEXES)
    .upgrade(async (tx) => {
      await tx
        .table('jobs')
        .toCollection()
        .modify((j: Record<string, unknown>) => {
          j.params = j.kind === 'backup' ? {} : null;
          j.outcome = null;
        });
      await tx
        .table('prompts')
        .toCollection()
        .modify((p: Record<string, unknown>) => {
          p.restore = null;
          p.notifiedAt = null;
        });
    });
}

/** Version 4 adds an index on relayJobId (the mirror finds the row a relay event is about) and
 * the `runs` table: the relay's job history, newest first by updatedAt. */
const V4_INDEXES = { ...V2_INDEXES, jobs: `${V2_INDEXES.jobs}, relayJobId`, runs: 'id, accountId, kind, updatedAt' } as const;

/**
 * Version 4: the relay owns schedules (issue 11), so an account's schedule becomes the relay's
 * Schedule (`off`, `every` N hours, `daily` at HH:MM) and `resumeSchedule` keeps what "Enable"
 * brings back; `relay` holds what the relay last said about the account (password stored, next
 * run, retry owed, last success, archive size), null until it has said anything; the new `runs`
 * table mirrors the relay's job history (filled by the next state.get, nothing to convert).
 */
export function declareVersion4(db: Dexie): void {
  db.version(4)
    .stores(V4_INDEXES)
    .upgrade(async (tx) => {
      await tx
        .table('accounts')
        .toCollection()
        .modify((a: Record<string, unknown>) => {
          const old = (a.schedule ?? {}) as { enabled?: unknown; everyHours?: unknown };
          const hours = typeof old.everyHours === 'number' ? old.everyHours : EXTENSION_LIMITS.defaultScheduleHours;
          a.resumeSchedule = { kind: 'every', hours };
          a.schedule = old.enabled === false ? { kind: 'off' } : { kind: 'every', hours };
          a.relay = null;
        });
    });
}

/**
 * Version 5: two new tables for "what is in my backup" (issue 13): `archiveSummaries`, one row per
 * account (totals, last success, when fetched), and `historyRuns`, the account's backup runs as
 * account.history gave them. New tables only, nothing to convert: the next sync with the relay
 * fills them, and until then the pages show what version 4 showed.
 */
export function declareVersion5(db: Dexie): void {
  db.version(5).stores({ archiveSummaries: 'accountId', historyRuns: 'id, accountId, [accountId+startedAt]' });
}
