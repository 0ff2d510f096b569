import type { MigrateStatus } from '../protocol/status-ids.ts';
import type { StatusTable, TransitionTable } from './status-info.ts';
import { displayedCondition } from './spec-conditions.ts';
import { AUTO_RETRY, REPORT, REPORT_AGAIN } from './hint-phrases.ts';
import { RESTORE_TRANSITIONS } from './restore-statuses.ts';

/** Migrate: one job row per request to copy one IMAP account into another. */
export const MIGRATE_STATUSES: StatusTable<MigrateStatus> = {
  on_queue: {
    kind: 'migrate', id: 'on_queue', label: 'On Queue',
    condition: displayedCondition('migrate', 'on_queue'),
    hint: 'The migration starts by itself when its turn comes.',
    severity: 'info', badge: 'none', terminal: false, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  running: {
    kind: 'migrate', id: 'running', label: 'In Progress / Running',
    condition: displayedCondition('migrate', 'running'),
    hint: 'Nothing to do. Messages already in the destination are never copied twice.',
    severity: 'progress', badge: 'green', terminal: false, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  retrying: {
    kind: 'migrate', id: 'retrying', label: 'Retrying',
    condition: displayedCondition('migrate', 'retrying'),
    hint: 'Mailkeep is trying again by itself. Click "Retry now" to try at once.',
    severity: 'warning', badge: 'amber', terminal: false, action: 'retry', offersDiagnostics: false, autoRetry: false,
  },
  cancelled: {
    kind: 'migrate', id: 'cancelled', label: 'Cancelled',
    condition: displayedCondition('migrate', 'cancelled'),
    hint: `Retries ran out, so the migration was cancelled. Click "Retry now" to try again. ${REPORT_AGAIN}`,
    severity: 'warning', badge: 'amber', terminal: true, action: 'retry', offersDiagnostics: true, autoRetry: false,
  },
  failed: {
    kind: 'migrate', id: 'failed', label: 'Failed',
    condition: displayedCondition('migrate', 'failed'),
    hint: `${AUTO_RETRY} ${REPORT}`,
    severity: 'warning', badge: 'amber', terminal: false, action: 'retry', offersDiagnostics: true, autoRetry: true,
  },
  connection_error: {
    kind: 'migrate', id: 'connection_error', label: 'Connection Error',
    condition: displayedCondition('migrate', 'connection_error'),
    hint: 'A mail server could not be reached after several tries. Click "Retry now"; if it keeps failing, click "Copy diagnostics" and report the problem with the link below.',
    severity: 'error', badge: 'red', terminal: true, action: 'retry', offersDiagnostics: true, autoRetry: false,
  },
  authentication_error: {
    kind: 'migrate', id: 'authentication_error', label: 'Authentication Error',
    condition: displayedCondition('migrate', 'authentication_error'),
    hint: 'Click the "Edit" button, enter the correct password for this email, then retry.',
    severity: 'error', badge: 'red', terminal: true, action: 'edit', offersDiagnostics: false, autoRetry: false,
  },
  partially_complete: {
    kind: 'migrate', id: 'partially_complete', label: 'Partially Complete',
    condition: displayedCondition('migrate', 'partially_complete'),
    hint: 'Some messages were not copied, for example because the destination server’s storage is full. Free space there, then click "Retry now": messages already copied are not copied twice.',
    severity: 'warning', badge: 'amber', terminal: true, action: 'retry', offersDiagnostics: false, autoRetry: false,
  },
  completed: {
    kind: 'migrate', id: 'completed', label: 'Completed',
    condition: displayedCondition('migrate', 'completed'),
    hint: 'All messages are in the destination account.',
    severity: 'ok', badge: 'none', terminal: true, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
};

export const MIGRATE_TRANSITIONS = RESTORE_TRANSITIONS;
