import { MailkeepError } from '../protocol/error-codes.ts';
import { QUEUE_STATUS } from '../status/catalog.ts';
import { canTransition } from '../status/state-machine.ts';
import type { MailkeepDb } from './db.ts';
import { AccountRow } from './rows.ts';
import { AccountInput, type AccountInputIssues, issuesOf } from './account-input.ts';
import { backupJobOf, createJob, transitionJob } from './jobs.ts';
import { newId } from './new-id.ts';

export type SaveAccountResult = { ok: true; account: AccountRow } | { ok: false; issues: AccountInputIssues };

/**
 * Validates the form values and saves the account, creating its backup job (Preparing Backup, or
 * Deactivated when the schedule is off) or moving it when the schedule is switched on or off.
 * Invalid input saves nothing and returns the issues per field.
 */
export async function saveAccount(db: MailkeepDb, raw: unknown, accountId?: string, at = Date.now(), newAccountId?: string): Promise<SaveAccountResult> {
  const parsed = AccountInput.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error) };
  const input = parsed.data;
  return db.transaction('rw', db.accounts, db.jobs, db.jobEvents, async () => {
    const existing = accountId ? await db.accounts.get(accountId) : undefined;
    if (accountId && !existing) throw new MailkeepError('NOT_FOUND', `account ${accountId} does not exist`, { accountId });
    const account = AccountRow.parse({
      ...input,
      // A caller that told the relay about the account first chose its id already.
      id: existing?.id ?? newAccountId ?? newId(),
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
    });
    await db.accounts.put(account);
    const job = await backupJobOf(db, account.id);
    if (!job) {
      await createJob(db, { kind: 'backup', accountId: account.id, status: account.schedule.kind !== 'off' ? 'preparing' : 'deactivated', at });
    } else if (account.schedule.kind === 'off' && job.status !== 'deactivated') {
      await transitionJob(db, job.id, 'deactivated', { at });
    } else if (account.schedule.kind !== 'off' && job.status === 'deactivated') {
      await transitionJob(db, job.id, QUEUE_STATUS.backup, { at });
    } else if (existing && job.status === 'authentication_error' && canTransition('backup', job.status, 'preparing')) {
      // Edited after an Authentication Error (new credentials go to the relay): try again now.
      await transitionJob(db, job.id, 'preparing', { at });
    }
    return { ok: true as const, account };
  });
}

/** Removes the account with its jobs, history and prompts (the archive on disk is the relay's). */
export async function removeAccount(db: MailkeepDb, accountId: string): Promise<void> {
  await db.transaction('rw', [db.accounts, db.jobs, db.jobEvents, db.prompts], async () => {
    await db.accounts.delete(accountId);
    await db.jobs.where('accountId').equals(accountId).delete();
    await db.jobEvents.where('accountId').equals(accountId).delete();
    await db.prompts.where('accountId').equals(accountId).delete();
  });
}
