import { z } from '../zod.ts';
import { ErrorCode } from '../protocol/error-code-schema.ts';
import { MailkeepError } from '../protocol/error-codes.ts';
import { JobKind } from '../protocol/status-ids.ts';
import { pathTo } from '../status/state-machine.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { saveAccount } from '../storage/accounts.ts';
import { backupJobOf, createJob, transitionJob, updateProgress } from '../storage/jobs.ts';
import { addPrompt } from '../storage/prompts.ts';
import { JobProgress } from '../storage/rows.ts';

/**
 * Test and benchmark seeding. It only calls the store functions the product uses (saveAccount,
 * createJob, transitionJob along a legal path), so a seeded store is one the product could reach.
 */
export const SeedJob = z.strictObject({
  kind: JobKind,
  status: z.string(),
  errorCode: ErrorCode.optional(),
  progress: JobProgress.partial().optional(),
  linkUrl: z.url().optional(),
});
export const SeedAccount = z.strictObject({
  form: z.record(z.string(), z.unknown()),
  jobs: z.array(SeedJob).default([]),
  prompts: z.array(z.string()).default([]),
});
export type SeedAccount = z.input<typeof SeedAccount>;

export async function seedAccounts(db: MailkeepDb, seeds: readonly SeedAccount[]): Promise<string[]> {
  const ids: string[] = [];
  for (const raw of seeds) {
    const seed = SeedAccount.parse(raw);
    const saved = await saveAccount(db, seed.form);
    if (!saved.ok) throw new MailkeepError('INVALID_INPUT', 'seed account is invalid', { issues: saved.issues });
    const accountId = saved.account.id;
    ids.push(accountId);
    for (const spec of seed.jobs) {
      const job = spec.kind === 'backup' ? await backupJobOf(db, accountId) : await createJob(db, { kind: spec.kind, accountId });
      if (!job) throw new MailkeepError('NOT_FOUND', 'account has no backup job');
      const steps = pathTo(spec.kind, job.status, spec.status);
      if (!steps) throw new MailkeepError('ILLEGAL_TRANSITION', `no path to ${spec.kind} ${spec.status}`);
      for (const [i, step] of steps.entries()) {
        const last = i === steps.length - 1;
        await transitionJob(db, job.id, step, last ? { errorCode: spec.errorCode ?? null, linkUrl: spec.linkUrl } : {});
      }
      if (spec.progress) await updateProgress(db, job.id, spec.progress);
    }
    // A seeded prompt names a set as a real one does (run 1, INBOX), so its Restore button works
    // the same way: a dry run on the relay first.
    for (const text of seed.prompts) {
      const restore = { runId: 1, folder: 'INBOX', messages: Number(/^\d+/.exec(text)?.[0] ?? 1) || 1, bytes: 0, since: null, at: new Date().toISOString() };
      await addPrompt(db, { accountId, jobId: null, topic: 'messages_disappeared', text, restore });
    }
  }
  return ids;
}

/**
 * History for the benchmark: full backup runs (preparing -> running -> completed -> preparing),
 * spread over all accounts until about `eventsTotal` events exist; each account ends in the
 * status it had. One transaction per account,
 * so seeding 10,000 events takes seconds, not minutes.
 */
export async function seedBackupHistory(db: MailkeepDb, eventsTotal: number): Promise<number> {
  const accounts = await db.accounts.toArray();
  const perAccount = Math.ceil(eventsTotal / Math.max(accounts.length, 1));
  let events = 0;
  const start = Date.now() - perAccount * 60_000;
  for (const account of accounts) {
    await db.transaction('rw', db.jobs, db.jobEvents, async () => {
      const job = await backupJobOf(db, account.id);
      if (!job) return;
      const original = job.status;
      for (let n = 0; n < perAccount; ) {
        const status = (await db.jobs.get(job.id))?.status ?? job.status;
        for (const step of [...(pathTo('backup', status, 'completed') ?? []), 'preparing']) {
          await transitionJob(db, job.id, step, { at: start + n * 60_000 });
          n += 1;
          events += 1;
        }
      }
      // End where the account was, so the history comes on top of the seeded states.
      for (const step of pathTo('backup', 'preparing', original) ?? []) {
        await transitionJob(db, job.id, step);
        events += 1;
      }
    });
  }
  return events;
}
