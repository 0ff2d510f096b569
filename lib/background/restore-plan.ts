import { EXTENSION_LIMITS } from '../limits.ts';
import { MailkeepError } from '../protocol/error-codes.ts';
import { runRelayJob } from '../migrate/run-relay-job.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { restoreParamsOf } from '../storage/prompts.ts';
import type { RelayCaller } from './relay-runs.ts';

/** What a restore's confirmation says, from the relay's dry run (nothing is written by it). */
export interface RestorePlan {
  folder: string;
  /** Messages the restore would append. */
  toAppend: number;
  /** Messages of the set already in the destination (restored before, or put back by hand). */
  alreadyPresent: number;
  foldersToCreate: number;
  /** Larger than the server accepts (APPENDLIMIT): listed, never appended. */
  overAppendLimit: number;
}

/**
 * Runs the dry run of a prompt's one-click restore (same scope, `dryRun: true`) and waits for its
 * plan within EXTENSION_LIMITS.restorePlanDeadlineMs. Each click plans afresh under its own key:
 * the server may have changed since the last look, and a plan writes nothing.
 */
export async function planPromptRestore(db: MailkeepDb, relay: RelayCaller, promptId: string, now = Date.now): Promise<RestorePlan> {
  const prompt = await db.prompts.get(promptId);
  if (!prompt) throw new MailkeepError('NOT_FOUND', `prompt ${promptId} does not exist`, { promptId });
  if (!prompt.restore) throw new MailkeepError('INVALID_INPUT', 'this prompt does not say which messages to restore; dismiss it', { promptId });
  const job = await runRelayJob(relay, {
    kind: 'restore',
    accountId: prompt.accountId,
    idempotencyKey: `restore-plan-${now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`,
    params: { ...restoreParamsOf(prompt.restore), dryRun: true },
    deadlineMs: EXTENSION_LIMITS.restorePlanDeadlineMs,
    pollMs: EXTENSION_LIMITS.restorePlanPollMs,
    now,
  });
  if (job.status !== 'completed') {
    throw new MailkeepError(job.errorCode ?? 'UNKNOWN', job.outcome?.message ?? `the dry run ended ${job.status}`, { status: job.status });
  }
  const c = job.outcome?.counts ?? {};
  return {
    folder: prompt.restore.folder,
    toAppend: c.toAppend ?? job.progress.messagesTotal ?? 0,
    alreadyPresent: c.alreadyPresent ?? 0,
    foldersToCreate: c.foldersToCreate ?? 0,
    overAppendLimit: c.overAppendLimit ?? 0,
  };
}
