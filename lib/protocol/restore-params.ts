import { z } from '../zod.ts';
import { SafeId, Timestamp } from './ids.ts';
import { ArchiveSelection } from './archive-browse.ts';

/**
 * How Gmail labels (one archived folder membership per label) go into a server without labels:
 * `folder-per-label` (the default, as before Gmail mode: the message goes into the folder of every
 * label it had, All Mail included) or `first-label` (one copy, in its first label's folder: INBOX,
 * then user labels by name, then Sent, Drafts, Important, Starred, then All Mail). Into Gmail
 * itself neither applies: each message is appended once and gets its labels back.
 */
export const LabelMode = z.enum(['folder-per-label', 'first-label']);
export type LabelMode = z.infer<typeof LabelMode>;

/**
 * `params` of job.start for kind "restore" (the relay runs relay/jobs/restore/run-restore.ts). Every field
 * but `messageIds` is a scalar; all travel in the same frame as backup's `{}`.
 * Filters combine; none at all restores everything the archive ever held for the account, each
 * message into the folder it was last seen in.
 *
 * The job's `accountId` is the destination (its stored credentials log in); `sourceAccountId`
 * names the account whose archive is read, the same one when omitted.
 */
export const RestoreParams = z.strictObject({
  sourceAccountId: SafeId.optional(),
  /** Only this archived folder (decoded full name, e.g. "Projekte/2024"). */
  folder: z.string().min(1).max(1024).optional(),
  /** INTERNALDATE at or after `since`, before `until`. */
  since: Timestamp.optional(),
  until: Timestamp.optional(),
  /** The account as it was at this backup run (archive runs.id). */
  atRun: z.number().int().positive().optional(),
  /** One-click prompt: only what disappeared from the server in this run (with `folder`: from that folder). */
  disappearedInRun: z.number().int().positive().optional(),
  /**
   * The Archive page's selection: exactly these archived messages (archive-browse.ts ids), each into
   * the folder it was archived in (or under `into`). An id the archive does not hold is NOT_FOUND
   * before anything is appended.
   */
  messageIds: ArchiveSelection.optional(),
  /** Recreate the tree under this new top-level folder, e.g. "Restored 2026-11-25". */
  into: z.string().min(1).max(255).optional(),
  /** Gmail labels into a server without labels (see LabelMode); default folder-per-label. */
  labels: LabelMode.optional(),
  /** Plan only; the job completes with outcome.counts (toAppend, alreadyPresent, ...) and progress.messagesTotal = toAppend. */
  dryRun: z.boolean().optional(),
});
export type RestoreParams = z.infer<typeof RestoreParams>;

/**
 * One-click restore prompts of an account: per folder, what disappeared from the server in a backup
 * run (default: its latest). Each prompt is exactly the restore `{ disappearedInRun: runId, folder }`.
 */
export const RestorePrompt = z.strictObject({
  runId: z.number().int().positive(),
  folder: z.string().max(1024),
  messages: z.number().int().positive(),
  bytes: z.number().int().nonnegative(),
  /** The previous run's start (the messages were there), or null; this run's start (they were gone). */
  since: z.string().max(64).nullable(),
  at: z.string().max(64),
});
export type RestorePrompt = z.infer<typeof RestorePrompt>;
