import { MailkeepError } from '../protocol/error-codes.ts';
import { QUEUE_STATUS, statusInfo } from '../status/catalog.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { transitionJob } from '../storage/jobs.ts';

/**
 * Keeps the promise of the hints "Mailkeep tries again by itself within a few hours" for the runs
 * the user started (download, restore, migrate: rows this extension drives), checked on every
 * pass. Backups are not here: the relay owns their retries (AccountState.retryAt) and runs them
 * with the browser closed.
 */
export async function retryDueJobs(db: MailkeepDb, now = Date.now()): Promise<string[]> {
  const due = await db.jobs.where('nextRetryAt').belowOrEqual(now).toArray();
  const moved: string[] = [];
  for (const job of due) {
    if (job.kind === 'backup' || !statusInfo(job.kind, job.status).autoRetry) continue;
    try {
      await transitionJob(db, job.id, QUEUE_STATUS[job.kind], { at: now });
      moved.push(job.id);
    } catch (err) {
      // Another context moved it meanwhile: the machine refused, which is the right outcome.
      if (!(err instanceof MailkeepError && err.code === 'ILLEGAL_TRANSITION')) throw err;
    }
  }
  return moved;
}

/** "Retry now" of a run the user started: back to the queue status, if the machine allows it from here. */
export async function retryNow(db: MailkeepDb, jobId: string, now = Date.now()): Promise<void> {
  const job = await db.jobs.get(jobId);
  if (!job) throw new MailkeepError('NOT_FOUND', `job ${jobId} does not exist`, { jobId });
  await transitionJob(db, jobId, QUEUE_STATUS[job.kind], { at: now });
}
