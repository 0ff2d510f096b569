import type { RestorePlan } from '../background/restore-plan.ts';
import { jobRequestOf } from '../protocol/job-kinds.ts';
import { quotaShortfall } from '../migrate/quota-warning.ts';

const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** The confirmation line under a prompt, from the dry run's counts. */
export function restorePlanText(plan: RestorePlan): string {
  const where = plan.into ? `a new folder "${plan.into}"` : plan.folder || 'their folders';
  if (plan.toAppend === 0) {
    return plan.alreadyPresent > 0 ? `All ${plan.alreadyPresent} are back in ${where} already: nothing to restore.` : 'Nothing to restore.';
  }
  const parts = [`${n(plan.toAppend, 'message', 'messages')} will be put back into ${where}`];
  if (plan.alreadyPresent > 0) parts.push(`${plan.alreadyPresent} already there (left alone)`);
  if (plan.foldersToCreate > 0) parts.push(`${n(plan.foldersToCreate, 'folder', 'folders')} to create`);
  if (plan.overAppendLimit > 0) parts.push(`${plan.overAppendLimit} too large for the server (listed, not restored)`);
  const shortfall = quotaShortfall(plan.bytesToAppend ?? 0, plan.quota, 'restore');
  return `${parts.join(', ')}. Nothing is deleted.${shortfall ? ` Will not fit: ${shortfall.text}` : ''}`;
}

/** What a restore job brings back, in a few words for its line in the popup. */
export function restoreScopeText(params: unknown): string {
  const request = params == null ? null : jobRequestOf({ kind: 'restore', params });
  if (request?.kind !== 'restore') return 'scope unknown';
  const p = request.params;
  const folder = p.folder ?? null;
  const picked = p.messageIds?.length;
  const what = picked
    ? `${picked} selected ${picked === 1 ? 'message' : 'messages'}`
    : p.disappearedInRun !== undefined
      ? `deleted mail${folder ? ` of ${folder}` : ''}`
      : (folder ?? 'all folders');
  return p.into !== undefined ? `${what} into "${p.into}"` : what;
}
