import { MailkeepError } from '@/lib/protocol/error-codes';
import type { JobSnapshot } from '@/lib/protocol/common';
import type { JobOutcome } from '@/lib/protocol/job-outcome';
import type { RelayCaller } from '@/lib/background/relay-runs';
import { saveAccount } from '@/lib/storage/accounts';
import type { MailkeepDb } from '@/lib/storage/db';
import { ACCOUNT_FORM, freshDb } from './fresh-db';

/**
 * An in-memory relay with the job semantics of relay/server/job-manager.ts that the coordinator
 * relies on: one job per idempotency key (created: false on a repeat), job.get NOT_FOUND for an
 * unknown id, job.list newest first. Tests move its jobs by hand with `set`.
 */
export class FakeRelay implements RelayCaller {
  readonly jobs = new Map<string, JobSnapshot>();
  readonly calls: { method: string; params: unknown }[] = [];
  accounts = new Set<string>();
  private seq = 0;

  async call(method: string, params: any): Promise<any> {
    this.calls.push({ method, params });
    if (method === 'job.start') {
      const known = [...this.jobs.values()].find((j) => j.idempotencyKey === params.idempotencyKey);
      if (known) return { job: known, created: false };
      if (!this.accounts.has(params.accountId)) throw new MailkeepError('NOT_FOUND', `no account ${params.accountId}`);
      const at = new Date(0).toISOString();
      const job: JobSnapshot = {
        id: `j_${String(++this.seq).padStart(12, '0')}`,
        kind: params.kind,
        accountId: params.accountId,
        idempotencyKey: params.idempotencyKey,
        status: 'preparing',
        phase: 'queued',
        errorCode: null,
        progress: { folder: null, messagesDone: 0, messagesTotal: null, bytes: 0 },
        createdAt: at,
        updatedAt: at,
      };
      this.jobs.set(job.id, job);
      return { job, created: true };
    }
    if (method === 'job.get') {
      const job = this.jobs.get(params.jobId);
      if (!job) throw new MailkeepError('NOT_FOUND', `no job ${params.jobId}`);
      return { job };
    }
    if (method === 'job.list') return { jobs: [...this.jobs.values()].reverse() };
    throw new MailkeepError('INVALID_INPUT', `fake relay has no ${method}`);
  }

  /** `outcome` must be of the job's own kind (the real relay's runner of that kind makes it). */
  set(jobId: string, patch: Partial<Omit<JobSnapshot, 'kind' | 'outcome'>> & { outcome?: JobOutcome }): void {
    this.jobs.set(jobId, { ...this.jobs.get(jobId)!, ...patch } as JobSnapshot);
  }

  starts(): number {
    return this.calls.filter((c) => c.method === 'job.start').length;
  }
}

/**
 * The usual start of a coordinator test: a fresh store holding one saved account (ACCOUNT_FORM)
 * and a fake relay that holds that account's password.
 */
export async function storeWithAccountOnRelay(): Promise<{ db: MailkeepDb; relay: FakeRelay; accountId: string }> {
  const db = freshDb();
  const relay = new FakeRelay();
  const saved = await saveAccount(db, ACCOUNT_FORM);
  if (!saved.ok) throw new Error('seed failed');
  relay.accounts.add(saved.account.id);
  return { db, relay, accountId: saved.account.id };
}
