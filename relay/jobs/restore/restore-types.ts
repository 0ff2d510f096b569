/**
 * The restore job's contract (archive -> IMAP via APPEND), shared by the CLI and the relay server.
 *
 *   import { runRestore } from './run-restore.ts';
 *   const result = await runRestore(
 *     { archiveDir, source: { user, host }, target: { host, port, security, user, password }, scope, into, dryRun },
 *     { signal, onProgress, onStatus },
 *   );
 *
 * - `runRestore` never throws: it resolves with a RestoreResult whose `status` is one of the
 *   specification's final restore statuses (completed, partially_complete, authentication_error,
 *   connection_error, cancelled, failed) and, unless completed, an `errorCode`.
 * - `onStatus` sees every transition: running (-> retrying -> running)* -> final. A connection
 *   failure is always announced as `retrying` before the final status, so the sequence obeys
 *   RESTORE_TRANSITIONS (lib/status/restore-statuses.ts). on_queue belongs to the caller.
 * - Retries run out: `connection_error` when the last attempt could not even log in (server
 *   unreachable), `cancelled` with RETRY_LIMIT when sessions opened but kept breaking (the spec's
 *   Cancelled: "When retry has reached limit, it is automatically cancelled"). The signal: cancelled
 *   with CANCELLED.
 * - No duplicates (design.md I5): each attempt first reads what every destination folder holds
 *   (restore-presence.ts) and appends only what is missing; a killed or retried run therefore
 *   appends each message exactly once over all runs.
 * - Every blob is hashed before it is sent (I4): a blob whose bytes do not match its SHA-256 is
 *   skipped with ARCHIVE_CORRUPT and never appended.
 * - Server storage full (OVERQUOTA, or a NO whose text mentions quota) stops the run:
 *   partially_complete with QUOTA_EXCEEDED and exact restored / not-restored counts. A later run
 *   restores only what is still missing.
 * - The password is used for LOGIN only: it is in no event, result, error message or log.
 */
import type { ErrorCode } from '../../../lib/protocol/error-codes.ts';
import type { LabelMode } from '../../../lib/protocol/restore-params.ts';
import type { RestoreStatus } from '../../../lib/protocol/status-ids.ts';
import type { AppendDeadline } from '../../imap/append-stream.ts';
import type { ImapAccount, ImapTimeouts } from '../../imap/session.ts';
import type { BackupProgress } from '../backup/types.ts';
import type { JobPacing, PauseInfo } from '../pacing.ts';

/** Which messages of the archived account to restore. Filters combine (AND). */
export interface RestoreScope {
  /** Only this folder (decoded name as archived, e.g. "Entwürfe" or "Projekte/2024"). */
  folder?: string;
  /** INTERNALDATE at or after `since` and before `until`. */
  since?: Date;
  until?: Date;
  /** The account as it was at this backup run (snapshot) instead of everything ever archived. */
  atRun?: number;
  /** One-click prompts: the messages that disappeared from the server in this run (archive-reader disappearedInRun). */
  disappearedInRun?: number;
  /** An explicit set of archived memberships, each restored into its own folder. */
  messages?: { folder: string; uidValidity: number; uid: number }[];
  /** The Archive page's selection: archive index message ids (messages.id), each restored into its own folder. */
  ids?: string[];
  /** An explicit set of blobs (SHA-256 hex), each restored into the folder it was last seen in. */
  hashes?: string[];
}

export interface RestoreOptions {
  archiveDir: string;
  /** Which archived account to read. Optional when the archive holds exactly one account. */
  source?: { user: string; host: string; port?: number };
  /** Where to append: the original account or any other. */
  target: ImapAccount;
  scope?: RestoreScope;
  /** Recreate the folder tree under this new top-level folder, e.g. "Restored 2026-11-25". */
  into?: string;
  /** Plan only: nothing is created or appended. */
  dryRun?: boolean;
  /** Gmail labels into a server without labels (lib/protocol/restore-params.ts LabelMode); default folder-per-label. Into Gmail: ignored. */
  labels?: LabelMode;
  timeouts?: ImapTimeouts;
  retry?: { maxAttempts?: number; baseDelayMs?: number };
  /** The minimum-rate deadline of each APPEND (lib/limits.ts defaults); tests shorten it. */
  appendDeadline?: Partial<AppendDeadline>;
  /** Where the append record of each destination lives (relay/jobs/append-records.ts; the relay: `<dataDir>/append-records`). None: only the keys of docs/same-message.md. */
  appendRecordsDir?: string;
  /**
   * The destination's daily upload budget and connection cap (relay/state/transfer-budget.ts):
   * every APPENDed byte is counted; a spent budget or a provider's limit signal ends the run as
   * Retrying (PROVIDER_LIMIT_PAUSED) with `pause`, and the job runs again at its resume time.
   */
  pacing?: JobPacing;
}

/** Same shape as the backup's, so the CLI's progress printer and the job manager take both. */
export type RestoreProgress = BackupProgress;

export interface RestorePlanFolder {
  /** Folder name in the archive (decoded). */
  source: string;
  /** Folder name on the destination (decoded, destination delimiter). */
  destination: string;
  create: boolean;
  toAppend: number;
  alreadyPresent: number;
  overAppendLimit: number;
  corrupt: number;
  bytesToAppend: number;
}

export interface RestorePlan {
  folders: RestorePlanFolder[];
  foldersToCreate: string[];
  toAppend: number;
  alreadyPresent: number;
  overAppendLimit: number;
  corrupt: number;
  bytesToAppend: number;
  appendLimit: number | null;
  /**
   * How labels come back (relay/jobs/gmail-labels.ts), said in the dry run: `gmail` (a Gmail
   * destination: each message appended once, `labelsToAdd` labels added with STORE +X-GM-LABELS),
   * `folder-per-label` (every membership into its folder) or `first-label` (one copy per message).
   * `messages`: distinct messages selected; `memberships`: archived folder memberships selected.
   */
  labels?: { mode: 'gmail' | LabelMode; messages: number; memberships: number; labelsToAdd: number };
  /** Destination quota (GETQUOTAROOT INBOX) when the server reports one; bytes. */
  quota: { usedBytes: number | null; limitBytes: number | null; messages: number | null; messageLimit: number | null } | null;
}

export interface RestoreSkipped {
  folder: string;
  uid: number | null;
  hash: string | null;
  code: ErrorCode;
  reason: string;
}

/** Retrying only with PROVIDER_LIMIT_PAUSED and `pause`: the job runs again by itself at pause.resumeAt. */
export type RestoreFinalStatus = Exclude<RestoreStatus, 'on_queue' | 'running'>;

export interface RestoreResult {
  kind: 'restore';
  status: RestoreFinalStatus;
  errorCode: ErrorCode | null;
  /** Secret-free, one line. */
  message: string | null;
  dryRun: boolean;
  /** Messages appended in this run (all attempts). */
  restored: number;
  /** Gmail destination: labels added to restored (or already present) messages with STORE +X-GM-LABELS. */
  labelsAdded: number;
  bytes: number;
  /** Messages found in the destination already (never appended again). */
  alreadyPresent: number;
  /** Messages selected but not restored (quota, APPENDLIMIT, corrupt blob, refused). */
  notRestored: number;
  foldersCreated: number;
  skipped: RestoreSkipped[];
  /** The plan of the last attempt (before any append); null when no session could be opened. */
  plan: RestorePlan | null;
  attempts: number;
  durationMs: number;
  /** Set with status retrying (PROVIDER_LIMIT_PAUSED): why the run paused and when the next one resumes. */
  pause?: PauseInfo;
}

export interface RestoreHooks {
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
  /** The plan of each attempt, before its first APPEND (a dry run's result in advance). */
  onPlan?: (plan: RestorePlan) => void;
  onStatus?: (status: RestoreStatus, detail: { attempt: number; errorCode?: ErrorCode; message?: string; retryInMs?: number }) => void;
}
