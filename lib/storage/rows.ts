import { z } from '../zod.ts';
import { ErrorCode } from '../protocol/error-code-schema.ts';
import { IdempotencyKey, JobParams, JobPhase, SafeId } from '../protocol/common.ts';
import { RestorePrompt } from '../protocol/restore-params.ts';
import { DownloadLink, PauseInfo } from '../protocol/job-outcome.ts';
import { Schedule, StateRevision } from '../protocol/account-state.ts';
import { JobKind, StatusByKind } from '../protocol/status-ids.ts';
import { EXTENSION_LIMITS as L } from '../limits.ts';

/**
 * Zod schemas of the rows Mailkeep keeps in IndexedDB (schema version 4). Objects are strict: an
 * unknown key is refused, so a password can never slip into an account row by accident.
 */
export const Security = z.enum(['tls', 'starttls', 'none']);
export type Security = z.infer<typeof Security>;

/** The relay's Schedule (it runs them, with the browser closed): off, every N hours, or daily. */
export { Schedule };

/** A schedule that runs (every N hours, or daily at a time): what "Enable" brings back. */
export const OnSchedule = z.discriminatedUnion('kind', [Schedule.options[1], Schedule.options[2]]);
export type OnSchedule = z.infer<typeof OnSchedule>;

/**
 * What the relay last said about an account beyond its settings (schema version 4): mirrored, never
 * computed here. Times are epoch milliseconds; null when the relay has none (never backed up, no
 * run planned, no retry owed).
 */
export const AccountRelayFacts = z.strictObject({
  hasPassword: z.boolean(),
  /** The OAuth2 provider the relay signs in with (account.auth), absent for a password account:
   * its Authentication Error offers "Sign in again" instead of a password form. */
  oauthProvider: z.string().min(1).max(64).optional(),
  nextRunAt: z.number().nullable(),
  retryAt: z.number().nullable(),
  lastSuccessAt: z.number().nullable(),
  /** Messages and bytes in the account's archive; null when the relay did not say. */
  archive: z.strictObject({ messages: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() }).nullable(),
  /** Which reading of the relay these facts are: an earlier one arriving later is not applied. */
  revision: StateRevision.optional(),
});
export type AccountRelayFacts = z.infer<typeof AccountRelayFacts>;

export const AccountRow = z.strictObject({
  id: z.string().min(1),
  displayName: z.string().min(1).max(L.displayNameMaxChars),
  email: z.string().min(3),
  username: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  security: Security,
  schedule: Schedule,
  /** What "Enable" brings back; kept while the schedule is off (schema version 4). */
  resumeSchedule: OnSchedule,
  /** The relay's facts about the account, as last mirrored; null until the relay has told us. */
  relay: AccountRelayFacts.nullable().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type AccountRow = z.infer<typeof AccountRow>;

export const JobProgress = z.strictObject({
  messagesDone: z.number().int().min(0),
  /** null until the relay has counted the messages. */
  messagesTotal: z.number().int().min(0).nullable(),
  bytes: z.number().int().min(0),
  /** The folder being worked on, in its display form. */
  folder: z.string().nullable(),
  /** Issue 14: the run's bytes in all (known before downloading) and the daily budget it runs under, for the forecast. */
  bytesTotal: z.number().int().min(0).nullable().optional(),
  dailyBudgetBytes: z.number().int().positive().nullable().optional(),
  budgetName: z.string().max(200).optional(),
});
export type JobProgress = z.infer<typeof JobProgress>;

/** The fields a row keeps of the relay's progress (lib/protocol/common.ts JobProgress). */
export function rowProgress(p: { folder: string | null; messagesDone: number; messagesTotal: number | null; bytes: number; bytesTotal?: number | null | undefined; dailyBudgetBytes?: number | null | undefined; budgetName?: string | undefined }): JobProgress {
  const { folder, messagesDone, messagesTotal, bytes, bytesTotal, dailyBudgetBytes, budgetName } = p;
  return {
    folder,
    messagesDone,
    messagesTotal,
    bytes,
    ...(bytesTotal !== undefined ? { bytesTotal } : {}),
    ...(dailyBudgetBytes !== undefined ? { dailyBudgetBytes } : {}),
    ...(budgetName !== undefined ? { budgetName } : {}),
  };
}
export const EMPTY_PROGRESS: JobProgress = { messagesDone: 0, messagesTotal: null, bytes: 0, folder: null };

/** The part of a relay JobOutcome worth keeping on a row (the migrate plan stays on its page). */
export const JobOutcomeSummary = z.strictObject({
  /** A finished download's link (a relay path: served only with the pairing token, until expiresAt). */
  link: DownloadLink.optional(),
  counts: z.record(z.string().max(64), z.number().int().nonnegative()).optional(),
  message: z.string().max(1024).optional(),
  /** Migrate: whose server caused the failure status, so "Edit" opens that account. */
  side: z.enum(['source', 'destination']).optional(),
  /** Backup paused under a provider's limit: why and when it resumes (lib/status/pause-condition.ts). */
  pause: PauseInfo.optional(),
});
export type JobOutcomeSummary = z.infer<typeof JobOutcomeSummary>;

export const JobRow = z
  .strictObject({
    id: z.string().min(1),
    kind: JobKind,
    accountId: z.string().min(1),
    status: z.string(),
    progress: JobProgress,
    createdAt: z.number(),
    updatedAt: z.number(),
    startedAt: z.number().nullable(),
    finishedAt: z.number().nullable(),
    /** When this job last reached its success status (Backup: the "last backup timestamp"). */
    lastSuccessAt: z.number().nullable(),
    /** Times the job entered Retrying since its last success. */
    attempt: z.number().int().min(0),
    /** When the relay said it runs the job again by itself ("within a few hours"): its retryAt, never computed here. */
    nextRetryAt: z.number().nullable(),
    lastErrorCode: ErrorCode.nullable(),
    /** Download link while Completed / Link; filled by the relay integration. */
    linkUrl: z.url().nullable(),
    /**
     * The relay run this row is following. The idempotency key is written BEFORE job.start is
     * sent, so a service worker killed in between re-sends the same key and the relay answers
     * with the same job instead of starting a second one. Kept after a restore, download or
     * migrate ends: the relay may run the same job again (retry), and the row follows it.
     * Optional: rows written before the relay integration have neither.
     */
    runKey: IdempotencyKey.nullable().optional(),
    relayJobId: SafeId.nullable().optional(),
    /**
     * The relay job's attempt this row last applied (JobSnapshot.attempt). A report of a higher
     * attempt is the relay running the job again (its automatic retry or Retry now); a lower or
     * equal one after the row ended is stale. Optional, no index: no schema version needed.
     */
    relayAttempt: z.number().int().nonnegative().optional(),
    /**
     * When the coordinator found that the relay has no record of the relay job this row follows
     * (its state.sqlite was replaced or moved). The row keeps the relay's last known status (its
     * age is updatedAt) and offers "Start again"; the extension never starts it by itself.
     * Optional, no index: no schema version needed.
     */
    relayUnknownSince: z.number().nullable().optional(),
    /**
     * What job.start sends as `params` (schema version 3): `{}` for a backup, the RestoreParams /
     * DownloadParams / MigrateParams of the other kinds, written when the job is created so a
     * restarted worker starts or re-runs exactly the same job. null: created before version 3
     * with no record of what was asked, so the coordinator never guesses (see declareVersion3).
     */
    params: JobParams.nullable().optional(),
    /** What the finished run reported beyond its status: counts (restored, notRestored, ...) and
     * a secret-free one-line reason. Cleared when the job is queued again. */
    outcome: JobOutcomeSummary.nullable().optional(),
  })
  .refine((j) => (StatusByKind[j.kind].options as readonly string[]).includes(j.status), {
    message: 'status is not one of this kind',
    path: ['status'],
  });
export type JobRow = z.infer<typeof JobRow>;

export const JobEventRow = z.strictObject({
  id: z.number().int().optional(),
  jobId: z.string(),
  accountId: z.string(),
  kind: JobKind,
  /** null for the event that created the job. */
  from: z.string().nullable(),
  to: z.string(),
  at: z.number(),
  attempt: z.number().int().min(0),
  errorCode: ErrorCode.nullable(),
});
export type JobEventRow = z.infer<typeof JobEventRow>;

export const PromptRow = z.strictObject({
  id: z.string().min(1),
  accountId: z.string(),
  jobId: z.string().nullable(),
  /** What the prompt is about; the relay integration adds more kinds. */
  topic: z.enum(['messages_disappeared']),
  text: z.string().min(1),
  createdAt: z.number(),
  resolvedAt: z.number().nullable(),
  /** accepted / dismissed: the user's answer; restored: the same mail was restored otherwise (lib/storage/prompts.ts). */
  resolution: z.enum(['accepted', 'dismissed', 'restored']).nullable(),
  /**
   * Schema version 3: exactly the set a one-click restore brings back (the relay's restore.prompts
   * entry: run, folder, count). null on prompts from before version 3, which can only be dismissed.
   */
  restore: RestorePrompt.nullable().optional(),
  /** When a notification was shown for it (bulk deletions only); null while none is owed or shown. */
  notifiedAt: z.number().nullable().optional(),
});
export type PromptRow = z.infer<typeof PromptRow>;

/**
 * One run from the relay's job history (schema version 4), as state.get and the events report it:
 * every backup the relay ran (scheduled ones with the browser closed included) and the other
 * kinds' runs. A record, never driven: the dashboard lists it as the relay gave it.
 */
export const RunRow = z
  .strictObject({
    id: SafeId,
    kind: JobKind,
    accountId: z.string().min(1),
    status: z.string(),
    phase: JobPhase,
    errorCode: ErrorCode.nullable(),
    startedAt: z.number(),
    updatedAt: z.number(),
    /** Messages the run went through (fetched, restored, copied) as its progress last said. */
    messages: z.number().int().nonnegative(),
  })
  .refine((r) => (StatusByKind[r.kind].options as readonly string[]).includes(r.status), { message: 'status is not one of this kind', path: ['status'] });
export type RunRow = z.infer<typeof RunRow>;

export const SettingRow = z.strictObject({ key: z.string(), value: z.unknown() });
export type SettingRow = z.infer<typeof SettingRow>;
