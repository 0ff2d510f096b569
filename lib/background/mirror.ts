import { DEFAULT_SCHEDULE, type AccountState, type StateRevision } from '../protocol/account-state.ts';
import type { JobEvent, JobSnapshot } from '../protocol/common.ts';
import type { ResultOf } from '../protocol/relay-frames.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { backupJobOf } from '../storage/jobs.ts';
import { newId } from '../storage/new-id.ts';
import { AccountRow, EMPTY_PROGRESS, JobEventRow, JobRow, OnSchedule, RunRow, rowProgress, type JobOutcomeSummary } from '../storage/rows.ts';
import { EXTENSION_LIMITS, HISTORY_LIMITS } from '../limits.ts';
import type { AccountHistoryResult } from '../protocol/account-history.ts';
import { ArchiveSummaryRow, HistoryRunRow } from '../storage/history-rows.ts';

/**
 * The extension's copy of what the relay owns (issue 11): accounts with their schedule and the
 * relay's facts, and each account's backup status. Written only from what the relay said
 * (state.get, account.changed / account.removed, job events), never computed here: the relay
 * applies lib/status's state machines, the mirror records their results. Kept in Dexie so the
 * popup opens at once and, with the relay gone, shows the last known state (marked as such).
 */

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/** What a row keeps of a finished run's outcome: counts and the one-line reason. */
export function outcomeSummary(snapshotOutcome: JobSnapshot['outcome']): JobOutcomeSummary | null {
  // Any kind's outcome, read as the fields a row keeps (each kind has a subset of them).
  const outcome: (JobOutcomeSummary & { migratePlan?: unknown }) | undefined = snapshotOutcome;
  if (!outcome || (!outcome.counts && !outcome.message && !outcome.link && !outcome.side && !outcome.pause)) return null;
  return {
    ...(outcome.pause ? { pause: outcome.pause } : {}),
    ...(outcome.link ? { link: outcome.link } : {}),
    ...(outcome.counts ? { counts: outcome.counts } : {}),
    ...(outcome.message ? { message: outcome.message } : {}),
    ...(outcome.side ? { side: outcome.side } : {}),
  };
}

/** "alice@example.org" stays; a bare login name ("mailkeep") is the best name the relay gives. */
function nameOf(user: string): string {
  return user.length >= 3 ? user : `${user} (IMAP user)`;
}

/**
 * One account as the relay now has it, its display name and address included (`name`, `email`:
 * set by the pages or `mailkeep account add --name --email`). An account the relay has no names
 * for (added by an older relay or CLI without them) keeps the browser's own words, else its login. The
 * backup row takes the relay's status; a change of status is also written as a job event, so the
 * history, the badge and the notifications follow the relay's transitions.
 */
export async function mirrorAccount(db: MailkeepDb, state: AccountState, at: number): Promise<AccountRow> {
  return db.transaction('rw', [db.accounts, db.jobs, db.jobEvents, db.runs], async () => {
    const { account } = state;
    const existing = await db.accounts.get(account.id);
    // An earlier reading than the one applied (an event queued while state.get was answered) would
    // bring back a run that has finished: it is not applied.
    if (existing && readBefore(state.revision, existing.relay?.revision)) return existing;
    const resume = state.schedule.kind !== 'off' ? OnSchedule.parse(state.schedule) : (existing?.resumeSchedule ?? OnSchedule.parse(DEFAULT_SCHEDULE));
    const row = AccountRow.parse({
      id: account.id,
      displayName: account.name?.slice(0, EXTENSION_LIMITS.displayNameMaxChars) ?? existing?.displayName ?? nameOf(account.user),
      email: account.email ?? existing?.email ?? nameOf(account.user),
      username: account.user,
      host: account.host,
      port: account.port,
      security: account.security,
      schedule: state.schedule,
      resumeSchedule: resume,
      relay: {
        hasPassword: state.hasPassword,
        ...(account.auth?.kind === 'oauth2' ? { oauthProvider: account.auth.provider } : {}),
        nextRunAt: ms(state.nextRunAt),
        retryAt: ms(state.retryAt),
        lastSuccessAt: ms(state.lastSuccessAt),
        archive: state.archive,
        ...(state.revision ? { revision: state.revision } : {}),
      },
      createdAt: existing?.createdAt ?? at,
      updatedAt: existing && sameAccount(existing, state) ? existing.updatedAt : at,
    });
    await db.accounts.put(row);
    await mirrorBackupStatus(db, state, at);
    if (state.latestBackup) await mirrorRuns(db, [state.latestBackup]);
    return row;
  });
}

/** True when `a` is a reading the same relay process made before `b` (other processes: not comparable). */
export function readBefore(a: StateRevision | undefined, b: StateRevision | undefined): boolean {
  return a !== undefined && b !== undefined && a.instance === b.instance && a.seq < b.seq;
}

function sameAccount(row: AccountRow, state: AccountState): boolean {
  return (state.account.name ?? row.displayName) === row.displayName && (state.account.email ?? row.email) === row.email && row.host === state.account.host && row.port === state.account.port && row.security === state.account.security && row.username === state.account.user && JSON.stringify(row.schedule) === JSON.stringify(state.schedule);
}

/** The account's backup row, following the relay's status; none while the relay has none (never backed up). */
async function mirrorBackupStatus(db: MailkeepDb, state: AccountState, at: number): Promise<void> {
  const accountId = state.account.id;
  const current = await backupJobOf(db, accountId);
  if (state.status === null) {
    if (current) await db.jobs.delete(current.id);
    return;
  }
  const snap = state.latestBackup;
  const running = snap !== null && (snap.phase === 'queued' || snap.phase === 'active');
  const changed = current?.status !== state.status;
  const next = JobRow.parse({
    id: current?.id ?? newId(),
    kind: 'backup',
    accountId,
    status: state.status,
    // A backup paused under a provider's limit keeps its progress: the forecast is computed from it.
    progress: snap && (running || snap.errorCode === 'PROVIDER_LIMIT_PAUSED') ? progressOf(snap) : changed ? EMPTY_PROGRESS : (current?.progress ?? EMPTY_PROGRESS),
    createdAt: current?.createdAt ?? at,
    updatedAt: changed ? at : (current?.updatedAt ?? at),
    startedAt: snap ? ms(snap.createdAt) : (current?.startedAt ?? null),
    finishedAt: snap && snap.phase === 'finished' ? ms(snap.updatedAt) : running ? null : (current?.finishedAt ?? null),
    lastSuccessAt: ms(state.lastSuccessAt),
    attempt: current?.attempt ?? 0,
    nextRetryAt: ms(state.retryAt),
    lastErrorCode: snap?.errorCode ?? current?.lastErrorCode ?? null,
    linkUrl: null,
    // The relay job this row follows while it runs (its progress events find the row by it).
    runKey: null,
    relayJobId: running ? snap.id : null,
    params: {},
    outcome: snap?.phase === 'finished' ? outcomeSummary(snap.outcome) : (current?.outcome ?? null),
  });
  await db.jobs.put(next);
  if (changed) {
    await db.jobEvents.add(
      JobEventRow.parse({ jobId: next.id, accountId, kind: 'backup', from: current?.status ?? null, to: state.status, at, attempt: next.attempt, errorCode: snap?.errorCode ?? null }),
    );
  }
}

function progressOf(snap: JobSnapshot): JobRow['progress'] {
  return rowProgress(snap.progress);
}

/** The relay deleted the account: it goes from the mirror with its jobs, history and prompts. */
export async function mirrorAccountRemoved(db: MailkeepDb, accountId: string): Promise<void> {
  await db.transaction('rw', [db.accounts, db.jobs, db.jobEvents, db.prompts, db.runs, db.archiveSummaries, db.historyRuns], async () => {
    await db.accounts.delete(accountId);
    await db.archiveSummaries.delete(accountId);
    await db.historyRuns.where('accountId').equals(accountId).delete();
    await db.runs.where('accountId').equals(accountId).delete();
    await db.jobs.where('accountId').equals(accountId).delete();
    await db.jobEvents.where('accountId').equals(accountId).delete();
    await db.prompts.where('accountId').equals(accountId).delete();
  });
}

/** The relay's history rows for these runs (newest kept, at most dashboardMaxRows in all). */
export async function mirrorRuns(db: MailkeepDb, jobs: readonly JobSnapshot[]): Promise<void> {
  if (jobs.length === 0) return;
  await db.transaction('rw', db.runs, async () => {
    await db.runs.bulkPut(
      jobs.map((j) =>
        RunRow.parse({ id: j.id, kind: j.kind, accountId: j.accountId, status: j.status, phase: j.phase, errorCode: j.errorCode, startedAt: Date.parse(j.createdAt), updatedAt: Date.parse(j.updatedAt), messages: j.progress.messagesDone }),
      ),
    );
    const extra = (await db.runs.count()) - EXTENSION_LIMITS.dashboardMaxRows;
    if (extra > 0) await db.runs.bulkDelete(await db.runs.orderBy('updatedAt').limit(extra).primaryKeys());
  });
}

/** A status event about a run the history already holds (the next state.get brings new ones). */
export async function updateRun(db: MailkeepDb, event: Extract<JobEvent, { event: 'status' }>): Promise<void> {
  await db.transaction('rw', db.runs, async () => {
    const run = await db.runs.get(event.jobId);
    if (run) await db.runs.put(RunRow.parse({ ...run, status: event.status, phase: event.phase, errorCode: event.errorCode, updatedAt: Date.parse(event.at) }));
  });
}

export interface MirrorSync {
  /** Accounts the browser holds that the relay does not know and never confirmed (saved before the
   * relay owned accounts): the coordinator offers them to the relay instead of dropping them. */
  unknownToRelay: AccountRow[];
  removed: string[];
}

/**
 * A whole state.get answer: every account the relay has, and the removal of accounts the relay
 * confirmed once (they carry relay facts) but no longer has, deleted while the browser was away.
 */
export async function mirrorState(db: MailkeepDb, state: ResultOf<'state.get'>, at: number): Promise<MirrorSync> {
  for (const account of state.accounts) await mirrorAccount(db, account, at);
  await mirrorRuns(db, state.jobs);
  const known = new Set(state.accounts.map((a) => a.account.id));
  const unknownToRelay: AccountRow[] = [];
  const removed: string[] = [];
  for (const row of await db.accounts.toArray()) {
    if (known.has(row.id)) continue;
    if (row.relay) {
      await mirrorAccountRemoved(db, row.id);
      removed.push(row.id);
    } else unknownToRelay.push(row);
  }
  return { unknownToRelay, removed };
}

/**
 * What of an account's state says its history changed: a new or finished backup, a new last
 * success, other archive totals. The mirror asks account.history again only when this differs from
 * the basis of the history it holds, not on every sync.
 */
export function historyBasis(state: AccountState): string {
  const b = state.latestBackup;
  return JSON.stringify([b?.id ?? null, b?.phase ?? null, b?.status ?? null, state.lastSuccessAt, state.archive?.messages ?? null, state.archive?.bytes ?? null]);
}

/**
 * account.history's pages for one account (newest first, as fetched one after the other) become
 * the account's summary and its runs: the runs it held before are replaced, so a run the relay no
 * longer lists is not kept, and at most HISTORY_LIMITS.mirrorRunsPerAccount are kept.
 */
export async function mirrorHistory(db: MailkeepDb, pages: readonly AccountHistoryResult[], basis: string, at: number): Promise<void> {
  const head = pages[0];
  if (!head) return;
  const accountId = head.accountId;
  const runs = pages.flatMap((p) => p.runs).slice(0, HISTORY_LIMITS.mirrorRunsPerAccount);
  await db.transaction('rw', [db.accounts, db.archiveSummaries, db.historyRuns], async () => {
    // Deleted meanwhile (account.removed came first): nothing to keep.
    if (!(await db.accounts.get(accountId))) return;
    await db.archiveSummaries.put(
      ArchiveSummaryRow.parse({
        accountId,
        hasArchive: head.totals !== null,
        messages: head.totals?.messages ?? 0,
        bytes: head.totals?.bytes ?? 0,
        folders: head.totals?.folders ?? 0,
        lastSuccessAt: ms(head.lastSuccessAt),
        totalRuns: head.totalRuns,
        fetchedAt: at,
        timeZone: head.timeZone,
        basis,
      }),
    );
    await db.historyRuns.where('accountId').equals(accountId).delete();
    await db.historyRuns.bulkPut(
      runs.map((r) =>
        HistoryRunRow.parse({
          id: `${accountId}/${r.key}`,
          accountId,
          key: r.key,
          jobId: r.jobId,
          archiveRunId: r.archiveRunId,
          startedAt: Date.parse(r.startedAt),
          finishedAt: ms(r.finishedAt),
          status: r.status,
          errorCode: r.errorCode,
          newMessages: r.newMessages,
          newBytes: r.newBytes,
          disappeared: r.disappeared,
          archiveMessages: r.archiveMessages,
          archiveBytes: r.archiveBytes,
        }),
      ),
    );
  });
}
