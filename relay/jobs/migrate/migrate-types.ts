import type { ServerQuota } from '../../imap/read-quota.ts';
/**
 * The migrate job's contract (IMAP account -> another IMAP account, directly), shared by the CLI
 * and the relay server.
 *
 *   import { runMigrate } from './run-migrate.ts';
 *   const result = await runMigrate({ source, destination, dryRun }, { signal, onProgress, onStatus });
 *
 * - `runMigrate` never throws: it resolves with a MigrateResult whose `status` is a final status of
 *   the specification's Migrate table (completed, partially_complete, authentication_error,
 *   connection_error, cancelled, failed) and, unless completed, an `errorCode`.
 * - `side` names whose server failed ('source' or 'destination'): Authentication Error must say
 *   which credentials to fix. The message says it too.
 * - The source is read-only (EXAMINE, BODY.PEEK[]); nothing is ever deleted on either side.
 * - No duplicates (design.md I5): each attempt first reads what every destination folder holds
 *   (restore-presence.ts, shared with Restore) and copies only what is missing, so a killed or
 *   retried run copies each message exactly once over all runs.
 * - Connection failures are retried inside the job (retrying, bounded, with backoff). When no
 *   session could be opened on the last attempt: connection_error. When sessions opened but kept
 *   breaking until the attempts ran out: cancelled with RETRY_LIMIT (the spec's "When retry has
 *   reached limit, it is automatically cancelled"). A caller's abort: cancelled with CANCELLED.
 * - Destination storage full: partially_complete with QUOTA_EXCEEDED and exact counts. Messages
 *   over the destination's APPENDLIMIT are listed in `skipped` and make the run partially_complete.
 * - Passwords are used for LOGIN only: they are in no event, result, error message or log.
 */
import type { ErrorCode } from '../../../lib/protocol/error-codes.ts';
import type { LabelMode } from '../../../lib/protocol/restore-params.ts';
import type { MigrateStatus } from '../../../lib/protocol/status-ids.ts';
import type { AppendDeadline } from '../../imap/append-stream.ts';
import type { ImapAccount, ImapTimeouts } from '../../imap/session.ts';
import type { JobPacing, PauseInfo } from '../pacing.ts';
import type { BackupProgress } from '../backup/types.ts';

export type Side = 'source' | 'destination';

export interface MigrateOptions {
  source: ImapAccount;
  destination: ImapAccount;
  /** Plan only (folder mapping and counts): nothing is created or appended. */
  dryRun?: boolean;
  timeouts?: ImapTimeouts;
  retry?: { maxAttempts?: number; baseDelayMs?: number };
  /** The minimum-rate deadline of each APPEND (lib/limits.ts defaults); tests shorten it. */
  appendDeadline?: Partial<AppendDeadline>;
  /** Gmail labels from a Gmail source into a server without labels (lib/protocol/restore-params.ts LabelMode); default folder-per-label. */
  labels?: LabelMode;
  /** Where the append record of each destination lives (relay/jobs/append-records.ts; the relay: `<dataDir>/append-records`). None: only the keys of docs/same-message.md. */
  appendRecordsDir?: string;
  /** The source's daily download budget (relay/state/transfer-budget.ts): every body byte read is counted. */
  sourcePacing?: JobPacing;
  /**
   * The destination's daily upload budget: every APPENDed byte is counted. Either spent, or a
   * provider's limit signal on either side, ends the run as Retrying (PROVIDER_LIMIT_PAUSED) with
   * `pause`, and the job runs again at its resume time (the append record: nothing twice).
   */
  destinationPacing?: JobPacing;
}

export type MigrateProgress = BackupProgress;

export interface MigratePlanFolder {
  /** Folder on the source (decoded, source delimiter). */
  source: string;
  /** Folder on the destination (decoded, destination delimiter). */
  destination: string;
  /** Special use that decided the mapping (\Sent, \Drafts, ...), or null when mapped by name. */
  specialUse: string | null;
  create: boolean;
  messages: number;
  alreadyPresent: number;
  toCopy: number;
  overAppendLimit: number;
  bytesToCopy: number;
}

export interface MigratePlan {
  folders: MigratePlanFolder[];
  foldersToCreate: string[];
  messages: number;
  alreadyPresent: number;
  toCopy: number;
  overAppendLimit: number;
  bytesToCopy: number;
  appendLimit: number | null;
  /** The destination's quota (GETQUOTAROOT INBOX) when it reports one: the preview warns when the plan will not fit. */
  quota: ServerQuota | null;
  sourceDelimiter: string;
  destinationDelimiter: string;
  /** How labels are copied (relay/jobs/gmail-labels.ts), said in the dry run; as RestorePlan.labels. */
  labels?: { mode: 'gmail' | LabelMode; messages: number; memberships: number; labelsToAdd: number };
}

export interface MigrateSkipped {
  folder: string;
  uid: number | null;
  code: ErrorCode;
  reason: string;
}

/** Retrying only with PROVIDER_LIMIT_PAUSED and `pause`: the job runs again by itself at pause.resumeAt. */
export type MigrateFinalStatus = Exclude<MigrateStatus, 'on_queue' | 'running'>;

export interface MigrateResult {
  kind: 'migrate';
  status: MigrateFinalStatus;
  errorCode: ErrorCode | null;
  /** Secret-free, one line. */
  message: string | null;
  /** Whose server caused a failure status; null when completed or not server-specific. */
  side: Side | null;
  dryRun: boolean;
  /** Messages appended to the destination in this run (all attempts). */
  migrated: number;
  /** Gmail to Gmail: labels added with STORE +X-GM-LABELS. */
  labelsAdded: number;
  bytes: number;
  /** Messages found in the destination already (never appended again), as of the last plan. */
  alreadyPresent: number;
  /** Messages of the last plan that are not in the destination after this run (quota, APPENDLIMIT, refused). */
  notMigrated: number;
  foldersCreated: number;
  skipped: MigrateSkipped[];
  plan: MigratePlan | null;
  attempts: number;
  durationMs: number;
  /** Set with status retrying (PROVIDER_LIMIT_PAUSED): whose limit (direction down: the source's), and when the next run resumes. */
  pause?: PauseInfo;
}

export interface MigrateHooks {
  signal?: AbortSignal;
  onProgress?: (p: MigrateProgress) => void;
  /** Once per attempt, after both sides were read and before anything is copied. */
  onPlan?: (plan: MigratePlan) => void;
  onStatus?: (status: MigrateStatus, detail: { attempt: number; errorCode?: ErrorCode; message?: string; retryInMs?: number; side?: Side }) => void;
}
