import { MailkeepError } from '../protocol/error-codes.ts';
import { QUEUE_STATUS } from '../status/catalog.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { transitionJob } from '../storage/jobs.ts';

/** "Retry now": back to the queue status, if the machine allows it from here. */
export async function retryNow(db: MailkeepDb, jobId: string, now = Date.now()): Promise<void> {
  const job = await db.jobs.get(jobId);
  if (!job) throw new MailkeepError('NOT_FOUND', `job ${jobId} does not exist`, { jobId });
  await transitionJob(db, jobId, QUEUE_STATUS[job.kind], { at: now });
}
