import { MailkeepError } from '../protocol/error-codes.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { transitionJob } from '../storage/jobs.ts';

/**
 * Completed / Link becomes Expired when the link's time is up: the relay deletes the file then and
 * answers 410, so the row must stop offering a Download button. Local knowledge (expiresAt is on
 * the row), so it runs on every pass, with or without the relay.
 */
export async function expireDownloadLinks(db: MailkeepDb, now = Date.now()): Promise<string[]> {
  const rows = await db.jobs.where('status').equals('completed_link').toArray();
  const expired: string[] = [];
  for (const job of rows) {
    const link = job.outcome?.link;
    if (job.kind !== 'download' || !link || Date.parse(link.expiresAt) > now) continue;
    try {
      await transitionJob(db, job.id, 'expired', { at: now });
      expired.push(job.id);
    } catch (err) {
      if (!(err instanceof MailkeepError && err.code === 'ILLEGAL_TRANSITION')) throw err; // moved on meanwhile
    }
  }
  return expired;
}
