import { jobRequestOf } from '../protocol/job-kinds.ts';
import type { JobRow } from '../storage/rows.ts';

/**
 * The account whose settings "Edit" opens (a card's button, a notification's click): the job's
 * own, except for a migration that failed on its destination server (the relay says which side,
 * outcome.side), where the destination's. Here, not in lib/ui: the worker uses it too, and the
 * pages import the worker's modules, never the other way round.
 */
export function accountToEdit(job: Pick<JobRow, 'kind' | 'accountId' | 'params' | 'outcome'>): string {
  const request = jobRequestOf(job);
  if (request?.kind === 'migrate' && job.outcome?.side === 'destination') return request.params.destinationAccountId;
  return job.accountId;
}
