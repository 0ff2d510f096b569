import type { RestorePlan } from '../background/restore-plan.ts';
import { jobRequestOf } from '../protocol/job-kinds.ts';
import { quotaShortfall } from '../migrate/quota-warning.ts';

const count = new Intl.NumberFormat('en-US');
const n = (c: number, one: string, many: string) => `${count.format(c)} ${c === 1 ? one : many}`;

/**
 * How Gmail labels go, said only where it matters: into Gmail each message is appended once and
 * its labels added; into another server labels become folders, one copy per label (said when a
 * message is in several) or the first label's folder only (when the user chose that).
 */
function labelsText(plan: RestorePlan): string | null {
  if (plan.labelsToAdd !== undefined) return `appended once each; ${n(plan.labelsToAdd, 'label', 'labels')} added`;
  if (plan.distinctMessages === undefined) return null;
  if (plan.labelMode === 'first-label') return `Gmail labels: each message into its first label's folder only`;
  const copies = plan.toAppend + plan.alreadyPresent + plan.overAppendLimit;
  if (copies <= plan.distinctMessages) return null;
  // Not only Gmail: a plain server's archive can hold one message in several folders too.
  return `one copy per label or folder it was in: ${n(plan.distinctMessages, 'message', 'messages')} as ${count.format(copies)} copies`;
}

/**
 * Whether the user has a choice of how labels become folders: into a server without labels
 * (no labelsToAdd), with a message the archive holds in several folders, or the first-label mode
 * already chosen (so it can be undone).
 */
export function labelChoiceMatters(plan: RestorePlan): boolean {
  if (plan.labelsToAdd !== undefined || plan.distinctMessages === undefined) return false;
  if (plan.labelMode === 'first-label') return true;
  return plan.toAppend + plan.alreadyPresent + plan.overAppendLimit > plan.distinctMessages;
}

/** The confirmation line under a prompt, from the dry run's counts. */
export function restorePlanText(plan: RestorePlan): string {
  const where = plan.into ? `a new folder "${plan.into}"` : plan.folder || 'their folders';
  if (plan.toAppend === 0) {
    return plan.alreadyPresent > 0 ? `All ${plan.alreadyPresent} are back in ${where} already: nothing to restore.` : 'Nothing to restore.';
  }
  const labels = labelsText(plan);
  const parts = [`${n(plan.toAppend, 'message', 'messages')} will be put back into ${where}${labels ? ` (${labels})` : ''}`];
  if (plan.alreadyPresent > 0) parts.push(`${count.format(plan.alreadyPresent)} already there (left alone)`);
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
