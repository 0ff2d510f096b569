import type { JobKind } from '../protocol/status-ids.ts';

/**
 * The specification's conditions (docs/status-spec.txt) and the sentence the Condition column
 * shows for each: the same meaning, with the specification's broken grammar corrected ("is error",
 * "has reached limit" without its subject, "credential is wrong", missing articles and full stops).
 * `spec` is word for word from the specification, so a test can find every row of it here; the
 * status names themselves are never changed (they stay in the catalog's `label`).
 *
 * One table: the catalog takes its `condition` from `displayed`; nothing else rewords a condition.
 */
export interface SpecCondition {
  readonly spec: string;
  readonly displayed: string;
}

type ConditionTable = { readonly [K in JobKind]: Readonly<Record<string, SpecCondition>> };

const CONNECTION_FAILED_FEW_HOURS =
  'The connection to the email server failed. The status will change within a few hours. If this does not happen, please contact our support.';
const CREDENTIALS_EDIT =
  'The email account’s credentials are wrong. Click the "Edit" button and update the password for this email account. If the error continues, contact your email provider.';
const UNKNOWN_FEW_HOURS = 'Unknown error. The status will change within a few hours. If this does not happen, please contact our support.';
const RETRY_LIMIT_CANCELLED =
  'The retries reached their limit, so it was cancelled automatically. Please try again. If it is cancelled again, please contact our support.';

/** Keyed by status id (lib/protocol/status-ids.ts). */
export const SPEC_CONDITIONS: ConditionTable = {
  backup: {
    preparing: { spec: 'Backup is in the queue to execute', displayed: 'The backup is in the queue to run.' },
    running: { spec: 'Backup is Running', displayed: 'The backup is running.' },
    retrying: {
      spec: 'System is retrying connection to email server to backup emails',
      displayed: 'The system is retrying the connection to the email server to back up emails.',
    },
    connection_error: {
      spec: 'Connection with email server is in error. The status will change within a few hours. If this does not happen, please contact our support.',
      displayed: CONNECTION_FAILED_FEW_HOURS,
    },
    authentication_error: {
      spec: 'Email account’s credential is wrong. Click the "Edit" button and update the password for this email. If the error continues, contact your email provider.',
      displayed: CREDENTIALS_EDIT,
    },
    partially_completed: {
      spec: 'The backup was partially completed. The status will change within a few hours. If this does not happen, please contact our support.',
      displayed: 'The backup was partially completed. The status will change within a few hours. If this does not happen, please contact our support.',
    },
    completed: { spec: 'Backup is completed', displayed: 'The backup is completed.' },
    // Not in the table: from the "Dashboard Backup Status" list at the top of the specification.
    deactivated: { spec: 'Scheduled backup is disabled but can be enabled later', displayed: 'Scheduled backup is disabled but can be enabled later.' },
  },
  download: {
    running: { spec: 'Download is being generated', displayed: 'The download is being generated.' },
    retrying: { spec: 'Retrying after download error.', displayed: 'Retrying after a download error.' },
    failed: {
      spec: 'Unknown error. The status will change within a few hours. If this does not happen, please contact our support.',
      displayed: UNKNOWN_FEW_HOURS,
    },
    cancelled: {
      // The specification's sentence lost its start; restore's and migrate's have it ("When retry ...").
      spec: 'has reached limit, it is automatically cancelled. Please try again. If it is cancelled again, please contact our support.',
      displayed: RETRY_LIMIT_CANCELLED,
    },
    on_queue: { spec: 'The download process is queued', displayed: 'The download process is queued.' },
    completed_link: {
      spec: 'Download is completed and a link is available for download.',
      displayed: 'The download is completed and a link is available for download.',
    },
    expired: { spec: 'Download Link has expired', displayed: 'The download link has expired.' },
  },
  restore: {
    running: { spec: 'Restore is in progress', displayed: 'The restore is in progress.' },
    retrying: { spec: 'Retrying after restore error', displayed: 'Retrying after a restore error.' },
    failed: {
      spec: 'Unknown Error. The status will change within a few hours. If this does not happen, please contact our support.',
      displayed: UNKNOWN_FEW_HOURS,
    },
    cancelled: {
      spec: 'When retry has reached limit, it is automatically cancelled. Please try again. If it is cancelled again, please contact our support.',
      displayed: RETRY_LIMIT_CANCELLED,
    },
    connection_error: { spec: 'Connection with email server is error.', displayed: 'The connection to the email server failed.' },
    authentication_error: {
      spec: 'Email account’s credential is wrong. Click the "Edit" button and update the password for this email. If the error continues, contact your email provider.',
      displayed: CREDENTIALS_EDIT,
    },
    on_queue: { spec: 'The restore process is queued.', displayed: 'The restore process is queued.' },
    partially_complete: {
      spec: 'Restore is partially completed. This can be if the Mail Server storage is full.',
      displayed: 'The restore is partially completed. This can happen if the mail server’s storage is full.',
    },
    completed: { spec: 'Restore completed.', displayed: 'The restore is completed.' },
  },
  migrate: {
    running: { spec: 'Migrate is in progress', displayed: 'The migration is in progress.' },
    retrying: { spec: 'Retrying after migrate error', displayed: 'Retrying after a migration error.' },
    cancelled: {
      spec: 'When retry has reached limit, it is automatically cancelled. Please try again. If it is cancelled again, please contact our support.',
      displayed: RETRY_LIMIT_CANCELLED,
    },
    failed: {
      spec: 'Unknown Error. The status will change within a few hours. If this does not happen, please contact our support.',
      displayed: UNKNOWN_FEW_HOURS,
    },
    connection_error: {
      spec: 'Connection with email server is errored. Please contact our support.',
      displayed: 'The connection to the email server failed. Please contact our support.',
    },
    authentication_error: {
      spec: 'Email account’s credential is wrong. Please retry with correct credentials.',
      displayed: 'The email account’s credentials are wrong. Please retry with the correct credentials.',
    },
    on_queue: { spec: 'The migrate process is queued.', displayed: 'The migration process is queued.' },
    partially_complete: {
      spec: 'Migration is partially completed. This can be if the Mail Server storage is full.',
      displayed: 'The migration is partially completed. This can happen if the mail server’s storage is full.',
    },
    completed: { spec: 'Migration completed', displayed: 'The migration is completed.' },
  },
};

/** The Condition column's sentence for a status (the catalog's `condition`). */
export function displayedCondition(kind: JobKind, status: string): string {
  const row = SPEC_CONDITIONS[kind][status];
  if (!row) throw new Error(`no specification condition for ${kind}/${status}`);
  return row.displayed;
}
