import type { RestoreStatus } from '../../lib/protocol/status-ids.ts';

/**
 * The specification's Restore table, as the command line prints it (Migrate's has the same statuses
 * and names: migrate-command.ts). Its own module: both restore-command.ts (--archive) and
 * account-restore.ts (--account, loaded by it) print them, and neither may import the other back
 * (test/unit/import-cycles.test.ts).
 */
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
