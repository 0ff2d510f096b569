import { z } from '../zod.ts';
import { ErrorCode } from './error-codes.ts';
import { JobKind, StatusByKind } from '../status/status-ids.ts';
import { JobOutcome } from './job-outcome.ts';

/**
 * Building blocks shared by the frames. Lengths are wire caps, not business rules: they keep a
 * hostile or buggy peer from making the relay hold arbitrarily large strings.
 */

/** Ids end up in file names and map keys on the relay: a tight alphabet keeps them path-safe. */
export const SafeId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only, 1 to 64');
export type SafeId = z.infer<typeof SafeId>;

/** Correlates a reply with its request; chosen by the client, echoed by the relay. */
export const RequestId = z.string().min(1).max(64);

/** Chosen by the coordinator per intended job run: the same key always means the same job. */
export const IdempotencyKey = z.string().min(8).max(128);

export const Timestamp = z.iso.datetime({ offset: true });

/** IMAP account settings the relay needs to open a session. Holds no secret. */
export const ImapAccount = z.strictObject({
  id: SafeId,
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  /** tls: implicit TLS (993); starttls: upgrade required; none: plain (loopback test servers). */
  security: z.enum(['tls', 'starttls', 'none']),
  user: z.string().min(1).max(320),
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
});
export type JobProgress = z.infer<typeof JobProgress>;

/** Kind-specific parameters. Backup needs none today; the other kinds will add fields. */
export const JobParams = z.record(z.string().max(64), z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]));
export type JobParams = z.infer<typeof JobParams>;

/** Rejects a status id that does not belong to the job's kind (e.g. a backup 'cancelled'). */
function statusMatchesKind(v: { kind: JobKind; status: string }, ctx: z.RefinementCtx): void {
  if (!StatusByKind[v.kind].safeParse(v.status).success) {
    ctx.addIssue({ code: 'custom', path: ['status'], message: `'${v.status}' is not a ${v.kind} status` });
  }
}

/** Everything the coordinator needs to reconcile after the service worker restarts. */
export const JobSnapshot = z
  .strictObject({
    id: SafeId,
    kind: JobKind,
    accountId: SafeId,
    idempotencyKey: IdempotencyKey,
    status: z.string().max(64),
    phase: JobPhase,
    errorCode: ErrorCode.nullable(),
    progress: JobProgress,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    /** Set when a job finishes with more to say than its status (download link, migrate plan, failing side). */
    outcome: JobOutcome.optional(),
    /**
     * When the relay runs this finished job again by itself (its status is one lib/status marks
     * autoRetry: "within a few hours"); null or absent when no retry is owed. Restore, download
     * and migrate only: a backup's retry is its account's (AccountState.retryAt).
     */
    retryAt: Timestamp.nullable().optional(),
    /** How many times the relay ran this job again (automatic retry or job.retry); absent means 0. */
    attempt: z.number().int().nonnegative().optional(),
  })
  .superRefine(statusMatchesKind);
export type JobSnapshot = z.infer<typeof JobSnapshot>;

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
