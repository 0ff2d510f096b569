import { MailkeepError } from '../protocol/error-codes.ts';
import type { JobSnapshot } from '../protocol/common.ts';
import type { MailkeepDb } from '../storage/db.ts';

/**
 * "Retry now" and the automatic retry ("within a few hours") are the relay's, for every kind
 * (issue 11): it keeps the retry owed in state.sqlite and runs it with the browser closed. The
 * extension only asks (job.retry) and shows the relay's retryAt (JobRow.nextRetryAt, mirrored),
 * and never moves a row back to its queue status by itself: the relay's report of the new
 * attempt does (relay-runs.ts).
 */
export interface RetryLink {
  /** job.retry on the relay: the job runs again (restore, download, migrate) or a new backup starts. */
  retryJob(relayJobId: string): Promise<JobSnapshot>;
  /** "Back up now" of an account: a backup's Retry now is a new run of the account (the relay's job.start), or the one it runs already. */
  backupNow(accountId: string): Promise<{ job: JobSnapshot }>;
}

/** "Retry now" of any row: the relay job it follows runs again, as the relay decides through lib/status. */
export async function retryNow(db: MailkeepDb, link: RetryLink, jobId: string): Promise<JobSnapshot> {
  const job = await db.jobs.get(jobId);
  if (!job) throw new MailkeepError('NOT_FOUND', `job ${jobId} does not exist`, { jobId });
  // The backup row mirrors the account, not one relay job: a new run of the account.
  if (job.kind === 'backup') return (await link.backupNow(job.accountId)).job;
  if (!job.relayJobId) throw new MailkeepError('NOT_FOUND', `job ${jobId} follows no relay job yet`, { jobId });
  return link.retryJob(job.relayJobId);
}
