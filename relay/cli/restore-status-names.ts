import type { RestoreStatus } from '../../lib/protocol/status-ids.ts';

/** A restore's status as the CLI prints it (restore-command.ts, account-restore.ts). */
export const RESTORE_STATUS_NAMES: Record<RestoreStatus, string> = {
  on_queue: 'On Queue',
  running: 'Running',
  retrying: 'Retrying',
  connection_error: 'Connection Error',
  authentication_error: 'Authentication Error',
  partially_complete: 'Partially Complete',
  cancelled: 'Cancelled',
  failed: 'Failed',
  completed: 'Completed',
};
