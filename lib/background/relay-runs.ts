import { MailkeepError, errorCodeOf, type ErrorCode } from '../protocol/error-codes.ts';
import type { JobEvent, JobParams, JobPhase, JobSnapshot } from '../protocol/common.ts';
import type { RequestMethod } from '../protocol/client-frames.ts';
import type { ResultOf } from '../protocol/relay-frames.ts';
import type { ParamsInput } from '../protocol/relay-client.ts';
import { QUEUE_STATUS, isStatusOf, statusInfo } from '../status/catalog.ts';
import { canTransition, pathTo } from '../status/state-machine.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { transitionJob, updateProgress } from '../storage/jobs.ts';
import { JobRow, rowProgress } from '../storage/rows.ts';
import { collectRestorePrompts } from './restore-prompts.ts';
import { outcomeSummary } from './mirror.ts';
import { localTimeZone } from '../clock.ts';
import { jobStartBody } from '../protocol/job-kinds.ts';

/** What the run logic needs from a relay connection; a fake in unit tests, RelayConnection in the worker. */
export interface RelayCaller {
  call<M extends RequestMethod>(method: M, params: ParamsInput<M>): Promise<ResultOf<M>>;
}

/** The part of a relay job (snapshot or status event) that moves a Dexie row. */
export interface RunReport {
  relayJobId: string;
  status: string;
  phase: JobPhase;
  errorCode: ErrorCode | null;
  progress?: JobSnapshot['progress'];
  outcome?: JobSnapshot['outcome'];
  /** The relay's attempt of this job (absent: 0); a higher one than the row applied is a new run. */
  attempt?: number | undefined;
  /** When the relay runs the job again by itself (snapshots only; events do not say). */
  retryAt?: string | null | undefined;
}

/**
 * Where a status sits in one run: queue (0), under way (1), ended (2). Events and snapshots only
 * ever move a row forward within a run, so a late or repeated "running" never undoes "completed".
 */
function stage(kind: JobRow['kind'], status: string): number {
  if (status === QUEUE_STATUS[kind]) return 0;
  const info = statusInfo(kind, status);
  return info.severity === 'progress' || status === 'retrying' ? 1 : 2;
}

/** A fresh idempotency key: one per intended run. */
export function newRunKey(job: JobRow, now: number): string {
  return `${job.kind}-${job.accountId}-${now.toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
}

async function putRun(db: MailkeepDb, jobId: string, run: { runKey: string | null; relayJobId: string | null }): Promise<JobRow | undefined> {
  return db.transaction('rw', db.jobs, async () => {
    const job = await db.jobs.get(jobId);
    if (!job) return undefined;
    const next = JobRow.parse({ ...job, ...run });
    await db.jobs.put(next);
    return next;
  });
}

/**
 * Moves the row along the state machine's shortest legal path to `target` (so a missed event, e.g.
 * "running" before "connection_error", still yields a legal history), never backwards in a run.
 */
async function advance(db: MailkeepDb, job: JobRow, target: string, errorCode: ErrorCode | null, at: number): Promise<JobRow> {
  if (job.status === target || job.status === 'deactivated') return job;
  if (stage(job.kind, target) < stage(job.kind, job.status)) return job;
  const steps = pathTo(job.kind, job.status, target);
  if (!steps) throw new MailkeepError('ILLEGAL_TRANSITION', `${job.kind}: no path from ${job.status} to ${target}`, { from: job.status, to: target });
  let row = job;
  for (const to of steps) row = await transitionJob(db, job.id, to, { at, errorCode: to === target || to === 'retrying' ? errorCode : null });
  return row;
}

/**
 * Applies what the relay says about a run to the row following it, in one transaction. A report
 * for another run (stale event, duplicate after the run ended) changes nothing. A report of a new
 * attempt of the same relay job (the relay's automatic retry, or Retry now) takes the row back
 * to its queue status through the state machine first, as the relay did: the extension never
 * re-queues a row by itself.
 */
export async function applyRunReport(db: MailkeepDb, jobId: string, report: RunReport, at = Date.now()): Promise<JobRow | undefined> {
  return db.transaction('rw', [db.jobs, db.jobEvents, db.settings], async () => {
    let job = await db.jobs.get(jobId);
    if (!job || job.relayJobId !== report.relayJobId) return job;
    const attempt = report.attempt ?? 0;
    if (attempt < (job.relayAttempt ?? 0)) return job; // from an earlier attempt: stale
    if (attempt > (job.relayAttempt ?? 0)) {
      if (stage(job.kind, job.status) === 2 && canTransition(job.kind, job.status, QUEUE_STATUS[job.kind])) await transitionJob(db, job.id, QUEUE_STATUS[job.kind], { at });
      job = JobRow.parse({ ...(await db.jobs.get(jobId))!, relayAttempt: attempt });
      await db.jobs.put(job);
    }
    // An interrupted run (the relay stopped under it) is mirrored like any other report: the relay
    // itself resumes it at its next start, or ends it with a status (job-manager.ts
    // resumeInterrupted), and says so. The extension never runs it again on its own.
    let row = await advance(db, job, report.status, report.errorCode, at);
    if (report.progress && statusInfo(row.kind, row.status).severity === 'progress') {
      await updateProgress(db, row.id, rowProgress(report.progress), at);
    }
    if (report.phase === 'finished') {
      // The run's key is spent; the row keeps following the relay job, which the relay may run
      // again (its automatic retry, Retry now): those attempts' reports find the row by it.
      row = (await putRun(db, row.id, { runKey: null, relayJobId: report.relayJobId })) ?? row;
      const current = await db.jobs.get(row.id);
      const outcome = outcomeSummary(report.outcome);
      const retryAt = report.retryAt === undefined ? undefined : report.retryAt === null ? null : Date.parse(report.retryAt);
      if (current && (outcome || retryAt !== undefined)) {
        row = JobRow.parse({ ...current, ...(outcome ? { outcome } : {}), ...(retryAt !== undefined && statusInfo(current.kind, current.status).autoRetry ? { nextRetryAt: retryAt } : retryAt === null ? { nextRetryAt: null } : {}) });
        await db.jobs.put(row);
      }
    }
    return row;
  });
}

/** A live event from the relay's socket, applied to the row following that relay job (if any). */
export async function applyRelayEvent(db: MailkeepDb, event: JobEvent, at = Date.now()): Promise<void> {
  const job = await db.jobs.where('relayJobId').equals(event.jobId).first();
  if (!job) return; // a job this extension does not follow (another run, or already settled)
  // A backup's status is the account's, mirrored from account.changed (mirror.ts); only its
  // progress comes from job events.
  if (job.kind === 'backup' && event.event === 'status') return;
  if (event.event === 'progress') {
    if (statusInfo(job.kind, job.status).severity !== 'progress') return;
    await updateProgress(db, job.id, rowProgress(event.progress), at);
    return;
  }
  await applyRunReport(db, job.id, { relayJobId: event.jobId, status: event.status, phase: event.phase, errorCode: event.errorCode, attempt: event.attempt }, at);
}

/**
 * A live event, with a finished run's status event read back as the job's snapshot first: only a
 * snapshot carries the outcome (restored / not restored counts, the reason, the download link) and
 * the final progress, and the row forgets its relay job once it is applied. If the relay cannot
 * answer, the event alone still moves the row (the counts are then missing, not the status).
 */
export async function applyRelayEventWithOutcome(db: MailkeepDb, relay: RelayCaller | null, event: JobEvent, at = Date.now()): Promise<void> {
  if (relay && event.event === 'status' && event.phase === 'finished') {
    const job = await db.jobs.where('relayJobId').equals(event.jobId).first();
    if (!job || job.kind === 'backup') return;
    try {
      const snap = (await relay.call('job.get', { jobId: event.jobId })).job;
      if (snap.phase === 'finished') {
        await applyRunReport(db, job.id, snapshotReport(snap), at);
        return;
      }
    } catch {
      // fall through to the event alone
    }
  }
  await applyRelayEvent(db, event, at);
}

const snapshotReport = (s: JobSnapshot): RunReport => ({ relayJobId: s.id, status: s.status, phase: s.phase, errorCode: s.errorCode, progress: s.progress, outcome: s.outcome, attempt: s.attempt, retryAt: s.retryAt ?? null });

/**
 * What job.start sends for this row, or null when the row does not know. Every kind is driven the
 * same way; only the parameters differ, and they are on the row: a backup needs none, a restore,
 * download or migrate carries the ones it was created with (schema version 3). A row from before
 * that never recorded them, and is not guessed at.
 */
export function startParamsOf(job: JobRow): JobParams | null {
  if (job.kind === 'backup') return job.params ?? {};
  return job.params ?? null;
}

/**
 * Where a run the relay refused to start ends, one status and code per cause, so the hint is the
 * cause's own (lib/status/row-advice.ts): no such account on the relay (Cancelled), no password
 * stored for it (Authentication Error: "Edit" sends it; a kind without one in its table is
 * Cancelled), a kind this relay cannot run or params it refuses (Failed). "Retry now" queues such
 * a row again (requeueRefused). Null: not a refusal of this run (unreachable, busy, shutting
 * down): the key stays and the next pass sends it again.
 */
function refusedStart(kind: JobRow['kind'], code: ErrorCode): string | null {
  if (code === 'NOT_FOUND') return 'cancelled';
  if (code === 'PASSWORD_NOT_STORED') return isStatusOf(kind, 'authentication_error') ? 'authentication_error' : 'cancelled';
  if (code === 'JOB_KIND_UNSUPPORTED' || code === 'INVALID_INPUT') return 'failed';
  return null;
}

/** A relay older than these codes said INVALID_INPUT for both; its words tell them apart. */
function refusalCode(err: unknown): ErrorCode {
  const code = errorCodeOf(err);
  if (code !== 'INVALID_INPUT') return code;
  const message = err instanceof Error ? err.message : '';
  if (/has no stored password/.test(message)) return 'PASSWORD_NOT_STORED';
  if (/cannot run \w+ jobs/.test(message)) return 'JOB_KIND_UNSUPPORTED';
  return code;
}

/**
 * One pass of the coordinator over the store, safe to repeat at any time (on wake, on alarms,
 * after a message, after reconnecting):
 *
 * 1. A queued row without a run gets a fresh idempotency key, written BEFORE anything is sent.
 * 2. A row with a key but no relay job id (never sent, or the worker died before the answer) sends
 *    job.start with that same key: the relay returns the job it already has, never a second one.
 * 3. A row following a relay job is compared with job.list (job.get for older ones): finished ->
 *    final status, active or interrupted -> forward to its status (the relay resumes an
 *    interrupted run itself), unknown to the relay (its state.sqlite was replaced) -> marked
 *    relayUnknownSince, its last known status kept, "Start again" offered: never started by itself.
 */
export async function driveRuns(db: MailkeepDb, relay: RelayCaller, now = Date.now(), timeZone = localTimeZone()): Promise<ErrorCode[]> {
  // Backups are the relay's (schedule, retries, status): their rows are mirrored, never driven.
  const rows = (await db.jobs.toArray()).filter((j) => j.kind !== 'backup');
  const listed = rows.some((j) => j.relayJobId) ? (await relay.call('job.list', { limit: 500 })).jobs : [];
  const byId = new Map(listed.map((s) => [s.id, s]));
  const problems: ErrorCode[] = [];
  for (const row of rows) {
    try {
      await driveOne(db, relay, row, byId, now);
    } catch (err) {
      // One account's trouble (a busy archive, a timeout) must not hold up the others; the next
      // pass tries again with the same key.
      problems.push(errorCodeOf(err));
    }
  }
  try {
    // After the runs: a backup that just settled has its deletions turned into restore prompts.
    await collectRestorePrompts(db, relay, now, timeZone);
  } catch (err) {
    problems.push(errorCodeOf(err)); // asked again on the next pass (the marker did not move)
  }
  return problems;
}

async function driveOne(db: MailkeepDb, relay: RelayCaller, row: JobRow, byId: Map<string, JobSnapshot>, now: number): Promise<void> {
  let job: JobRow | undefined = row;
  if (job.relayJobId) {
    let snap = byId.get(job.relayJobId);
    if (!snap) {
      try {
        snap = (await relay.call('job.get', { jobId: job.relayJobId })).job;
      } catch (err) {
        if (errorCodeOf(err) !== 'NOT_FOUND') throw err;
      }
    }
    if (!snap) {
      await markUnknownToRelay(db, job.id, job.relayJobId, now);
      return;
    }
    if (job.relayUnknownSince != null) await putRelayUnknown(db, job.id, job.relayJobId, null); // the relay knows it again (its data dir came back)
    job = await applyRunReport(db, job.id, snapshotReport(snap), now);
  }
  if (!job) return;
  // A row that follows a relay job waits for that job's reports (the relay's retry re-queues it).
  if (job.relayJobId) return;
  if (job.status === QUEUE_STATUS[job.kind] && !job.runKey && startParamsOf(job) === null) {
    // Queued before schema version 3 with no record of what to do: end it (its hint says to try
    // again) rather than leave it On Queue forever or run something the user never asked for.
    await advance(db, job, 'cancelled', 'CANCELLED', now);
    return;
  }
  if (job.status === QUEUE_STATUS[job.kind] && !job.runKey) job = await assignKey(db, job.id, now);
  if (job?.runKey && !job.relayJobId) await startRun(db, relay, job, now);
}

/** Gives a queued row its run's key, re-checked inside the transaction (the row may have moved). */
async function assignKey(db: MailkeepDb, jobId: string, now: number): Promise<JobRow | undefined> {
  return db.transaction('rw', db.jobs, async () => {
    const job = await db.jobs.get(jobId);
    if (!job || job.status !== QUEUE_STATUS[job.kind] || job.runKey) return job;
    const next = JobRow.parse({ ...job, runKey: newRunKey(job, now), relayJobId: null });
    await db.jobs.put(next);
    return next;
  });
}

/**
 * Marks (or unmarks) the row only while it still follows the relay job this pass looked up: a pass
 * that read the row before "Start again" (or a newer run) must not mark the new run unknown.
 */
async function putRelayUnknown(db: MailkeepDb, jobId: string, relayJobId: string, since: number | null): Promise<void> {
  await db.transaction('rw', db.jobs, async () => {
    const row = await db.jobs.get(jobId);
    if (row && row.relayJobId === relayJobId && (row.relayUnknownSince ?? null) !== since) await db.jobs.put(JobRow.parse({ ...row, relayUnknownSince: since }));
  });
}

/**
 * The relay has no record of the run this row follows (its state.sqlite was replaced or moved):
 * the row keeps the relay's last known status and is marked, once, with when this was found. What
 * happened to the run is unknown, so nothing is started again until the user says so (startAgain).
 * A row that ended with nothing left to do was only trimmed from the relay's bounded history.
 */
async function markUnknownToRelay(db: MailkeepDb, jobId: string, relayJobId: string, at: number): Promise<void> {
  await db.transaction('rw', db.jobs, async () => {
    const row = await db.jobs.get(jobId);
    if (!row || row.relayJobId !== relayJobId || row.relayUnknownSince != null) return;
    if (stage(row.kind, row.status) === 2 && statusInfo(row.kind, row.status).action === 'none') {
      // Ended with nothing left to do (Completed): the relay trimmed it from its bounded history.
      // The row is history too; it only stops following the relay job.
      await db.jobs.put(JobRow.parse({ ...row, runKey: null, relayJobId: null }));
      return;
    }
    await putRelayUnknown(db, jobId, relayJobId, at);
  });
}

/**
 * "Start again" of a row the relay has no record of: the user's own decision to run it again. The
 * row goes back to its queue status through the state machine (Retrying first where it was under
 * way) and forgets the lost relay job; the next pass starts it under a new key.
 */
export async function startAgain(db: MailkeepDb, jobId: string, at = Date.now()): Promise<JobRow> {
  return requeue(db, jobId, at, (row) => row.relayUnknownSince != null, 'is followed by the relay: use Retry now');
}

/**
 * "Retry now" of a run the relay refused to start (no relay job behind it: no password then, a
 * relay too old): the user fixed the cause, so it is queued again and the next pass sends it
 * under a fresh key. A row the relay runs or may still start is not one.
 */
export async function requeueRefused(db: MailkeepDb, jobId: string, at = Date.now()): Promise<JobRow> {
  return requeue(db, jobId, at, isRefused, 'is not a run the relay refused: use Retry now');
}

export function isRefused(row: JobRow): boolean {
  return row.kind !== 'backup' && !row.relayJobId && !row.runKey && row.relayUnknownSince == null && statusInfo(row.kind, row.status).terminal;
}

async function requeue(db: MailkeepDb, jobId: string, at: number, allowed: (row: JobRow) => boolean, refusal: string): Promise<JobRow> {
  return db.transaction('rw', [db.jobs, db.jobEvents, db.settings], async () => {
    let row = await db.jobs.get(jobId);
    if (!row) throw new MailkeepError('NOT_FOUND', `job ${jobId} does not exist`, { jobId });
    if (!allowed(row)) throw new MailkeepError('ILLEGAL_TRANSITION', `job ${jobId} ${refusal}`, { jobId });
    if (stage(row.kind, row.status) === 1) row = await advance(db, row, 'retrying', null, at);
    if (row.status !== QUEUE_STATUS[row.kind]) row = await transitionJob(db, row.id, QUEUE_STATUS[row.kind], { at });
    const next = JobRow.parse({ ...(await db.jobs.get(jobId))!, runKey: null, relayJobId: null, relayUnknownSince: null, relayAttempt: 0, outcome: null });
    await db.jobs.put(next);
    return next;
  });
}

async function startRun(db: MailkeepDb, relay: RelayCaller, job: JobRow, at: number): Promise<void> {
  const key = job.runKey as string;
  let snap: JobSnapshot;
  try {
    snap = (await relay.call('job.start', jobStartBody({ kind: job.kind, accountId: job.accountId, idempotencyKey: key, params: startParamsOf(job) ?? {} }))).job;
  } catch (err) {
    const code = refusalCode(err);
    if (code === 'IDEMPOTENCY_KEY_REUSED') {
      // The key was already spent on another job: the row stays queued and the next pass gives it a fresh one.
      await putRun(db, job.id, { runKey: null, relayJobId: null });
      return;
    }
    const status = refusedStart(job.kind, code);
    if (status !== null) {
      await db.transaction('rw', [db.jobs, db.jobEvents, db.settings], async () => {
        const row = await advance(db, job, status, code, at);
        await putRun(db, row.id, { runKey: null, relayJobId: null });
      });
      return;
    }
    throw err; // unreachable, busy (ARCHIVE_LOCKED), shutting down: the key stays, the next pass re-sends it
  }
  await db.transaction('rw', db.jobs, async () => {
    const row = await db.jobs.get(job.id);
    if (row?.runKey === key) await db.jobs.put(JobRow.parse({ ...row, relayJobId: snap.id }));
  });
  await applyRunReport(db, job.id, snapshotReport(snap), at);
}
