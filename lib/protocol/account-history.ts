import { z } from '../zod.ts';
import { HISTORY_LIMITS } from '../limits.ts';
import { ErrorCode } from './error-code-schema.ts';
import { SafeId, Timestamp } from './ids.ts';
import { BackupStatus } from './status-ids.ts';

/**
 * What is in an account's backup and how it got there (issue 13): the archive's totals and the
 * history of backup runs, answered by the relay from state.sqlite (its job history) and the
 * account's archive index, both read-only. The extension mirrors it (lib/background/mirror.ts) and
 * `mailkeep status ACCOUNT` prints it.
 */

const Count = z.number().int().nonnegative();

/** Newest-first paging: `before` is the `cursor` of the last run of the previous page. */
export const HistoryCursor = z.string().regex(/^\d{13,16}:[A-Za-z0-9:_-]{1,80}$/, 'a cursor from an earlier account.history answer');

export const AccountHistoryParams = z.strictObject({
  accountId: SafeId,
  limit: z.number().int().min(1).max(HISTORY_LIMITS.pageMax).default(HISTORY_LIMITS.pageDefault),
  before: HistoryCursor.optional(),
});
export type AccountHistoryParams = z.infer<typeof AccountHistoryParams>;

export const HistoryRun = z.strictObject({
  /** Stable across answers: `job:<relay job id>`, or `run:<archive run id>` for a run the job history no longer holds. */
  key: z.string().min(1).max(80),
  /** Pass as `before` for the runs older than this one. */
  cursor: HistoryCursor,
  jobId: SafeId.nullable(),
  /** The archive's run (restore --at RUN); null when the run never reached the archive (login failed). */
  archiveRunId: Count.nullable(),
  startedAt: Timestamp,
  /** null while it runs, or for a run a stopped relay never finished. */
  finishedAt: Timestamp.nullable(),
  /** The spec's backup status the run ended with (or has now); null: interrupted with no status recorded. */
  status: BackupStatus.nullable(),
  errorCode: ErrorCode.nullable(),
  newMessages: Count,
  newBytes: Count,
  /** Messages that disappeared from the server in this run (kept in the archive, restorable). */
  disappeared: Count,
  /** What the archive held after this run: the growth line of the chart. */
  archiveMessages: Count,
  archiveBytes: Count,
});
export type HistoryRun = z.infer<typeof HistoryRun>;

export const ArchiveSummary = z.strictObject({
  /** Distinct messages stored (a message in three folders counts once), as `mailkeep archive-info`. */
  messages: Count,
  bytes: Count,
  /** Folders the server still has (a folder deleted on the server stays in the archive, not counted here). */
  folders: Count,
});
export type ArchiveSummary = z.infer<typeof ArchiveSummary>;

export const AccountHistoryResult = z.strictObject({
  accountId: SafeId,
  /** The relay's clock and zone when it answered. */
  relayTime: Timestamp,
  timeZone: z.string().max(64),
  /** null: the account has no archive yet (or it cannot be read now). */
  totals: ArchiveSummary.nullable(),
  /** When the latest Completed backup finished. */
  lastSuccessAt: Timestamp.nullable(),
  /** Newest first. */
  runs: z.array(HistoryRun).max(HISTORY_LIMITS.pageMax),
  /** All runs known (every page together). */
  totalRuns: Count,
  /** `before` for the next (older) page; null on the last page. */
  nextBefore: HistoryCursor.nullable(),
});
export type AccountHistoryResult = z.infer<typeof AccountHistoryResult>;
