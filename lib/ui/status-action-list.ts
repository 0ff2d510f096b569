import { isStatusOf, statusInfo } from '../status/catalog.ts';
import type { JobRow } from '../storage/rows.ts';

/** A button (or link) a status card offers; each one is handled in components/status-actions.tsx. */
export type ActionId = 'edit' | 'sign-in-again' | 'retry' | 'enable' | 'download' | 'copy-diagnostics' | 'report' | 'backup-now' | 'cancel' | 'start-again';

/**
 * The buttons of a job's card, in order: the catalog's `action` first, then what its hint also
 * names, so every button a hint mentions is there (test/unit/status-actions.test.ts):
 * - a restore or migration stopped at Authentication Error: "Edit" fixes the password, and
 *   "Retry now" runs it again (saving an account re-queues only its backup);
 * - a restore at Connection Error: "check the server address in Edit, then Retry now".
 */
export function actionsFor(
  job: Pick<JobRow, 'kind' | 'status'> & { relayJobId?: string | null | undefined; relayUnknownSince?: number | null | undefined },
  /** The account "Edit" would open (accountToEdit): one the relay signs in with OAuth2 has no
   * password to edit, so its Authentication Error offers "Sign in again" instead. */
  editTarget: { oauthProvider?: string | undefined } = {},
): ActionId[] {
  const out = actionsOf(job);
  if (job.status !== 'authentication_error' || !editTarget.oauthProvider) return out;
  return out.map((a) => (a === 'edit' ? 'sign-in-again' : a));
}

function actionsOf(job: Pick<JobRow, 'kind' | 'status'> & { relayJobId?: string | null | undefined; relayUnknownSince?: number | null | undefined }): ActionId[] {
  // The relay has no record of this run: Retry now and Cancel would name a job it does not have.
  // Only the user may run it again ("Start again"); the extension never does by itself.
  if (job.relayUnknownSince != null) return ['start-again'];
  const info = statusInfo(job.kind, job.status);
  const out: ActionId[] = [];
  if (info.action === 'edit' || info.action === 'retry' || info.action === 'enable' || info.action === 'download') out.push(info.action);
  if (info.action === 'edit' && job.kind !== 'backup') out.push('retry');
  if (info.action === 'retry' && job.kind !== 'backup' && info.hint.includes('"Edit"')) out.push('edit');
  if (info.offersDiagnostics) out.push('copy-diagnostics', 'report');
  // A backup at rest can be run at once; one under way or waiting for a password edit cannot.
  if (job.kind === 'backup' && (job.status === 'completed' || job.status === 'partially_completed')) out.push('backup-now');
  // A run can be stopped on the relay while it is under way: a restore, download or migrate ends
  // Cancelled (its table has it); a backup ends Partially Completed (CANCELLED), what it stored kept
  // and the rest at its next scheduled run, as the relay's job.cancel does (run-backup.ts).
  if (job.kind !== 'backup' && job.relayJobId && isStatusOf(job.kind, 'cancelled') && !info.terminal) out.push('cancel');
  if (job.kind === 'backup' && job.relayJobId && job.status === 'running') out.push('cancel');
  return out;
}
