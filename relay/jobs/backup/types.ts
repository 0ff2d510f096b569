/**
 * The backup job's contract, shared by every entry point (the CLI now, the relay server next).
 *
 *   import { runBackup } from './run-backup.ts';
 *   const result = await runBackup(
 *     { archiveDir, account: { host, port, security, user, password, ca } },
 *     { signal, onProgress, onStatus },
 *   );
 *
 * - `runBackup` never throws for anything that can go wrong during a backup: it resolves with a
 *   BackupResult whose `status` is one of the specification's final backup statuses
 *   (completed, partially_completed, authentication_error, connection_error) and, unless
 *   completed, an `errorCode` from lib/protocol/error-codes.ts.
 * - `onStatus` sees every transition: preparing -> running (-> retrying -> running)* -> final.
 * - `onProgress` is throttled (RELAY_LIMITS.progressIntervalMs) and sent once more at each folder end.
 * - `signal` aborts promptly (socket closed, staged work committed): status partially_completed,
 *   errorCode CANCELLED. Everything committed so far stays; the next run resumes from checkpoints.
 * - Local failures the spec has no backup status for (archive locked, disk full, unknown bug) end
 *   as partially_completed with `failed: true`; the CLI maps those to exit 6 "Failed".
 * - Retries of connection failures are inside the job (bounded, with backoff); authentication
 *   failures are never retried (the user must edit the password).
 * - The password is used for LOGIN only: it is in no event, result, error message or log.
 */
import type { ErrorCode } from '../../../lib/protocol/error-codes.ts';
import type { BackupStatus } from '../../../lib/protocol/status-ids.ts';
import type { ImapAccount, ImapTimeouts } from '../../imap/session.ts';
import type { JobPacing, PauseInfo } from '../pacing.ts';

export type { ImapAccount, ImapTimeouts };

export interface BackupOptions {
  /** Archive directory; created if missing. Many accounts may share one archive. */
  archiveDir: string;
  account: ImapAccount;
  /** Shorter deadlines for tests; production uses lib/limits.ts. */
  timeouts?: ImapTimeouts;
  /** Attempts and first backoff delay; defaults from RELAY_LIMITS (tests shorten them). */
  retry?: { maxAttempts?: number; baseDelayMs?: number };
  /** The account's daily download budget (relay/state/transfer-budget.ts); absent: none. */
  pacing?: JobPacing;
  /** Messages per group commit (default RELAY_LIMITS.groupCommitMessages). */
  groupCommitMessages?: number;
  /** Deadlines a trickling server cannot defeat; defaults from RELAY_LIMITS (tests shorten them). */
  deadlines?: {
    /** Each message must arrive within messageBaseMs + size / minBytesPerSecond. */
    messageBaseMs?: number;
    minBytesPerSecond?: number;
    /** The whole run ends (RUN_TIME_LIMIT) after this long. */
    runMs?: number;
    /** Logins again per run after the server dropped the connection on a message. */
    maxReconnects?: number;
  };
}

export interface BackupProgress {
  folder: string;
  folderIndex: number;
  folderCount: number;
  /** Messages of this folder handled so far / to fetch in this run. */
  done: number;
  total: number;
  /** Totals for the whole run so far. */
  messages: number;
  bytes: number;
  /**
   * Messages this run fetches in all, done ones included: exact once the last folder was searched;
   * before, on a first run, the folders not reached yet count by their STATUS MESSAGES (an upper
   * bound); null while an incremental run has folders not reached yet (no honest bound).
   */
  runTotal?: number | null;
  /** Bytes a first backup downloads in all (RFC822.SIZE of every message, fetched before the bodies); null when not known. */
  bytesTotal?: number | null;
}

export interface SkippedItem {
  folder: string;
  /** null when the whole folder was skipped. */
  uid: number | null;
  code: ErrorCode;
  reason: string;
}

export interface BackupResult {
  kind: 'backup';
  status: Extract<BackupStatus, 'completed' | 'partially_completed' | 'authentication_error' | 'connection_error' | 'retrying'>;
  /** Set with status retrying (PROVIDER_LIMIT_PAUSED): why the run paused and when the next one resumes. */
  pause?: PauseInfo;
  /** True when the job ended for a local reason (archive locked, disk full, bug): CLI exit 6. */
  failed: boolean;
  errorCode: ErrorCode | null;
  /** Secret-free, one line. */
  message: string | null;
  runId: number | null;
  /** Messages added to the archive in this run (new memberships) and new content bytes written. */
  messages: number;
  bytes: number;
  foldersChecked: number;
  foldersUnchanged: number;
  flagsUpdated: number;
  disappeared: number;
  skipped: SkippedItem[];
  attempts: number;
  durationMs: number;
}

export interface BackupHooks {
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  onStatus?: (status: BackupStatus, detail: { attempt: number; errorCode?: ErrorCode; message?: string; retryInMs?: number }) => void;
}
