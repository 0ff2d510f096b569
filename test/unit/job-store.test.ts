import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { MailkeepDb } from '@/lib/storage/db';
import { backupJobOf, createJob, transitionJob, updateProgress } from '@/lib/storage/jobs';
import { removeAccount, saveAccount } from '@/lib/storage/accounts';
import { addPrompt } from '@/lib/storage/prompts';
import { loadOverview, listJobs } from '@/lib/storage/queries';
import { AccountRow } from '@/lib/storage/rows';
import { MailkeepError } from '@/lib/protocol/error-codes';
import { AccountInput, issuesOf } from '@/lib/storage/account-input';
import { ACCOUNT_FORM, freshDb } from './helpers/fresh-db';

let db: MailkeepDb;
beforeEach(() => {
  db = freshDb();
});

async function newAccount(overrides: Record<string, unknown> = {}) {
  const result = await saveAccount(db, { ...ACCOUNT_FORM, ...overrides });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.account;
}

describe('transitionJob', () => {
  it('writes the job and its event together', async () => {
    const account = await newAccount();
    const job = await backupJobOf(db, account.id);
    expect(job?.status).toBe('preparing');
    await transitionJob(db, job!.id, 'running', { at: 1000 });
    const after = await db.jobs.get(job!.id);
    expect(after).toMatchObject({ status: 'running', startedAt: 1000, updatedAt: 1000 });
    const events = await db.jobEvents.where('jobId').equals(job!.id).sortBy('id');
    expect(events.map((e) => [e.from, e.to])).toEqual([[null, 'preparing'], ['preparing', 'running']]);
  });

  it('leaves the job untouched when writing its event fails, because both share one transaction', async () => {
    const account = await newAccount();
    const job = (await backupJobOf(db, account.id))!;
    const spy = vi.spyOn(db.jobEvents, 'add').mockImplementation((() => Promise.reject(new Error('disk on fire'))) as never);
    await expect(transitionJob(db, job.id, 'running')).rejects.toThrow('disk on fire');
    spy.mockRestore();
    expect((await db.jobs.get(job.id))?.status).toBe('preparing');
    expect(await db.jobEvents.where('jobId').equals(job.id).count()).toBe(1);
  });

  it('refuses an illegal transition and writes nothing', async () => {
    const account = await newAccount();
    const job = (await backupJobOf(db, account.id))!;
    const err = await transitionJob(db, job.id, 'completed').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MailkeepError);
    expect((err as MailkeepError).code).toBe('ILLEGAL_TRANSITION');
    expect((await db.jobs.get(job.id))?.status).toBe('preparing');
    expect(await db.jobEvents.count()).toBe(1);
  });

  it('keeps retry bookkeeping: attempts count up, an auto-retry status shows the retry time the relay gave (none invented), success resets', async () => {
    const account = await newAccount();
    const id = (await backupJobOf(db, account.id))!.id;
    await transitionJob(db, id, 'retrying', { at: 10, errorCode: 'CONNECTION_REFUSED' });
    let job = await transitionJob(db, id, 'connection_error', { at: 20, errorCode: 'CONNECTION_TIMEOUT' });
    expect(job).toMatchObject({ attempt: 1, lastErrorCode: 'CONNECTION_TIMEOUT', nextRetryAt: null });
    await transitionJob(db, id, 'preparing', { at: 25 });
    await transitionJob(db, id, 'retrying', { at: 26 });
    job = await transitionJob(db, id, 'connection_error', { at: 27, retryAt: 9_000 });
    expect(job).toMatchObject({ attempt: 2, nextRetryAt: 9_000 });
    await transitionJob(db, id, 'preparing', { at: 30 });
    await transitionJob(db, id, 'running', { at: 40 });
    job = await transitionJob(db, id, 'completed', { at: 50 });
    expect(job).toMatchObject({ attempt: 0, lastErrorCode: null, nextRetryAt: null, lastSuccessAt: 50, finishedAt: 50 });
  });

  it('records progress of a running job only', async () => {
    const account = await newAccount();
    const id = (await backupJobOf(db, account.id))!.id;
    await expect(updateProgress(db, id, { messagesDone: 1 })).rejects.toThrow(/not running/);
    await transitionJob(db, id, 'running');
    await updateProgress(db, id, { messagesDone: 5, messagesTotal: 10, bytes: 2048, folder: 'INBOX' });
    expect((await db.jobs.get(id))?.progress).toEqual({ messagesDone: 5, messagesTotal: 10, bytes: 2048, folder: 'INBOX' });
  });
});

describe('accounts in the store', () => {
  it('never hold a password: the row schema refuses one', () => {
    const row = { id: 'x', displayName: 'A', email: 'a@b.c', username: 'a', host: 'h', port: 993, security: 'tls', schedule: { kind: 'every', hours: 24 }, resumeSchedule: { kind: 'every', hours: 24 }, createdAt: 1, updatedAt: 1 };
    expect(AccountRow.safeParse(row).success).toBe(true);
    expect(AccountRow.safeParse({ ...row, password: 'hunter2' }).success).toBe(false);
  });

  it('are not saved when the form has an empty host or a bad port, and say which field is wrong', async () => {
    const empty = await saveAccount(db, { ...ACCOUNT_FORM, host: '  ' });
    expect(empty).toMatchObject({ ok: false, issues: { host: expect.stringContaining('host name') } });
    for (const port of ['0', '65536', '99999', 'abc', '', '9.5']) {
      const bad = await saveAccount(db, { ...ACCOUNT_FORM, port });
      expect(bad, `port ${port}`).toMatchObject({ ok: false, issues: { port: 'Port must be a whole number from 1 to 65535.' } });
    }
    const withPassword = await saveAccount(db, { ...ACCOUNT_FORM, password: 'hunter2' });
    expect(withPassword.ok).toBe(false);
    expect(await db.accounts.count()).toBe(0);
    expect(await db.jobs.count()).toBe(0);
  });

  it('fill the display name and user name from the address when left empty', async () => {
    const account = await newAccount({ displayName: '' });
    expect(account).toMatchObject({ displayName: 'alice@example.org', username: 'alice@example.org', port: 993 });
  });

  it('turn the form\'s schedule into the relay\'s: every N hours, daily at a time, or off keeping the interval for Enable', () => {
    const parse = (extra: Record<string, unknown>) => AccountInput.parse({ ...ACCOUNT_FORM, ...extra });
    expect(parse({ everyHours: '6' })).toMatchObject({ schedule: { kind: 'every', hours: 6 }, resumeSchedule: { kind: 'every', hours: 6 } });
    expect(parse({ scheduleKind: 'daily', dailyAt: '02:30' })).toMatchObject({ schedule: { kind: 'daily', at: '02:30' }, resumeSchedule: { kind: 'daily', at: '02:30' } });
    expect(parse({ scheduleEnabled: false, everyHours: '6' })).toMatchObject({ schedule: { kind: 'off' }, resumeSchedule: { kind: 'every', hours: 6 } });
    const bad = AccountInput.safeParse({ ...ACCOUNT_FORM, scheduleKind: 'daily', dailyAt: '25:00' });
    expect(bad.success ? null : issuesOf(bad.error)).toEqual({ dailyAt: 'Enter a time such as 02:00.' });
  });

  it('go back to Preparing Backup after an edit that follows an Authentication Error', async () => {
    const account = await newAccount();
    const id = (await backupJobOf(db, account.id))!.id;
    await transitionJob(db, id, 'authentication_error', { errorCode: 'AUTH_FAILED' });
    const edited = await saveAccount(db, { ...ACCOUNT_FORM, host: 'imap2.example.org' }, account.id);
    expect(edited.ok).toBe(true);
    expect((await db.jobs.get(id))?.status).toBe('preparing');
    expect(await db.accounts.count()).toBe(1);
  });

  it('take their jobs, history and prompts with them when removed', async () => {
    const keep = await newAccount({ email: 'keep@example.org' });
    const gone = await newAccount();
    const job = await createJob(db, { kind: 'restore', accountId: gone.id });
    await transitionJob(db, job.id, 'running');
    await addPrompt(db, { accountId: gone.id, jobId: null, topic: 'messages_disappeared', text: '12 messages disappeared' });
    await removeAccount(db, gone.id);
    expect((await db.accounts.toArray()).map((a) => a.id)).toEqual([keep.id]);
    expect(await db.jobs.where('accountId').equals(gone.id).count()).toBe(0);
    expect(await db.jobEvents.where('accountId').equals(gone.id).count()).toBe(0);
    expect(await db.prompts.count()).toBe(0);
  });
});

describe('queries for the pages', () => {
  it('give the popup one entry per account with its backup, the jobs worth showing and open prompts', async () => {
    const a = await newAccount({ displayName: 'B account', email: 'b@example.org' });
    const b = await newAccount({ displayName: 'A account', email: 'a@example.org' });
    const done = await createJob(db, { kind: 'restore', accountId: a.id });
    for (const s of ['running', 'completed']) await transitionJob(db, done.id, s);
    const failing = await createJob(db, { kind: 'migrate', accountId: a.id });
    for (const s of ['running', 'partially_complete']) await transitionJob(db, failing.id, s);
    const queued = await createJob(db, { kind: 'download', accountId: a.id });
    await addPrompt(db, { accountId: a.id, jobId: null, topic: 'messages_disappeared', text: '3 messages disappeared' });
    const overview = await loadOverview(db);
    // "B account" comes first although its name sorts last: its migrate job needs the user.
    expect(overview.map((o) => [o.account.id, o.worst])).toEqual([[a.id, 'warning'], [b.id, 'info']]);
    expect(overview[0]?.backup?.status).toBe('preparing');
    expect(overview[0]?.otherJobs.map((j) => j.id).sort()).toEqual([failing.id, queued.id].sort());
    expect(overview[0]?.prompts).toHaveLength(1);
    expect(overview[1]?.otherJobs).toEqual([]);
  });

  it('list dashboard jobs newest first, filtered by account and status', async () => {
    const a = await newAccount();
    const b = await newAccount({ email: 'b@example.org' });
    const j1 = await createJob(db, { kind: 'download', accountId: a.id, at: 1 });
    const j2 = await createJob(db, { kind: 'download', accountId: b.id, at: 2 });
    const j3 = await createJob(db, { kind: 'download', accountId: a.id, at: 3 });
    await transitionJob(db, j1.id, 'running', { at: 4 });
    expect((await listJobs(db, 'download')).map((j) => j.id)).toEqual([j1.id, j3.id, j2.id]);
    expect((await listJobs(db, 'download', { accountId: a.id })).map((j) => j.id)).toEqual([j1.id, j3.id]);
    expect((await listJobs(db, 'download', { status: 'on_queue' })).map((j) => j.id)).toEqual([j3.id, j2.id]);
    expect(await listJobs(db, 'restore')).toEqual([]);
  });
});

describe('the popup order', () => {
  it('puts accounts that need the user first, then sorts by name', async () => {
    db = freshDb();
    const reply = await (await import('@/lib/background/dev-seed')).seedAccounts(db, [
      { form: { ...ACCOUNT_FORM, displayName: 'A fine', email: 'a@example.org' }, jobs: [{ kind: 'backup', status: 'completed' }] },
      { form: { ...ACCOUNT_FORM, displayName: 'Z broken', email: 'z@example.org' }, jobs: [{ kind: 'backup', status: 'authentication_error' }] },
      { form: { ...ACCOUNT_FORM, displayName: 'M busy', email: 'm@example.org' }, jobs: [{ kind: 'backup', status: 'running' }] },
    ]);
    expect(reply).toHaveLength(3);
    expect((await loadOverview(db)).map((o) => o.account.displayName)).toEqual(['Z broken', 'M busy', 'A fine']);
    // A fine backup with a failing restore still needs the user: it moves up.
    const fine = (await loadOverview(db)).find((o) => o.account.displayName === 'A fine')!;
    const restore = await createJob(db, { kind: 'restore', accountId: fine.account.id });
    for (const s of ['running', 'authentication_error']) await transitionJob(db, restore.id, s);
    const after = await loadOverview(db);
    expect(after.map((o) => [o.account.displayName, o.worst])).toEqual([['A fine', 'error'], ['Z broken', 'error'], ['M busy', 'progress']]);
  });
});

describe('prompts', () => {
  it('queue a restore job when answered Restore, once, and nothing when dismissed', async () => {
    const { addPrompt: add, resolvePrompt } = await import('@/lib/storage/prompts');
    const account = await newAccount();
    const restore = { runId: 4, folder: 'INBOX', messages: 12, bytes: 1200, since: null, at: new Date(0).toISOString() };
    const yes = await add(db, { accountId: account.id, jobId: null, topic: 'messages_disappeared', text: '12 messages disappeared from INBOX. Restore them?', restore });
    const no = await add(db, { accountId: account.id, jobId: null, topic: 'messages_disappeared', text: '3 messages disappeared.' });
    await resolvePrompt(db, yes.id, 'accepted');
    await resolvePrompt(db, yes.id, 'accepted');
    await resolvePrompt(db, no.id, 'dismissed');
    const restores = await db.jobs.where('kind').equals('restore').toArray();
    expect(restores.map((j) => [j.accountId, j.status])).toEqual([[account.id, 'on_queue']]);
    expect((await db.prompts.get(no.id))?.resolution).toBe('dismissed');
    expect((await loadOverview(db))[0]?.prompts).toEqual([]);
  });
});
