import type { BackupResult } from '../jobs/types.ts';

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

export function backupExitCode(r: BackupResult): number {
  if (r.failed) return EXIT.failed;
  switch (r.status) {
    case 'completed':
      return EXIT.ok;
    case 'partially_completed':
      return EXIT.partial;
    case 'authentication_error':
      return EXIT.auth;
    case 'connection_error':
      return EXIT.connection;
  }
}

export const EXIT_HELP = `Exit codes:
  0  Completed
  1  verify found damage / archive unreadable
  2  bad usage
  3  Partially Completed (some folders or messages skipped, or cancelled)
  4  Authentication Error (wrong user or password; not retried)
  5  Connection Error (after bounded retries)
  6  Failed (local problem: archive locked, disk full, unexpected error)`;
