import { z } from '../zod.ts';
import { LIMITS } from '../limits.ts';
import { ErrorCode } from './error-code-schema.ts';
import { JobKind, StatusByKind } from './status-ids.ts';
import { IdempotencyKey, SafeId, Timestamp } from './ids.ts';
import { BackupOutcome, DownloadOutcome, MigrateOutcome, RestoreOutcome } from './job-outcome.ts';

export { IdempotencyKey, RequestId, SafeId, Timestamp } from './ids.ts';
export { JobParams, JobRequest } from './job-kinds.ts';

/**
 * Building blocks shared by the frames. Lengths are wire caps, not business rules: they keep a
 * hostile or buggy peer from making the relay hold arbitrarily large strings.
 */

/** IMAP account settings the relay needs to open a session. Holds no secret. */
export const ImapAccount = z.strictObject({
  id: SafeId,
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  /** tls: implicit TLS (993); starttls: upgrade required; none: plain (loopback test servers). */
  security: z.enum(['tls', 'starttls', 'none']),
  user: z.string().min(1).max(320),
  /** How the pages and `account list` name the account (`account add --name`); absent: its login. Not used to connect. */
  name: z.string().trim().min(1).max(100).optional(),
  /** The mailbox's address when the login is not one (`account add --email`); absent: the login. */
  email: z.string().trim().min(3).max(320).optional(),
  /**
   * How the relay logs in. Absent or `password`: LOGIN with the stored password. `oauth2`: XOAUTH2 /
   * OAUTHBEARER with an access token of `provider` (relay/oauth), whose tokens stay in the relay.
   */
  auth: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('password') }),
      z.strictObject({ kind: z.literal('oauth2'), provider: z.string().min(1).max(64) }),
    ])
    .optional(),
  /**
   * PEM text of certificates to trust for this server besides the system's (a self-hosted server's
   * self-signed certificate or private CA: `account add|edit --ca FILE`). Public, not a secret; kept
   * as text so moving the file changes nothing. In account.upsert, absent keeps the stored one (a
   * form that does not show it must not drop it) and null forgets it (`account edit --no-ca`).
   */
  ca: z.string().max(LIMITS.accountCaMaxChars).regex(/-----BEGIN CERTIFICATE-----/, 'must be a PEM certificate').nullable().optional(),
});
export type ImapAccount = z.infer<typeof ImapAccount>;

/** A password travels only inside account.upsert and account.test, never in a relay frame. */
export const Password = z.string().min(1).max(1024);

/** Where a job stands in the relay's own lifecycle (separate from the spec's status ids). */
export const JobPhase = z.enum(['queued', 'active', 'finished', 'interrupted']);
export type JobPhase = z.infer<typeof JobPhase>;

export const JobProgress = z.strictObject({
  /** The folder being worked on; messagesDone/Total count the whole run when known. */
  folder: z.string().max(1024).nullable(),
  /** 0-based position of `folder` among `folderCount` folders, for an overall progress bar. */
  folderIndex: z.number().int().nonnegative().optional(),
  folderCount: z.number().int().nonnegative().optional(),
  messagesDone: z.number().int().nonnegative(),
  messagesTotal: z.number().int().nonnegative().nullable(),
  bytes: z.number().int().nonnegative(),
  /** Bytes this run downloads in all, known before downloading (RFC822.SIZE of each message); absent or null: unknown. */
  bytesTotal: z.number().int().nonnegative().nullable().optional(),
  /** The daily budget the job runs under (bytes per rolling 24 h) and its name, for the forecast. */
  dailyBudgetBytes: z.number().int().positive().nullable().optional(),
  budgetName: z.string().max(200).optional(),
});
export type JobProgress = z.infer<typeof JobProgress>;

/** Rejects a status id that does not belong to the job's kind (e.g. a backup 'cancelled'). */
function statusMatchesKind(v: { kind: JobKind; status: string }, ctx: z.RefinementCtx): void {
  if (!StatusByKind[v.kind].safeParse(v.status).success) {
    ctx.addIssue({ code: 'custom', path: ['status'], message: `'${v.status}' is not a ${v.kind} status` });
  }
}

const snapshotFields = {
  id: SafeId,
  accountId: SafeId,
  idempotencyKey: IdempotencyKey,
  status: z.string().max(64),
  phase: JobPhase,
  errorCode: ErrorCode.nullable(),
  progress: JobProgress,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /**
   * When the relay runs this finished job again by itself (its status is one lib/status marks
   * autoRetry: "within a few hours"); null or absent when no retry is owed. Restore, download
   * and migrate only: a backup's retry is its account's (AccountState.retryAt).
   */
  retryAt: Timestamp.nullable().optional(),
  /** How many times the relay ran this job again (automatic retry or job.retry); absent means 0. */
  attempt: z.number().int().nonnegative().optional(),
};

/**
 * Everything the coordinator needs to reconcile after the service worker restarts. A union by
 * kind, so a job's `outcome` has its kind's shape (a backup's counts, a download's link, a
 * migration's plan and failing side); the wire is the same object as before (no extra field).
 * Set when a job finishes with more to say than its status.
 */
export const JobSnapshot = z
  .discriminatedUnion('kind', [
    z.strictObject({ ...snapshotFields, kind: z.literal('backup'), outcome: BackupOutcome.optional() }),
    z.strictObject({ ...snapshotFields, kind: z.literal('download'), outcome: DownloadOutcome.optional() }),
    z.strictObject({ ...snapshotFields, kind: z.literal('restore'), outcome: RestoreOutcome.optional() }),
    z.strictObject({ ...snapshotFields, kind: z.literal('migrate'), outcome: MigrateOutcome.optional() }),
  ])
  .superRefine(statusMatchesKind);
export type JobSnapshot = z.infer<typeof JobSnapshot>;
/** A snapshot of one kind: its `outcome` has that kind's shape. */
export type SnapshotOf<K extends JobKind> = Extract<JobSnapshot, { kind: K }>;

export const ProgressEvent = z.strictObject({
  event: z.literal('progress'),
  jobId: SafeId,
  progress: JobProgress,
  at: Timestamp,
});

export const StatusEvent = z
  .strictObject({
    event: z.literal('status'),
    jobId: SafeId,
    kind: JobKind,
    status: z.string().max(64),
    phase: JobPhase,
    errorCode: ErrorCode.nullable(),
    at: Timestamp,
    /** The job's attempt (JobSnapshot.attempt) this status belongs to; absent means 0. */
    attempt: z.number().int().nonnegative().optional(),
  })
  .superRefine(statusMatchesKind);

export const JobEvent = z.discriminatedUnion('event', [ProgressEvent, StatusEvent]);
export type JobEvent = z.infer<typeof JobEvent>;
