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

/**
 * Whether a restore job brings back everything a prompt offers: a completed, real (not a dry run)
 * restore of the prompt's account from its own archive, into the folders the mail was in, whose
 * scope holds the prompt's folder and run, started after the run that saw the mail gone. A restore
 * narrowed by dates, to an older run's state, or into another folder may leave some out, so it
 * does not count.
 */
export function restoreCovers(job: Pick<JobRow, 'kind' | 'accountId' | 'status' | 'createdAt' | 'params'>, prompt: Pick<PromptRow, 'accountId' | 'restore'>): boolean {
  const p = prompt.restore;
  if (!p || job.kind !== 'restore' || job.status !== 'completed' || job.accountId !== prompt.accountId) return false;
  if (job.createdAt < Date.parse(p.at)) return false;
  const scope = (job.params ?? {}) as RestoreParams;
  if (scope.dryRun || scope.since || scope.until || scope.atRun !== undefined || scope.into) return false;
  if (scope.sourceAccountId !== undefined && scope.sourceAccountId !== prompt.accountId) return false;
  if (scope.folder !== undefined && scope.folder !== p.folder) return false;
  return scope.disappearedInRun === undefined || scope.disappearedInRun === p.runId;
}

/**
 * Open prompts whose mail was restored some other way since (the dashboard's Restore tab, the
 * popup's Restore of another prompt covering it): answered "restored", so "Restore them?" does not
 * stay on screen once it is no longer true. Returns the ids it answered.
 */
export async function resolveRestoredPrompts(db: MailkeepDb, at = Date.now()): Promise<string[]> {
  return db.transaction('rw', [db.prompts, db.jobs], async () => {
    const open = await openPrompts(db);
    if (open.length === 0) return [];
    const restores = await db.jobs.where('kind').equals('restore').filter((j) => j.status === 'completed').toArray();
    const done: string[] = [];
    for (const p of open) {
      if (!restores.some((j) => restoreCovers(j, p))) continue;
      await db.prompts.put(PromptRow.parse({ ...p, resolvedAt: at, resolution: 'restored' }));
      done.push(p.id);
    }
    return done;
  });
}
