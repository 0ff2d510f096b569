import type { RestoreStatus } from '../protocol/status-ids.ts';
import type { StatusTable, TransitionTable } from './status-info.ts';
import { displayedCondition } from './spec-conditions.ts';
import { AUTO_RETRY, EDIT_PASSWORD, REPORT, REPORT_AGAIN } from './hint-phrases.ts';
import { jobRequestOf } from '../protocol/job-kinds.ts';
import { formatDay } from '../format.ts';

/** Restore: one job row per request to put archived mail back into an IMAP account. */
export const RESTORE_STATUSES: StatusTable<RestoreStatus> = {
  on_queue: {
    kind: 'restore', id: 'on_queue', label: 'On Queue',
    condition: displayedCondition('restore', 'on_queue'),
    hint: 'The restore starts by itself when its turn comes.',
    severity: 'info', badge: 'none', terminal: false, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  running: {
    kind: 'restore', id: 'running', label: 'In Progress / Running',
    condition: displayedCondition('restore', 'running'),
    hint: 'Nothing to do. Messages already in the mailbox are never copied twice.',
    severity: 'progress', badge: 'green', terminal: false, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  retrying: {
    kind: 'restore', id: 'retrying', label: 'Retrying',
    condition: displayedCondition('restore', 'retrying'),
    hint: 'Mailkeep is trying again by itself. Click "Retry now" to try at once.',
    severity: 'warning', badge: 'amber', terminal: false, action: 'retry', offersDiagnostics: false, autoRetry: false,
  },
  connection_error: {
    kind: 'restore', id: 'connection_error', label: 'Connection Error',
    condition: displayedCondition('restore', 'connection_error'),
    // It may be an outage as well as a wrong address: the last error says which it looks like.
    hint: 'The mail server could not be reached after several tries. Click "Retry now" once it answers again.',
    severity: 'error', badge: 'red', terminal: true, action: 'retry', offersDiagnostics: false, autoRetry: false,
  },
  authentication_error: {
    kind: 'restore', id: 'authentication_error', label: 'Authentication Error',
    condition: displayedCondition('restore', 'authentication_error'),
    hint: EDIT_PASSWORD,
    severity: 'error', badge: 'red', terminal: true, action: 'edit', offersDiagnostics: false, autoRetry: false,
  },
  partially_complete: {
    kind: 'restore', id: 'partially_complete', label: 'Partially Complete',
    condition: displayedCondition('restore', 'partially_complete'),
    hint: 'Some messages were not restored, for example because the mail server’s storage is full. Free space on the server, then click "Retry now": messages already restored are not copied twice.',
    severity: 'warning', badge: 'amber', terminal: true, action: 'retry', offersDiagnostics: false, autoRetry: false,
  },
  cancelled: {
    kind: 'restore', id: 'cancelled', label: 'Cancelled',
    condition: displayedCondition('restore', 'cancelled'),
    hint: `Retries ran out, so the restore was cancelled. Click "Retry now" to try again. ${REPORT_AGAIN}`,
    severity: 'warning', badge: 'amber', terminal: true, action: 'retry', offersDiagnostics: true, autoRetry: false,
  },
  failed: {
    kind: 'restore', id: 'failed', label: 'Failed',
    condition: displayedCondition('restore', 'failed'),
    hint: `${AUTO_RETRY} ${REPORT}`,
    severity: 'warning', badge: 'amber', terminal: false, action: 'retry', offersDiagnostics: true, autoRetry: true,
  },
  completed: {
    kind: 'restore', id: 'completed', label: 'Completed',
    condition: displayedCondition('restore', 'completed'),
    // A restore covers what it was asked for (a selection, a folder, a range): the row's words say
    // that, from the job's params (restoreCompletedHint); this is for a row without them.
    hint: 'The messages this restore covered are back in the mailbox.',
    severity: 'ok', badge: 'none', terminal: true, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
};

/** Shared by restore and migrate: both APPEND into an IMAP account and fail the same ways. */
export const RESTORE_TRANSITIONS: TransitionTable<RestoreStatus> = {
  on_queue: ['running', 'authentication_error', 'retrying', 'cancelled'],
  running: ['completed', 'partially_complete', 'retrying', 'authentication_error', 'failed', 'cancelled'],
  // -> on_queue: "Retry now" restarts the job at once instead of waiting for the next attempt.
  retrying: ['running', 'connection_error', 'authentication_error', 'failed', 'cancelled', 'on_queue'],
  connection_error: ['on_queue'],
  authentication_error: ['on_queue'],
  partially_complete: ['on_queue'],
  cancelled: ['on_queue'],
  failed: ['on_queue', 'cancelled'],
  completed: [],
};

/**
 * What a Completed restore put back, in the words of what it was asked for: "All archived
 * messages" only when it covered the whole archive; a selection, a folder, a date range or the
 * mail deleted in one backup otherwise (others the archive holds may still be missing from the
 * server). `params` as the job row keeps them (null: not recorded, the generic words).
 */
export function restoreCompletedHint(params: unknown, timeZone: string): string {
  const request = params == null ? null : jobRequestOf({ kind: 'restore', params });
  if (request?.kind !== 'restore') return RESTORE_STATUSES.completed.hint;
  const p = request.params;
  const n = p.messageIds?.length;
  const range = p.since !== undefined || p.until !== undefined;
  const dates = [p.since !== undefined ? `from ${formatDay(Date.parse(p.since), timeZone)}` : '', p.until !== undefined ? `until ${formatDay(Date.parse(p.until), timeZone)}` : ''].filter(Boolean).join(' ');
  const where = p.into !== undefined ? ` (under "${p.into}")` : '';
  const folder = p.folder !== undefined ? `"${p.folder}"` : null;
  let what: string;
  if (n) what = n === 1 ? 'The selected message is' : `The ${n} selected messages are`;
  else if (p.disappearedInRun !== undefined) what = `The mail deleted from the server${folder ? ` in ${folder}` : ''} in backup ${p.disappearedInRun} is`;
  else if (folder && range) what = `The messages of ${folder} ${dates} are`;
  else if (folder) what = `The messages of ${folder} are`;
  else if (range) what = `The messages ${dates} are`;
  else if (p.atRun !== undefined) what = `The mail as it was at backup ${p.atRun} is`;
  else what = 'All archived messages are';
  const rest = n || p.disappearedInRun !== undefined || folder || range ? ' Messages this restore did not cover are as they were.' : '';
  return `${what} back in the mailbox${where}.${rest}`;
}
