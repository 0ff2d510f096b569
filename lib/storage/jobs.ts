import { MailkeepError, type ErrorCode } from '../protocol/error-codes.ts';
import { QUEUE_STATUS, statusInfo } from '../status/catalog.ts';
import { assertTransition } from '../status/state-machine.ts';
import type { JobKind } from '../protocol/status-ids.ts';
import type { JobParams } from '../protocol/common.ts';
import type { MailkeepDb } from './db.ts';
import { EMPTY_PROGRESS, JobEventRow, JobProgress, JobRow } from './rows.ts';
import { newId } from './new-id.ts';

/** Statuses that count as success: they stamp lastSuccessAt and reset the retry count. */
const SUCCESS = new Set(['completed', 'completed_link']);

export interface NewJob {
  kind: JobKind;
  accountId: string;
  /** Defaults to the kind's queue status; a backup of a disabled account starts Deactivated. */
  status?: string;
  at?: number;
  /** job.start's `params`; a backup's are always `{}`. */
  params?: JobParams;
}

/** Creates a job and its first event ("created in status X") in one transaction. */
export async function createJob(db: MailkeepDb, input: NewJob): Promise<JobRow> {
  const at = input.at ?? Date.now();
  const status = input.status ?? QUEUE_STATUS[input.kind];
  statusInfo(input.kind, status); // refuses a status of another kind
  const job = JobRow.parse({
    id: newId(),
    kind: input.kind,
    accountId: input.accountId,
    status,
    progress: EMPTY_PROGRESS,
    createdAt: at,
    updatedAt: at,
    startedAt: null,
    finishedAt: null,
    lastSuccessAt: null,
    attempt: 0,
    nextRetryAt: null,
    lastErrorCode: null,
    linkUrl: null,
    params: input.params ?? {},
    outcome: null,
  });
  await db.transaction('rw', db.jobs, db.jobEvents, async () => {
    await db.jobs.add(job);
    await db.jobEvents.add(
      JobEventRow.parse({ jobId: job.id, accountId: job.accountId, kind: job.kind, from: null, to: status, at, attempt: 0, errorCode: null }),
    );
  });
  return job;
}

export interface TransitionOptions {
  at?: number;
  errorCode?: ErrorCode | null;
  progress?: Partial<JobProgress>;
  linkUrl?: string | null;
  /** When the relay runs the job again by itself (its retryAt); the extension never computes one. */
  retryAt?: number | null;
}

/** The job row after entering `to`: pure, so the bookkeeping rules are testable on their own. */
export function applyTransition(job: JobRow, to: string, opts: TransitionOptions, at: number): JobRow {
  const info = statusInfo(job.kind, to);
  const success = SUCCESS.has(to);
  return JobRow.parse({
    ...job,
    status: to,
    updatedAt: at,
    progress: { ...(to === QUEUE_STATUS[job.kind] ? EMPTY_PROGRESS : job.progress), ...opts.progress },
    startedAt: to === 'running' && job.status !== 'retrying' ? at : job.startedAt,
    finishedAt: info.terminal ? at : to === QUEUE_STATUS[job.kind] ? null : job.finishedAt,
    lastSuccessAt: success ? at : job.lastSuccessAt,
    attempt: success ? 0 : to === 'retrying' ? job.attempt + 1 : job.attempt,
    nextRetryAt: info.autoRetry ? (opts.retryAt ?? null) : null,
    // Kept through Retry and re-queue so the card can still say what went wrong last time.
    lastErrorCode: success ? null : (opts.errorCode ?? job.lastErrorCode),
    linkUrl: opts.linkUrl !== undefined ? opts.linkUrl : to === 'expired' ? null : job.linkUrl,
    // A new run has nothing to report yet; the last run's counts stay until then.
    ...(to === QUEUE_STATUS[job.kind] && job.outcome ? { outcome: null } : {}),
  });
}

/**
 * The only way a job changes status: through the state machine (ILLEGAL_TRANSITION otherwise),
 * with the job row and its event written in one transaction, so the history never disagrees
 * with the job.
 */
export async function transitionJob(db: MailkeepDb, jobId: string, to: string, opts: TransitionOptions = {}): Promise<JobRow> {
  const at = opts.at ?? Date.now();
  return db.transaction('rw', db.jobs, db.jobEvents, async () => {
    const job = await db.jobs.get(jobId);
    if (!job) throw new MailkeepError('NOT_FOUND', `job ${jobId} does not exist`, { jobId });
    assertTransition(job.kind, job.status, to);
    const next = applyTransition(job, to, opts, at);
    await db.jobs.put(next);
    await db.jobEvents.add(
      JobEventRow.parse({
        jobId,
        accountId: job.accountId,
        kind: job.kind,
        from: job.status,
        to,
        at,
        attempt: next.attempt,
        errorCode: opts.errorCode ?? null,
      }),
    );
    return next;
  });
}

/** Progress of a running job; no event (progress is frequent, history is for status changes). */
export async function updateProgress(db: MailkeepDb, jobId: string, progress: Partial<JobProgress>, at = Date.now()): Promise<void> {
  await db.transaction('rw', db.jobs, async () => {
    const job = await db.jobs.get(jobId);
    if (!job) throw new MailkeepError('NOT_FOUND', `job ${jobId} does not exist`, { jobId });
    if (statusInfo(job.kind, job.status).severity !== 'progress') {
      throw new MailkeepError('INVALID_INPUT', `job ${jobId} is ${job.status}, not running`, { jobId });
    }
    await db.jobs.put(JobRow.parse({ ...job, progress: { ...job.progress, ...progress }, updatedAt: at }));
  });
}

/** The backup job of an account (one per account, cycling run after run). */
export async function backupJobOf(db: MailkeepDb, accountId: string): Promise<JobRow | undefined> {
  return db.jobs.where('[accountId+kind]').equals([accountId, 'backup']).first();
}
