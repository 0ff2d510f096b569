import type { BackupStatus } from '../protocol/status-ids.ts';
import type { StatusTable, TransitionTable } from './status-info.ts';
import { displayedCondition } from './spec-conditions.ts';
import { AUTO_RETRY, EDIT_PASSWORD, REPORT } from './hint-phrases.ts';

/** Backup: one job row per account that cycles through these statuses, run after run. */
export const BACKUP_STATUSES: StatusTable<BackupStatus> = {
  preparing: {
    kind: 'backup', id: 'preparing', label: 'Preparing Backup',
    condition: displayedCondition('backup', 'preparing'),
    hint: 'Waiting for its turn; the backup starts by itself.',
    severity: 'info', badge: 'none', terminal: false, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  running: {
    kind: 'backup', id: 'running', label: 'In Progress / Running',
    condition: displayedCondition('backup', 'running'),
    hint: 'Nothing to do: the green bar shows the messages and bytes saved so far.',
    severity: 'progress', badge: 'green', terminal: false, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  retrying: {
    kind: 'backup', id: 'retrying', label: 'Retrying',
    condition: displayedCondition('backup', 'retrying'),
    hint: 'The mail server did not answer; Mailkeep is trying again by itself. Click "Retry now" to try at once.',
    severity: 'warning', badge: 'amber', terminal: false, action: 'retry', offersDiagnostics: false, autoRetry: false,
  },
  connection_error: {
    kind: 'backup', id: 'connection_error', label: 'Connection Error',
    condition: displayedCondition('backup', 'connection_error'),
    hint: `${AUTO_RETRY} ${REPORT}`,
    severity: 'error', badge: 'red', terminal: false, action: 'retry', offersDiagnostics: true, autoRetry: true,
  },
  authentication_error: {
    kind: 'backup', id: 'authentication_error', label: 'Authentication Error',
    condition: displayedCondition('backup', 'authentication_error'),
    hint: EDIT_PASSWORD,
    severity: 'error', badge: 'red', terminal: true, action: 'edit', offersDiagnostics: false, autoRetry: false,
  },
  partially_completed: {
    kind: 'backup', id: 'partially_completed', label: 'Partially Completed',
    condition: displayedCondition('backup', 'partially_completed'),
    hint: `Some folders or messages could not be saved; everything else is backed up. ${AUTO_RETRY} ${REPORT}`,
    severity: 'warning', badge: 'amber', terminal: false, action: 'retry', offersDiagnostics: true, autoRetry: true,
  },
  completed: {
    kind: 'backup', id: 'completed', label: 'Completed',
    condition: displayedCondition('backup', 'completed'),
    hint: 'Your mail is backed up. The next backup runs on its schedule.',
    severity: 'ok', badge: 'none', terminal: true, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  deactivated: {
    kind: 'backup', id: 'deactivated', label: 'Deactivated',
    condition: displayedCondition('backup', 'deactivated'),
    hint: 'Scheduled backup is off. Click "Enable" to turn it back on.',
    severity: 'info', badge: 'none', terminal: true, action: 'enable', offersDiagnostics: false, autoRetry: false,
  },
};

/**
 * Every run starts at Preparing. Any status may go to Deactivated (the user turns the schedule off)
 * and every resting status may go back to Preparing (next scheduled run, Retry now, Enable, or the
 * automatic retry after a few hours).
 */
export const BACKUP_TRANSITIONS: TransitionTable<BackupStatus> = {
  preparing: ['running', 'retrying', 'authentication_error', 'deactivated'],
  running: ['completed', 'partially_completed', 'retrying', 'authentication_error', 'deactivated'],
  retrying: ['running', 'connection_error', 'authentication_error', 'preparing', 'deactivated'],
  connection_error: ['preparing', 'deactivated'],
  authentication_error: ['preparing', 'deactivated'],
  partially_completed: ['preparing', 'deactivated'],
  completed: ['preparing', 'deactivated'],
  deactivated: ['preparing'],
};
