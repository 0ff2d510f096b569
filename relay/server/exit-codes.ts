import type { ErrorCode } from '../../lib/protocol/error-codes.ts';
import type { MigrateFinalStatus } from '../jobs/migrate/migrate-types.ts';
import type { RestoreFinalStatus } from '../jobs/restore/restore-types.ts';
import type { DownloadResult } from '../jobs/download/run-download.ts';
import type { BackupResult } from '../jobs/backup/types.ts';

/** Process exit codes of `mailkeep` (docs/cli.md). Restore and Migrate reuse 3 for "Partial". */
export const EXIT = {
  ok: 0,
  /** verify found a problem, or archive-info could not read the archive */
  error: 1,
  usage: 2,
  partial: 3,
  auth: 4,
  connection: 5,
  failed: 6,
} as const;

type FinalStatus = BackupResult['status'] | RestoreFinalStatus | MigrateFinalStatus | DownloadResult['status'];

/**
 * Every job's final status -> exit code, in one table so the commands cannot drift apart.
 * Backup says "partially_completed", Restore and Migrate "partially_complete" (the
 * specification's spelling per table); both are "Partial". A cancelled job kept what it did.
 */
const STATUS_EXIT: Record<FinalStatus, number> = {
  completed: EXIT.ok,
  completed_link: EXIT.ok,
  partially_completed: EXIT.partial,
  partially_complete: EXIT.partial,
  cancelled: EXIT.partial,
  authentication_error: EXIT.auth,
  connection_error: EXIT.connection,
  failed: EXIT.failed,
  // A backup paused under the provider's daily limit (PROVIDER_LIMIT_PAUSED): kept what it did, resumes later.
  retrying: EXIT.partial,
};

/**
 * A job result's exit code. A job that failed on what the user asked for (INVALID_INPUT: e.g. an
 * archive with several accounts and no --source) is bad usage, like a rejected option. Otherwise
 * Backup's `failed` flag (a local failure after a partial run) wins over its status.
 */
export function jobExitCode(r: { status: FinalStatus; failed?: boolean; errorCode?: ErrorCode | null }): number {
  const failed = r.failed || r.status === 'failed';
  if (failed && r.errorCode === 'INVALID_INPUT') return EXIT.usage;
  if (r.failed) return EXIT.failed;
  return STATUS_EXIT[r.status];
}

export const EXIT_HELP = `Exit codes:
  0  Completed
  1  verify found damage / archive unreadable
  2  bad usage
  3  Partially Completed (some folders or messages skipped, or cancelled)
  4  Authentication Error (wrong user or password; not retried)
  5  Connection Error (after bounded retries)
  6  Failed (local problem: archive locked, disk full, unexpected error)`;
