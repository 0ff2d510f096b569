import { z } from '../zod.ts';

/**
 * What a finished job hands back beyond its status: the download link, the migrate plan (the
 * dry run's preview), which server failed, counts: one schema per job kind. The job's kind is not
 * inside the outcome on the wire; JobSnapshot (common.ts) is the union by kind that picks the shape.
 * Platform-free; imports nothing of common.ts (common.ts imports this file) so there is no cycle.
 */

/** A finished download: GET `url` on the relay with the pairing token, until `expiresAt`. */
export const DownloadLink = z.strictObject({
  /** Path on the relay, e.g. "/download/<64 hex>"; the token in it is unguessable (256 bits). */
  url: z.string().regex(/^\/download\/[A-Za-z0-9_-]{16,128}$/),
  expiresAt: z.iso.datetime({ offset: true }),
  /** Suggested file name for the browser's download manager. */
  fileName: z.string().min(1).max(255),
  bytes: z.number().int().nonnegative(),
});
export type DownloadLink = z.infer<typeof DownloadLink>;

/** One row of the migrate preview: where a source folder goes and what happens to its messages. */
export const MigratePlanFolderView = z.strictObject({
  source: z.string().max(1024),
  destination: z.string().max(1024),
  specialUse: z.string().max(32).nullable(),
  create: z.boolean(),
  messages: z.number().int().nonnegative(),
  alreadyPresent: z.number().int().nonnegative(),
  toCopy: z.number().int().nonnegative(),
  overAppendLimit: z.number().int().nonnegative(),
  bytesToCopy: z.number().int().nonnegative(),
});

export const MigratePlanView = z.strictObject({
  folders: z.array(MigratePlanFolderView).max(10_000),
  foldersToCreate: z.array(z.string().max(1024)).max(10_000),
  messages: z.number().int().nonnegative(),
  alreadyPresent: z.number().int().nonnegative(),
  toCopy: z.number().int().nonnegative(),
  overAppendLimit: z.number().int().nonnegative(),
  bytesToCopy: z.number().int().nonnegative(),
  /** The destination's storage quota, bytes, when it reports one (GETQUOTAROOT INBOX): the preview warns when the copy will not fit. */
  destinationQuota: z.strictObject({ usedBytes: z.number().int().nonnegative().nullable(), limitBytes: z.number().int().nonnegative().nullable() }).optional(),
});
export type MigratePlanView = z.infer<typeof MigratePlanView>;

const Count = z.number().int().nonnegative();
/** Secret-free, one line: e.g. "destination: the destination server refused the user name or password". */
const Message = z.string().max(1024);

/** A backup run: what the archive holds from it, and the run's id (restore.prompts asks about that run). */
export const BackupCounts = z.strictObject({
  messages: Count,
  bytes: Count,
  disappeared: Count,
  /** Absent when the run never reached the archive (e.g. the login failed). */
  runId: Count.optional(),
});
export type BackupCounts = z.infer<typeof BackupCounts>;

/** What a restore did, and (when it planned) its plan: a dry run's preview is the plan part. */
export const RestoreCounts = z.strictObject({
  restored: Count,
  alreadyPresent: Count,
  notRestored: Count,
  foldersCreated: Count,
  toAppend: Count.optional(),
  bytesToAppend: Count.optional(),
  foldersToCreate: Count.optional(),
  overAppendLimit: Count.optional(),
  corrupt: Count.optional(),
  quotaUsedBytes: Count.optional(),
  quotaLimitBytes: Count.optional(),
  /**
   * Labels (relay/jobs/gmail-labels.ts): distinct messages selected (fewer than toAppend + alreadyPresent
   * when labels became folders); into Gmail the labels the plan adds with STORE +X-GM-LABELS, and those
   * this run added.
   */
  distinctMessages: Count.optional(),
  labelsToAdd: Count.optional(),
  labelsAdded: Count.optional(),
});
export type RestoreCounts = z.infer<typeof RestoreCounts>;

export const DownloadCounts = z.strictObject({ messages: Count, folders: Count });
export type DownloadCounts = z.infer<typeof DownloadCounts>;

export const MigrateCounts = z.strictObject({ migrated: Count, notMigrated: Count, alreadyPresent: Count, foldersCreated: Count });
export type MigrateCounts = z.infer<typeof MigrateCounts>;

/** A job paused under a provider's limit (PROVIDER_LIMIT_PAUSED): why, and when it resumes by itself. */
export const PauseInfo = z.strictObject({
  reason: z.enum(['budget', 'bandwidth', 'throttled', 'connections', 'session-expired']),
  provider: z.enum(['gmail', 'outlook', 'other']),
  resumeAt: z.iso.datetime({ offset: true }),
  /** Whose limit: downloads (backup, a migrate's source; the default) or uploads (restore, a migrate's destination). */
  direction: z.enum(['down', 'up']).optional(),
});
export type PauseInfo = z.infer<typeof PauseInfo>;
export const BackupOutcome = z.strictObject({ counts: BackupCounts.optional(), message: Message.optional(), pause: PauseInfo.optional() });
export const RestoreOutcome = z.strictObject({ counts: RestoreCounts.optional(), message: Message.optional(), pause: PauseInfo.optional() });
export const DownloadOutcome = z.strictObject({ link: DownloadLink.optional(), counts: DownloadCounts.optional(), message: Message.optional() });
export const MigrateOutcome = z.strictObject({
  /** Whose server caused the failure status (whose password to fix). */
  side: z.enum(['source', 'destination']).optional(),
  message: Message.optional(),
  counts: MigrateCounts.optional(),
  migratePlan: MigratePlanView.optional(),
  /** Paused under the source's download or the destination's upload limit (Retrying): resumes by itself. */
  pause: PauseInfo.optional(),
});

/** Each kind's outcome schema: the `outcome` of a JobSnapshot of that kind (common.ts). */
export const JOB_OUTCOMES = { backup: BackupOutcome, download: DownloadOutcome, restore: RestoreOutcome, migrate: MigrateOutcome } as const;
export type JobOutcomeOf<K extends keyof typeof JOB_OUTCOMES> = z.infer<(typeof JOB_OUTCOMES)[K]>;
export type JobOutcome = JobOutcomeOf<keyof typeof JOB_OUTCOMES>;
