import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEDULE_LIMITS } from '../../lib/limits.ts';
import type { ImapAccount, JobEvent } from '../../lib/protocol/common.ts';
import type { JobParams, JobParamsOf } from '../../lib/protocol/job-kinds.ts';
import { mailkeepError, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import { QUEUE_STATUS, statusInfo, statusesOf } from '../../lib/status/catalog.ts';
import type { JobKind } from '../../lib/protocol/status-ids.ts';
import { CredentialStore } from '../../relay/secrets/credential-store.ts';
import type { JobRunContext, JobRunners } from '../../relay/jobs/job-runner.ts';
import { dispatch } from '../../relay/server/dispatcher.ts';
import { RelayState } from '../../relay/state/relay-state.ts';
import { FakeTime, settle } from './fake-time.ts';

const HOUR = 3_600_000;
const DELAY = SCHEDULE_LIMITS.autoRetryDelayMs;
const ACCOUNT: ImapAccount = { id: 'work', host: '127.0.0.1', port: 1, security: 'none', user: 'ada@example.org' };
/** Each kind's own parameters (the relay refuses params that do not fit the kind). */
const PARAMS_OF: { restore: JobParamsOf<'restore'>; download: JobParamsOf<'download'>; migrate: JobParamsOf<'migrate'> } = {
  restore: { folder: 'INBOX' },
  download: { format: 'mbox', folder: 'INBOX' },
  migrate: { destinationAccountId: 'home' },
};
const PARAMS = PARAMS_OF.restore;
const USER_KINDS = ['restore', 'download', 'migrate'] as const;

/** Each run ends in the next scripted step: a status, or an error the manager turns into one. */
type Step = { status: string } | { throw: ErrorCode };

function scriptedRunner(steps: Step[] = []) {
  const runs: { jobId: string; key: string; params: JobParams; attempt: number }[] = [];
  return {
    runs,
    steps,
    runner: async (ctx: JobRunContext) => {
      runs.push({ jobId: ctx.job.id, key: ctx.job.idempotencyKey, params: ctx.params, attempt: ctx.job.attempt ?? 0 });
      ctx.setStatus('running');
      const step = steps.shift() ?? { status: ctx.job.kind === 'download' ? 'completed_link' : 'completed' };
      if ('throw' in step) throw mailkeepError(step.throw, `scripted ${step.throw}`);
      return { status: step.status };
    },
  };
}

const dirs: string[] = [];
const states: RelayState[] = [];
afterEach(async () => {
  for (const s of states.splice(0)) await s.stop().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-retry-'));
  dirs.push(d);
  return d;
}

/** A relay with one account (its backups off: only the runs under test happen) and these runners. */
async function relay(time: FakeTime, runners: JobRunners, dataDir = tempDir(), withAccount = true) {
  const state = new RelayState({ dataDir, credentials: CredentialStore.open(dataDir), runners, clock: time.clock, monotonic: time.monotonic, timers: time.timersApi, random: () => 0.5 });
  states.push(state);
  const events: Extract<JobEvent, { event: 'status' }>[] = [];
  state.jobs.subscribe((e) => void (e.event === 'status' && events.push(e)));
  state.start();
  if (withAccount) state.upsertAccount(ACCOUNT, 'pw-not-logged', { kind: 'off' });
  await settle();
  return { state, events, dataDir };
}

async function stopped(state: RelayState): Promise<void> {
  await state.stop();
  states.splice(states.indexOf(state), 1);
}

/** The statuses a run of this kind can end in (not its queue, running, retrying or a later expiry). */
function endStatuses(kind: JobKind): string[] {
  return statusesOf(kind).filter((s) => s !== QUEUE_STATUS[kind] && s !== 'running' && s !== 'retrying' && s !== 'expired');
}

describe('the relay retries the runs the user started, by itself (browser closed)', () => {
  for (const kind of USER_KINDS) {
    for (const status of endStatuses(kind)) {
      const auto = statusInfo(kind, status).autoRetry;
      it(`a ${kind} that ends ${status} ${auto ? 'runs again by itself after the retry delay, same job, same parameters' : 'is not retried by itself (lib/status: not autoRetry)'}`, async () => {
        const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
        const r = scriptedRunner([{ status }]);
        const { state, events } = await relay(time, { [kind]: r.runner });
        const { job } = state.jobs.start({ kind, accountId: 'work', idempotencyKey: `user-${kind}-0001`, params: PARAMS_OF[kind] } as Parameters<typeof state.jobs.start>[0]);
        await settle();
        const ended = state.jobs.get(job.id);
        expect(ended.status).toBe(status);
        expect(ended.retryAt ?? null).toBe(auto ? new Date(Date.parse(ended.updatedAt) + DELAY).toISOString() : null);
        await time.advance(DELAY - 1_000);
        expect(r.runs).toHaveLength(1);
        await time.advance(2_000 + (auto ? 0 : DELAY));
        if (!auto) {
          expect(r.runs).toHaveLength(1);
          expect(state.jobs.get(job.id).status).toBe(status);
          return;
        }
        expect(r.runs).toHaveLength(2);
        expect(r.runs[1]).toEqual({ jobId: job.id, key: `user-${kind}-0001`, params: PARAMS_OF[kind], attempt: 1 });
        const after = state.jobs.get(job.id);
        expect(after).toMatchObject({ status: kind === 'download' ? 'completed_link' : 'completed', phase: 'finished', attempt: 1, retryAt: null });
        // Through the kind's state machine: Failed -> On Queue -> Running -> Completed.
        const seen = events.filter((e) => e.jobId === job.id).map((e) => e.status);
        expect(seen.filter((s, i) => s !== seen[i - 1])).toEqual(['on_queue', 'running', status, 'on_queue', 'running', after.status]);
      });
    }
  }

  it('a restore whose error has no name of its own (Failed) is retried; one whose server stays down (Connection Error) waits for the user, as its hint says', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const r = scriptedRunner([{ throw: 'UNKNOWN' }, { throw: 'CONNECTION_REFUSED' }]);
    const { state } = await relay(time, { restore: r.runner });
    const { job } = state.jobs.start({ kind: 'restore', accountId: 'work', idempotencyKey: 'user-restore-0002', params: PARAMS });
    await settle();
    expect(state.jobs.get(job.id)).toMatchObject({ status: 'failed', errorCode: 'UNKNOWN' });
    await time.advance(DELAY + 1_000);
    expect(state.jobs.get(job.id)).toMatchObject({ status: 'connection_error', errorCode: 'CONNECTION_REFUSED', retryAt: null, attempt: 1 });
    await time.advance(2 * DELAY);
    expect(r.runs).toHaveLength(2);
  });

  it('job.cancel of a restore waiting for its retry ends it Cancelled, and the retry never runs', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const r = scriptedRunner([{ throw: 'UNKNOWN' }]);
    const { state, events } = await relay(time, { restore: r.runner });
    const { job } = state.jobs.start({ kind: 'restore', accountId: 'work', idempotencyKey: 'user-restore-0003', params: PARAMS });
    await settle();
    expect(state.jobs.get(job.id).retryAt).not.toBeNull();
    const reply = await dispatch({ type: 'request', id: 'c1', method: 'job.cancel', params: { jobId: job.id } }, { jobs: state.jobs, credentials: CredentialStore.open(tempDir()), testConnection: async () => ({}) as never, log: () => undefined, state });
    expect(reply).toMatchObject({ type: 'result', result: { job: { id: job.id, status: 'cancelled', errorCode: 'CANCELLED', retryAt: null } } });
    expect(events.at(-1)).toMatchObject({ jobId: job.id, status: 'cancelled', phase: 'finished' });
    await time.advance(2 * DELAY);
    expect(r.runs).toHaveLength(1);
  });

  it('a retry owed survives a relay restart: the next relay runs it when due, and an overdue one at its start', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const dataDir = tempDir();
    const first = await relay(time, { restore: scriptedRunner([{ throw: 'UNKNOWN' }]).runner }, dataDir);
    const { job } = first.state.jobs.start({ kind: 'restore', accountId: 'work', idempotencyKey: 'user-restore-0004', params: PARAMS });
    await settle();
    const retryAt = first.state.jobs.get(job.id).retryAt!;
    await stopped(first.state);

    const r = scriptedRunner();
    const second = await relay(time, { restore: r.runner }, dataDir, false);
    expect(second.state.jobs.get(job.id)).toMatchObject({ status: 'failed', retryAt });
    await time.advance(Date.parse(retryAt) - time.wall - 1_000);
    expect(r.runs).toHaveLength(0);
    await time.advance(2_000);
    expect(r.runs).toEqual([{ jobId: job.id, key: 'user-restore-0004', params: PARAMS, attempt: 1 }]);

    // The same again, with the relay down when the retry came due (the machine off for a day).
    const third = await relay(time, { restore: scriptedRunner([{ throw: 'UNKNOWN' }]).runner }, tempDir());
    const again = third.state.jobs.start({ kind: 'restore', accountId: 'work', idempotencyKey: 'user-restore-0005', params: PARAMS }).job;
    await settle();
    await stopped(third.state);
    time.sleep(24 * HOUR);
    const late = scriptedRunner();
    const fourth = await relay(time, { restore: late.runner }, third.dataDir, false);
    expect(late.runs.map((x) => x.jobId)).toEqual([again.id]);
    expect(fourth.state.jobs.get(again.id)).toMatchObject({ status: 'completed', attempt: 1, retryAt: null });
  });

  it('job.retry ("Retry now") runs a finished restore again at once through its state machine; a second click while it runs starts nothing more', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    let release: () => void = () => undefined;
    const r = scriptedRunner([{ throw: 'CONNECTION_REFUSED' }]);
    const held = async (ctx: JobRunContext) => {
      if (r.runs.length === 1) await new Promise<void>((res) => (release = res));
      return r.runner(ctx);
    };
    const { state } = await relay(time, { restore: held });
    const { job } = state.jobs.start({ kind: 'restore', accountId: 'work', idempotencyKey: 'user-restore-0006', params: PARAMS });
    await settle();
    expect(state.jobs.get(job.id).status).toBe('connection_error');
    const first = state.retryJob(job.id);
    expect(first).toMatchObject({ id: job.id, status: 'on_queue', phase: 'queued', attempt: 1, errorCode: null });
    await settle();
    expect(state.retryJob(job.id)).toMatchObject({ id: job.id, phase: 'active' });
    release();
    await settle();
    expect(r.runs).toHaveLength(2);
    expect(state.jobs.get(job.id)).toMatchObject({ status: 'completed', attempt: 1 });
  });

  it('job.retry of a Completed restore is refused with ILLEGAL_TRANSITION (the machine has no way back), and of an unknown job with NOT_FOUND', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const r = scriptedRunner();
    const { state } = await relay(time, { restore: r.runner });
    const { job } = state.jobs.start({ kind: 'restore', accountId: 'work', idempotencyKey: 'user-restore-0007', params: PARAMS });
    await settle();
    expect(() => state.retryJob(job.id)).toThrow(expect.objectContaining({ code: 'ILLEGAL_TRANSITION' }));
    expect(() => state.retryJob('j_nosuchjob')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(r.runs).toHaveLength(1);
  });

  it("job.retry of a backup starts one new run of the account's backup under a key derived from the job retried", async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const r = scriptedRunner([{ throw: 'CONNECTION_REFUSED' }]);
    const { state } = await relay(time, { backup: r.runner });
    const { job } = state.jobs.start({ kind: 'backup', accountId: 'work', idempotencyKey: 'user-backup-0008', params: {} });
    await settle();
    expect(state.jobs.get(job.id).status).toBe('connection_error');
    const again = state.retryJob(job.id);
    expect(state.retryJob(job.id).id).toBe(again.id);
    await settle();
    expect(again).toMatchObject({ kind: 'backup', idempotencyKey: `retry-of-${job.id}` });
    expect(r.runs).toHaveLength(2);
    expect(state.jobs.get(again.id).status).toBe('completed');
  });

  it('a retry that comes due while another restore of the account runs waits for it, then runs once', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    let release: () => void = () => undefined;
    const r = scriptedRunner([{ throw: 'UNKNOWN' }]);
    const runner = async (ctx: JobRunContext) => {
      if (ctx.job.idempotencyKey === 'user-restore-long') await new Promise<void>((res) => (release = res));
      return r.runner(ctx);
    };
    const { state } = await relay(time, { restore: runner });
    const { job } = state.jobs.start({ kind: 'restore', accountId: 'work', idempotencyKey: 'user-restore-0009', params: PARAMS });
    await settle();
    await time.advance(DELAY - 60_000);
    const long = state.jobs.start({ kind: 'restore', accountId: 'work', idempotencyKey: 'user-restore-long', params: PARAMS }).job;
    await time.advance(5 * 60_000);
    expect(state.jobs.get(job.id).status).toBe('failed');
    expect(state.jobs.get(job.id).attempt ?? 0).toBe(0);
    release();
    await settle();
    expect(state.jobs.get(long.id).status).toBe('completed');
    expect(state.jobs.get(job.id)).toMatchObject({ status: 'completed', attempt: 1, retryAt: null });
    expect(r.runs.filter((x) => x.jobId === job.id)).toHaveLength(2);
  });

  it('a retry that can never start (the account was deleted) is called off once, its status kept, not tried every minute', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const lines: string[] = [];
    const dataDir = tempDir();
    const state = new RelayState({ dataDir, credentials: CredentialStore.open(dataDir), runners: { restore: scriptedRunner([{ throw: 'UNKNOWN' }]).runner }, clock: time.clock, monotonic: time.monotonic, timers: time.timersApi, log: (l) => lines.push(l) });
    states.push(state);
    state.start();
    state.upsertAccount(ACCOUNT, 'pw-not-logged', { kind: 'off' });
    const { job } = state.jobs.start({ kind: 'restore', accountId: 'work', idempotencyKey: 'user-restore-0010', params: PARAMS });
    await settle();
    state.deleteAccount('work');
    await time.advance(DELAY + 10 * SCHEDULE_LIMITS.tickMs);
    expect(state.jobs.get(job.id)).toMatchObject({ status: 'failed', retryAt: null });
    expect(lines.filter((l) => l.includes(`job ${job.id}: automatic retry`))).toEqual([expect.stringContaining('called off: NOT_FOUND')]);
  });
});
