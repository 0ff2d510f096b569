import { z } from '../zod.ts';
import { HistoryRun } from '../protocol/account-history.ts';

/**
 * What the relay last said an account's archive holds and how it got there (account.history,
 * schema version 5): mirrored, never computed here, so the popup and the dashboard show it at once
 * and, with the relay gone, as last known ("as of" fetchedAt).
 */

const Count = z.number().int().nonnegative();

export const ArchiveSummaryRow = z.strictObject({
  accountId: z.string().min(1),
  /** false: the relay has no archive for the account yet (totals are then 0). */
  hasArchive: z.boolean(),
  messages: Count,
  bytes: Count,
  folders: Count,
  /** When the latest Completed backup finished (relay's word), epoch ms. */
  lastSuccessAt: z.number().nullable(),
  /** Runs the relay knows (the mirror keeps the newest HISTORY_LIMITS.mirrorRunsPerAccount). */
  totalRuns: Count,
  /** When the mirror received this from the relay (the "as of" of a page showing it while the relay is away). */
  fetchedAt: z.number(),
  /** The relay's zone when it answered (the CLI prints times there). */
  timeZone: z.string().max(64),
  /** What the account's state said when this was fetched: a different one means the history is out of date. */
  basis: z.string().max(512),
  /** Set when the relay's state changed since and asking again failed: then this is current only as of
   * fetchedAt. Absent: the history is as current as the relay link's last confirmation (syncedAt). */
  behind: z.literal(true).optional(),
});
export type ArchiveSummaryRow = z.infer<typeof ArchiveSummaryRow>;

/** A run of account.history as stored: keyed per account, its times as epoch ms (no paging cursor). */
export const HistoryRunRow = HistoryRun.omit({ cursor: true, startedAt: true, finishedAt: true }).extend({
  /** `${accountId}/${key}`: the relay's key is unique within an account only. */
  id: z.string().min(3).max(160),
  accountId: z.string().min(1),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
});
export type HistoryRunRow = z.infer<typeof HistoryRunRow>;
