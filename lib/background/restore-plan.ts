import { EXTENSION_LIMITS } from '../limits.ts';
import { MailkeepError } from '../protocol/error-codes.ts';
import type { RestoreCounts } from '../protocol/job-outcome.ts';
import type { LabelMode, RestoreParams } from '../protocol/restore-params.ts';
import { runRelayJob } from '../migrate/run-relay-job.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { restoreParamsOf } from '../storage/prompts.ts';
import type { RelayCaller } from './relay-runs.ts';

/** What a restore's confirmation says, from the relay's dry run (nothing is written by it). */
export interface RestorePlan {
  /** The one folder restored, or '' for all of them. */
  folder: string;
  /** The new top-level folder the tree is recreated under, or null for where the mail was. */
  into: string | null;
  /** Messages the restore would append. */
  toAppend: number;
  /** Messages of the set already in the destination (restored before, or put back by hand). */
  alreadyPresent: number;
  foldersToCreate: number;
  /** Larger than the server accepts (APPENDLIMIT): listed, never appended. */
  overAppendLimit: number;
  /** Bytes the restore would append, and the destination's quota when it reports one (the confirmation warns when they will not fit). */
  bytesToAppend?: number;
  quota?: { usedBytes: number | null; limitBytes: number | null } | null;
  /** Distinct messages selected (fewer than the copies when Gmail labels become folders). */
  distinctMessages?: number;
  /** Into Gmail (X-GM-EXT-1): labels the restore adds with STORE +X-GM-LABELS; absent into any other server. */
  labelsToAdd?: number;
  /** How labels become folders in a server without labels (the restore's `labels`, default folder-per-label). */
  labelMode?: LabelMode;
}

/** A restore to plan: a prompt's one-click set, or a restore the user is setting up. */
export type PlanTarget = { promptId: string } | { accountId: string; params: RestoreParams };

/**
 * Runs the dry run of a restore (same scope, `dryRun: true`) and waits for its plan within
 * EXTENSION_LIMITS.restorePlanDeadlineMs. Each request plans afresh under its own key: the server
 * may have changed since the last look, and a plan writes nothing.
 */
export async function planRestore(db: MailkeepDb, relay: RelayCaller, target: PlanTarget, now = Date.now): Promise<RestorePlan> {
  const { accountId, params } = await scopeOf(db, target);
  const job = await runRelayJob(relay, {
    kind: 'restore',
    accountId,
    idempotencyKey: `restore-plan-${now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`,
    params: { ...params, dryRun: true },
    deadlineMs: EXTENSION_LIMITS.restorePlanDeadlineMs,
    pollMs: EXTENSION_LIMITS.restorePlanPollMs,
    now,
  });
  if (job.status !== 'completed') {
    throw new MailkeepError(job.errorCode ?? 'UNKNOWN', job.outcome?.message ?? `the dry run ended ${job.status}`, { status: job.status });
  }
  const c: Partial<RestoreCounts> = job.outcome?.counts ?? {};
  return {
    folder: params.folder ?? '',
    into: params.into ?? null,
    toAppend: c.toAppend ?? job.progress.messagesTotal ?? 0,
    alreadyPresent: c.alreadyPresent ?? 0,
    foldersToCreate: c.foldersToCreate ?? 0,
    overAppendLimit: c.overAppendLimit ?? 0,
    bytesToAppend: c.bytesToAppend ?? 0,
    quota: c.quotaLimitBytes !== undefined ? { usedBytes: c.quotaUsedBytes ?? null, limitBytes: c.quotaLimitBytes } : null,
    ...(c.distinctMessages !== undefined ? { distinctMessages: c.distinctMessages } : {}),
    ...(c.labelsToAdd !== undefined ? { labelsToAdd: c.labelsToAdd } : {}),
    labelMode: params.labels ?? 'folder-per-label',
  };
}

async function scopeOf(db: MailkeepDb, target: PlanTarget): Promise<{ accountId: string; params: RestoreParams }> {
  if (!('promptId' in target)) return target;
  const prompt = await db.prompts.get(target.promptId);
  if (!prompt) throw new MailkeepError('NOT_FOUND', `prompt ${target.promptId} does not exist`, { promptId: target.promptId });
  if (!prompt.restore) throw new MailkeepError('INVALID_INPUT', 'this prompt does not say which messages to restore; dismiss it', { promptId: target.promptId });
  return { accountId: prompt.accountId, params: restoreParamsOf(prompt.restore) };
}
