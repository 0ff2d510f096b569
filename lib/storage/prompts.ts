import { MailkeepError } from '../protocol/error-codes.ts';
import type { RestoreParams, RestorePrompt } from '../protocol/restore-params.ts';
import type { MailkeepDb } from './db.ts';
import { PromptRow, type JobRow } from './rows.ts';
import { newId } from './new-id.ts';
import { createJob } from './jobs.ts';

export async function addPrompt(
  db: MailkeepDb,
  input: Pick<PromptRow, 'accountId' | 'jobId' | 'topic' | 'text'> & Partial<Pick<PromptRow, 'id' | 'restore'>>,
  at = Date.now(),
): Promise<PromptRow> {
  const row = PromptRow.parse({ restore: null, notifiedAt: null, ...input, id: input.id ?? newId(), createdAt: at, resolvedAt: null, resolution: null });
  await db.prompts.add(row);
  return row;
}

/**
 * The restore a one-click prompt promises: exactly the messages that disappeared from that folder
 * in that backup run (the relay's restore.prompts entry), into the folder they were in.
 */
export function restoreParamsOf(p: RestorePrompt): RestoreParams {
  return { disappearedInRun: p.runId, ...(p.folder ? { folder: p.folder } : {}) };
}

/**
 * Answers a prompt. "Restore" (accepted) queues a restore job of exactly the prompt's set in the
 * same transaction, so the answer and the job it promises never exist one without the other, and
 * a second click (two windows) finds the prompt answered and queues nothing more.
 */
export async function resolvePrompt(db: MailkeepDb, promptId: string, resolution: 'accepted' | 'dismissed', at = Date.now()): Promise<JobRow | null> {
  return db.transaction('rw', [db.prompts, db.jobs, db.jobEvents], async () => {
    const row = await db.prompts.get(promptId);
    if (!row) throw new MailkeepError('NOT_FOUND', `prompt ${promptId} does not exist`, { promptId });
    if (row.resolvedAt !== null) return null; // answered already (two clicks, two windows)
    if (resolution === 'accepted' && !row.restore) {
      // Written before schema version 3: nobody knows which messages it meant.
      throw new MailkeepError('INVALID_INPUT', 'this prompt does not say which messages to restore; dismiss it', { promptId });
    }
    await db.prompts.put(PromptRow.parse({ ...row, resolvedAt: at, resolution }));
    if (resolution !== 'accepted' || !row.restore) return null;
    return createJob(db, { kind: 'restore', accountId: row.accountId, at, params: restoreParamsOf(row.restore) });
  });
}

export async function openPrompts(db: MailkeepDb): Promise<PromptRow[]> {
  return (await db.prompts.toArray()).filter((p) => p.resolvedAt === null);
}
