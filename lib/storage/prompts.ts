import { MailkeepError } from '../protocol/error-codes.ts';
import type { MailkeepDb } from './db.ts';
import { PromptRow } from './rows.ts';
import { newId } from './new-id.ts';
import { createJob } from './jobs.ts';

export async function addPrompt(
  db: MailkeepDb,
  input: Pick<PromptRow, 'accountId' | 'jobId' | 'topic' | 'text'>,
  at = Date.now(),
): Promise<PromptRow> {
  const row = PromptRow.parse({ ...input, id: newId(), createdAt: at, resolvedAt: null, resolution: null });
  await db.prompts.add(row);
  return row;
}

/**
 * Answers a prompt. "Restore" (accepted) queues a restore job for the account in the same
 * transaction, so the answer and the job it promises never exist one without the other.
 */
export async function resolvePrompt(db: MailkeepDb, promptId: string, resolution: 'accepted' | 'dismissed', at = Date.now()): Promise<void> {
  await db.transaction('rw', [db.prompts, db.jobs, db.jobEvents], async () => {
    const row = await db.prompts.get(promptId);
    if (!row) throw new MailkeepError('NOT_FOUND', `prompt ${promptId} does not exist`, { promptId });
    if (row.resolvedAt !== null) return; // answered already (two clicks, two windows)
    await db.prompts.put(PromptRow.parse({ ...row, resolvedAt: at, resolution }));
    if (resolution === 'accepted') await createJob(db, { kind: 'restore', accountId: row.accountId, at });
  });
}

export async function openPrompts(db: MailkeepDb): Promise<PromptRow[]> {
  return (await db.prompts.toArray()).filter((p) => p.resolvedAt === null);
}
