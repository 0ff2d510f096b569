import { MailkeepError } from '@/lib/protocol/error-codes';
import { QUEUE_STATUS } from '@/lib/status/catalog';
import type { JobKind } from '@/lib/protocol/status-ids';
import type { ImapAccount, JobSnapshot } from '@/lib/protocol/common';
import { DEFAULT_SCHEDULE, type AccountState, type Schedule } from '@/lib/protocol/account-state';
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
  /** Accounts the relay knows but holds no password for (job.start: PASSWORD_NOT_STORED). */
  readonly withoutPassword = new Set<string>();
  /** true: requests are accepted and never answered (a hung or suspended relay). */
  hung = false;
  private seq = 0;

  /** The relay-owned state of each account (issue 11): what state.get and account events report. */
  readonly states = new Map<string, AccountState>();

  /** An account as the relay stores it: settings and schedule; status null until a backup ran. */
  upsert(account: ImapAccount, schedule: Schedule | undefined): AccountState {
    const before = this.states.get(account.id);
    const nextSchedule = schedule ?? before?.schedule ?? DEFAULT_SCHEDULE;
    const next: AccountState = {
      account,
      hasPassword: true,
      schedule: nextSchedule,
      status: statusUnder(nextSchedule, before?.status ?? null),
      nextRunAt: null,
      retryAt: null,
      lastSuccessAt: before?.lastSuccessAt ?? null,
      latestBackup: before?.latestBackup ?? null,
      archive: before?.archive ?? null,
    };
    this.states.set(account.id, next);
    this.accounts.add(account.id);
    return next;
  }

  async call(method: string, params: any): Promise<any> {
    this.calls.push({ method, params });
    if (method === 'state.get') return { relayTime: new Date(0).toISOString(), timeZone: 'UTC', accounts: [...this.states.values()], jobs: [...this.jobs.values()].reverse() };
    if (method === 'schedule.set') {
      const before = this.states.get(params.accountId);
      if (!before) throw new MailkeepError('NOT_FOUND', `no account ${params.accountId}`);
      const account = { ...before, schedule: params.schedule, status: statusUnder(params.schedule, before.status) };
      this.states.set(params.accountId, account);
      return { account };
    }
    if (method === 'account.delete') {
      const deleted = this.states.delete(params.accountId);
      this.accounts.delete(params.accountId);
      return { accountId: params.accountId, deleted };
    }
    if (method === 'job.start') {
      const known = [...this.jobs.values()].find((j) => j.idempotencyKey === params.idempotencyKey);
      if (known && (known.kind !== params.kind || known.accountId !== params.accountId)) throw new MailkeepError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key belongs to another job', { jobId: known.id });
      if (known) return { job: known, created: false };
      if (!this.accounts.has(params.accountId)) throw new MailkeepError('NOT_FOUND', `no account ${params.accountId}`);
      if (this.withoutPassword.has(params.accountId)) throw new MailkeepError('PASSWORD_NOT_STORED', `account ${params.accountId} has no stored password`);
      // As the real relay: two runs of one kind on one account would fight over the same archive.
      const live = [...this.jobs.values()].find((j) => j.accountId === params.accountId && j.kind === params.kind && (j.phase === 'queued' || j.phase === 'active'));
      if (live) throw new MailkeepError('ARCHIVE_LOCKED', `a ${params.kind} of ${params.accountId} is already running`, { jobId: live.id });
      const at = new Date(0).toISOString();
      const job: JobSnapshot = {
        id: `j_${String(++this.seq).padStart(12, '0')}`,
        kind: params.kind,
        accountId: params.accountId,
        idempotencyKey: params.idempotencyKey,
        status: QUEUE_STATUS[params.kind as JobKind],
        phase: 'queued',
        errorCode: null,
        progress: { folder: null, messagesDone: 0, messagesTotal: null, bytes: 0 },
        createdAt: at,
        updatedAt: at,
      };
      this.jobs.set(job.id, job);
      if (job.kind === 'backup') this.backupMoved(job);
      return { job, created: true };
    }
    if (method === 'job.get') {
      const job = this.jobs.get(params.jobId);
      if (!job) throw new MailkeepError('NOT_FOUND', `no job ${params.jobId}`);
      return { job };
    }
    if (method === 'job.cancel') {
      const job = this.jobs.get(params.jobId);
      if (!job) throw new MailkeepError('NOT_FOUND', `no job ${params.jobId}`);
      this.set(job.id, { status: 'cancelled', phase: 'finished', errorCode: 'CANCELLED' });
      return { job: this.jobs.get(job.id) };
    }
    if (method === 'job.retry') {
      // As relay/server/job-manager.ts: the same job runs again, a new attempt (state machine not re-checked here).
      const job = this.jobs.get(params.jobId);
      if (!job) throw new MailkeepError('NOT_FOUND', `no job ${params.jobId}`);
      this.set(job.id, { status: QUEUE_STATUS[job.kind], phase: 'queued', errorCode: null, retryAt: null, attempt: (job.attempt ?? 0) + 1 });
      return { job: this.jobs.get(job.id) };
    }
    if (method === 'job.list') return { jobs: [...this.jobs.values()].reverse() };
    if (method === 'account.list') {
      if (this.hung) return new Promise(() => undefined); // a relay that accepted the socket and stopped answering
      return { accounts: [...this.accounts].map((id) => ({ account: { id, host: 'imap.example.org', port: 993, security: 'tls', user: 'alice' }, hasPassword: true })) };
    }
    throw new MailkeepError('INVALID_INPUT', `fake relay has no ${method}`);
  }

  /** Where account.changed goes (the wire pushes it to every open socket). */
  onAccountChanged: ((event: { event: 'account.changed'; account: AccountState; at: string }) => void) | null = null;

  /** `outcome` must be of the job's own kind (the real relay's runner of that kind makes it). */
  set(jobId: string, patch: Partial<Omit<JobSnapshot, 'kind' | 'outcome'>> & { outcome?: JobOutcome }): void {
    const job = { ...this.jobs.get(jobId)!, ...patch } as JobSnapshot;
    this.jobs.set(jobId, job);
    if (job.kind === 'backup') this.backupMoved(job);
  }

  /** As the real relay: a backup's status is its account's, pushed to every socket as account.changed. */
  private backupMoved(job: JobSnapshot): void {
    const before = this.states.get(job.accountId);
    if (!before) return;
    const account: AccountState = {
      ...before,
      status: job.status as AccountState['status'],
      latestBackup: job,
      lastSuccessAt: job.status === 'completed' ? job.updatedAt : before.lastSuccessAt,
    };
    this.states.set(job.accountId, account);
    this.onAccountChanged?.({ event: 'account.changed', account, at: job.updatedAt });
  }

  starts(): number {
    return this.calls.filter((c) => c.method === 'job.start').length;
  }
}

/** Deactivated while the schedule is off; switched back on, no status until the next run says one. */
function statusUnder(schedule: Schedule, status: AccountState['status']): AccountState['status'] {
  if (schedule.kind === 'off') return 'deactivated';
  return status === 'deactivated' ? null : status;
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
