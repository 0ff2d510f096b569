import { JOB_KINDS, statusInfo, statusesOf } from '../../lib/status/catalog.ts';
import type { JobKind } from '../../lib/protocol/status-ids.ts';
import type { ErrorCode } from '../../lib/protocol/error-codes.ts';
import type { SeedAccount } from '../../lib/background/dev-seed.ts';

/** The error code each troubled status is seeded with, as the relay would report it. */
const ERROR_FOR: Record<string, ErrorCode> = {
  connection_error: 'CONNECTION_REFUSED',
  authentication_error: 'AUTH_FAILED',
  retrying: 'CONNECTION_TIMEOUT',
  partially_completed: 'FOLDER_UNREADABLE',
  partially_complete: 'QUOTA_EXCEEDED',
  failed: 'UNKNOWN',
  cancelled: 'RETRY_LIMIT',
};

export const RUNNING_PROGRESS = { messagesDone: 120, messagesTotal: 400, bytes: 3_500_000, folder: 'INBOX' };

export function accountForm(displayName: string, email: string, scheduleEnabled = true) {
  return { displayName, email, username: '', host: 'imap.example.org', port: '993', security: 'tls', scheduleEnabled, everyHours: '24' };
}

export const backupAccountName = (status: string) => `Backup ${statusInfo('backup', status).label}`;
export const TRANSFERS = 'Transfers';
export const PROMPT_TEXT = '12 messages disappeared from INBOX since the last backup. Restore them?';

/**
 * One account per backup status, plus a "Transfers" account (backup Completed) holding a
 * download, restore and migrate job in every status of its kind: every (kind, status) of the spec.
 */
export function allStatusesSeed(): SeedAccount[] {
  const seeds: SeedAccount[] = statusesOf('backup').map((status, i) => ({
    form: accountForm(backupAccountName(status), `user${i}@example.org`, status !== 'deactivated'),
    jobs: [{ kind: 'backup', status, errorCode: ERROR_FOR[status], progress: status === 'running' ? RUNNING_PROGRESS : undefined }],
    prompts: status === 'completed' ? [PROMPT_TEXT] : [],
  }));
  const transfers: SeedAccount = { form: accountForm(TRANSFERS, 'transfers@example.org'), jobs: [{ kind: 'backup', status: 'completed' }] };
  for (const kind of JOB_KINDS.filter((k): k is Exclude<JobKind, 'backup'> => k !== 'backup')) {
    for (const status of statusesOf(kind)) {
      transfers.jobs?.push({
        kind,
        status,
        errorCode: ERROR_FOR[status],
        progress: status === 'running' ? RUNNING_PROGRESS : undefined,
        linkUrl: status === 'completed_link' ? 'http://127.0.0.1:9/download/test-link' : undefined,
      });
    }
  }
  return [...seeds, transfers];
}

/** Accounts with a job in Connection or Authentication Error: the two backup ones and Transfers. */
export const EXPECTED_RED_ACCOUNTS = 3;
