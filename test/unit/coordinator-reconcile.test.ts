import { beforeEach, describe, expect, it } from 'vitest';
import type { MailkeepDb } from '@/lib/storage/db';
import { backupJobOf, createJob } from '@/lib/storage/jobs';
import { applyRelayEvent, driveRuns, requeueRefused, startAgain } from '@/lib/background/relay-runs';
import { actionsFor } from '@/lib/ui/status-action-list';
import { FakeRelay, storeWithAccountOnRelay } from './helpers/fake-relay';
import { MailkeepError } from '@/lib/protocol/error-codes';
import { rowAdvice } from '@/lib/status/row-advice';

let db: MailkeepDb;
let relay: FakeRelay;
let accountId: string;
let jobId: string;

/**
 * Runs the user starts (restore here; download and migrate the same way, restore-prompts.test.ts)
 * are rows the coordinator drives on the relay. Backups are not: the relay owns their schedule,
 * retries and status, and the mirror only records them (relay-mirror.test.ts).
 */
const job = async () => (await db.jobs.get(jobId))!;
const history = async () => (await db.jobEvents.where('jobId').equals((await job()).id).sortBy('id')).map((e) => e.to);
const at = new Date(0).toISOString();

beforeEach(async () => {
  ({ db, relay, accountId } = await storeWithAccountOnRelay());
  // The seeded account's local backup row stands for a mirrored one: nothing may drive it.
  jobId = (await createJob(db, { kind: 'restore', accountId, params: { folder: 'INBOX' } })).id;
});

describe('the coordinator following relay runs', () => {
  it('writes the idempotency key to the store before job.start and records the relay job it got', async () => {
    let keyWhenSent: string | null | undefined;
    const spy = { call: async (method: string, params: any) => {
      if (method === 'job.start') keyWhenSent = (await job()).runKey;
      return relay.call(method, params);
    } };
    await driveRuns(db, spy as FakeRelay);
    const row = await job();
    expect(keyWhenSent).toBeTruthy();
    expect(relay.calls.find((c) => c.method === 'job.start')?.params).toMatchObject({ idempotencyKey: keyWhenSent, accountId, kind: 'restore' });
    expect(row.relayJobId).toBe([...relay.jobs.keys()][0]);
    expect(row.status).toBe('on_queue');
  });

  it('re-sends the same key after a restart that lost the answer, so the relay has one job, not two', async () => {
    await driveRuns(db, relay);
    const first = await job();
    // The worker died after sending job.start but before storing the relay's answer.
    await db.jobs.put({ ...first, relayJobId: null });
    await driveRuns(db, relay);
    const again = await job();
    expect(relay.jobs.size).toBe(1);
    expect(relay.starts()).toBe(2);
    expect(relay.calls.filter((c) => c.method === 'job.start').map((c) => (c.params as any).idempotencyKey)).toEqual([first.runKey, first.runKey]);
    expect(again.relayJobId).toBe(first.relayJobId);
  });

  it('marks Completed when the relay reports completed while the store still says Running', async () => {
    await driveRuns(db, relay);
    const id = (await job()).relayJobId!;
    await applyRelayEvent(db, { event: 'status', jobId: id, kind: 'restore', status: 'running', phase: 'active', errorCode: null, at });
    expect((await job()).status).toBe('running');
    // The worker sleeps; the relay finishes meanwhile; the worker wakes and reconciles.
    relay.set(id, { status: 'completed', phase: 'finished', progress: { folder: null, messagesDone: 40, messagesTotal: 40, bytes: 1000 } });
    await driveRuns(db, relay);
    const row = await job();
    expect(row.status).toBe('completed');
    expect(row.lastSuccessAt).not.toBeNull();
    expect(row.runKey).toBeNull();
    expect(row.relayJobId).toBe(id); // still followed: only the relay may run it again
    expect(relay.jobs.size).toBe(1);
    expect(await history()).toEqual(['on_queue', 'running', 'completed']);
  });

  it('fills in a missed Running so a job that went straight to Completed keeps a legal history', async () => {
    await driveRuns(db, relay);
    const id = (await job()).relayJobId!;
    relay.set(id, { status: 'completed', phase: 'finished' });
    await driveRuns(db, relay);
    expect(await history()).toEqual(['on_queue', 'running', 'completed']);
  });

  it('shows a run the relay has no record of as unknown to the relay with its last known status, and never starts it by itself', async () => {
    await driveRuns(db, relay, 1_000);
    const first = await job();
    await applyRelayEvent(db, { event: 'status', jobId: first.relayJobId!, kind: 'restore', status: 'running', phase: 'active', errorCode: null, at }, 2_000);
    relay.jobs.clear(); // its state.sqlite was replaced
    await driveRuns(db, relay, 5_000);
    await driveRuns(db, relay, 9_000); // a later pass changes nothing
    const row = await job();
    expect(row).toMatchObject({ status: 'running', relayJobId: first.relayJobId, relayUnknownSince: 5_000, updatedAt: 2_000 });
    expect(relay.starts()).toBe(1);
    expect(relay.jobs.size).toBe(0);
    expect(actionsFor(row)).toEqual(['start-again']);
    expect(await history()).toEqual(['on_queue', 'running']);
  });

  it('"Start again" of a run unknown to the relay queues it through the state machine and the next pass starts it under a new key, once', async () => {
    await driveRuns(db, relay, 1_000);
    const first = await job();
    await applyRelayEvent(db, { event: 'status', jobId: first.relayJobId!, kind: 'restore', status: 'running', phase: 'active', errorCode: null, at }, 2_000);
    relay.jobs.clear();
    await driveRuns(db, relay, 5_000);
    await startAgain(db, jobId, 6_000);
    await driveRuns(db, relay, 7_000);
    await driveRuns(db, relay, 8_000);
    const row = await job();
    expect(row.relayUnknownSince).toBeNull();
    expect(row.runKey).not.toBe(first.runKey);
    expect(row.relayJobId).not.toBe(first.relayJobId);
    expect(relay.jobs.size).toBe(1);
    expect(await history()).toEqual(['on_queue', 'running', 'retrying', 'on_queue']);
    // A row the relay still follows is not "started again" around it.
    await expect(startAgain(db, jobId)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
  });

  it('a pass that read the row before "Start again" does not mark the started-again run unknown to the relay', async () => {
    await driveRuns(db, relay, 1_000);
    const first = await job();
    await applyRelayEvent(db, { event: 'status', jobId: first.relayJobId!, kind: 'restore', status: 'running', phase: 'active', errorCode: null, at }, 2_000);
    relay.jobs.clear();
    await driveRuns(db, relay, 5_000);
    // The user clicks "Start again" while a pass that already read the old row waits for job.list.
    const racing = { call: async (method: string, params: any) => {
      if (method === 'job.list') await startAgain(db, jobId, 6_000);
      return relay.call(method, params);
    } };
    await driveRuns(db, racing as FakeRelay, 6_500);
    expect((await job()).relayUnknownSince ?? null).toBeNull();
    await driveRuns(db, relay, 7_000);
    const row = await job();
    expect(row.relayUnknownSince ?? null).toBeNull();
    expect(row.relayJobId).not.toBe(first.relayJobId);
    expect(actionsFor(row)).not.toContain('start-again');
    expect(relay.jobs.size).toBe(1);
  });

  it('a Completed run the relay trimmed from its bounded history stays Completed and is not marked unknown or started', async () => {
    await driveRuns(db, relay, 1_000);
    const first = await job();
    relay.set(first.relayJobId!, { status: 'completed', phase: 'finished' });
    await driveRuns(db, relay, 2_000);
    relay.jobs.clear();
    await driveRuns(db, relay, 5_000);
    const row = await job();
    expect(row).toMatchObject({ status: 'completed', relayJobId: null });
    expect(row.relayUnknownSince ?? null).toBeNull();
    expect(actionsFor(row)).toEqual([]);
    expect(relay.starts()).toBe(1);
  });

  it('a run the relay lost while it owed an automatic retry (Failed) is marked unknown with Start again, not retried by the extension', async () => {
    await driveRuns(db, relay, 1_000);
    const first = await job();
    relay.set(first.relayJobId!, { status: 'failed', phase: 'finished', errorCode: 'UNKNOWN', retryAt: new Date(9_000_000).toISOString() } as never);
    await driveRuns(db, relay, 2_000);
    relay.jobs.clear();
    await driveRuns(db, relay, 5_000);
    expect(await job()).toMatchObject({ status: 'failed', relayUnknownSince: 5_000 });
    expect(actionsFor(await job())).toEqual(['start-again']);
    expect(relay.starts()).toBe(1);
  });

  it('a run the relay knows again (its data dir came back) is followed again, no longer marked unknown', async () => {
    await driveRuns(db, relay, 1_000);
    const first = await job();
    const saved = new Map(relay.jobs);
    relay.jobs.clear();
    await driveRuns(db, relay, 5_000);
    expect((await job()).relayUnknownSince).toBe(5_000);
    for (const [k, v] of saved) relay.jobs.set(k, v);
    relay.set(first.relayJobId!, { status: 'completed', phase: 'finished' });
    await driveRuns(db, relay, 6_000);
    expect(await job()).toMatchObject({ status: 'completed', relayUnknownSince: null, relayJobId: first.relayJobId });
    expect(relay.starts()).toBe(1);
  });

  it('mirrors a run the relay reports interrupted (it resumes it itself) and does not start it again', async () => {
    await driveRuns(db, relay);
    const first = await job();
    await applyRelayEvent(db, { event: 'status', jobId: first.relayJobId!, kind: 'restore', status: 'running', phase: 'active', errorCode: null, at });
    relay.set(first.relayJobId!, { status: 'running', phase: 'interrupted' });
    await driveRuns(db, relay);
    await applyRelayEvent(db, { event: 'status', jobId: first.relayJobId!, kind: 'restore', status: 'running', phase: 'interrupted', errorCode: null, at });
    const row = await job();
    expect(row).toMatchObject({ status: 'running', runKey: first.runKey, relayJobId: first.relayJobId });
    expect(relay.starts()).toBe(1);
    expect(relay.jobs.size).toBe(1);
    // The relay's next start resumes it under the same id: queued, running, completed are pushed.
    for (const [status, phase] of [['on_queue', 'queued'], ['running', 'active'], ['completed', 'finished']] as const) {
      await applyRelayEvent(db, { event: 'status', jobId: first.relayJobId!, kind: 'restore', status, phase, errorCode: null, at });
    }
    expect((await job()).status).toBe('completed');
    expect(await history()).toEqual(['on_queue', 'running', 'completed']);
    expect(relay.starts()).toBe(1);
  });

  it('mirrors the status the relay ends an interrupted run in when it cannot resume it (no password: Authentication Error)', async () => {
    await driveRuns(db, relay);
    const first = await job();
    await applyRelayEvent(db, { event: 'status', jobId: first.relayJobId!, kind: 'restore', status: 'running', phase: 'interrupted', errorCode: null, at });
    relay.set(first.relayJobId!, { status: 'authentication_error', phase: 'finished' });
    await driveRuns(db, relay);
    expect((await job()).status).toBe('authentication_error');
    expect(relay.starts()).toBe(1);
  });

  it('ignores duplicate and late events: the same status twice writes one event, a late Running never undoes Completed', async () => {
    await driveRuns(db, relay);
    const id = (await job()).relayJobId!;
    const running = { event: 'status', jobId: id, kind: 'restore', status: 'running', phase: 'active', errorCode: null, at } as const;
    await applyRelayEvent(db, running);
    await applyRelayEvent(db, running);
    await applyRelayEvent(db, { ...running, status: 'completed', phase: 'finished' });
    await applyRelayEvent(db, { ...running, status: 'completed', phase: 'finished' });
    await applyRelayEvent(db, running);
    expect((await job()).status).toBe('completed');
    expect(await history()).toEqual(['on_queue', 'running', 'completed']);
  });

  it('applies progress only while the job is running', async () => {
    await driveRuns(db, relay);
    const id = (await job()).relayJobId!;
    const progress = { event: 'progress', jobId: id, progress: { folder: 'INBOX', messagesDone: 5, messagesTotal: null, bytes: 500 }, at } as const;
    await applyRelayEvent(db, progress);
    expect((await job()).progress.messagesDone).toBe(0);
    await applyRelayEvent(db, { event: 'status', jobId: id, kind: 'restore', status: 'running', phase: 'active', errorCode: null, at });
    await applyRelayEvent(db, progress);
    expect((await job()).progress).toMatchObject({ folder: 'INBOX', messagesDone: 5, bytes: 500 });
  });

  it('ends a connection failure in Retrying then Connection Error, keeping the code for the hint', async () => {
    await driveRuns(db, relay, 1_000_000);
    const id = (await job()).relayJobId!;
    await applyRelayEvent(db, { event: 'status', jobId: id, kind: 'restore', status: 'running', phase: 'active', errorCode: null, at }, 1_000_000);
    await applyRelayEvent(db, { event: 'status', jobId: id, kind: 'restore', status: 'connection_error', phase: 'finished', errorCode: 'CONNECTION_REFUSED', at }, 1_000_000);
    const row = await job();
    expect(await history()).toEqual(['on_queue', 'running', 'retrying', 'connection_error']);
    expect(row.lastErrorCode).toBe('CONNECTION_REFUSED');
    expect(row.nextRetryAt).toBeNull(); // Restore's Connection Error waits for the user (its hint says so)
  });

  it('a run the relay refuses to start ends with the cause\'s own status and code (no such account, no stored password, a kind it cannot run; an older relay\'s words too), and Retry now after the fix starts it once', async () => {
    relay.accounts.clear();
    await driveRuns(db, relay);
    expect(await job()).toMatchObject({ status: 'cancelled', lastErrorCode: 'NOT_FOUND', runKey: null });

    relay.accounts.add(accountId);
    relay.withoutPassword.add(accountId);
    jobId = (await createJob(db, { kind: 'restore', accountId, params: { folder: 'INBOX' } })).id;
    await driveRuns(db, relay);
    const noPassword = await job();
    expect(noPassword).toMatchObject({ status: 'authentication_error', lastErrorCode: 'PASSWORD_NOT_STORED', runKey: null });
    // Its words are about the missing password, not the provider's "contact your email provider".
    const advice = rowAdvice({ kind: noPassword.kind, status: noPassword.status, lastErrorCode: noPassword.lastErrorCode, message: null, lastSuccessAt: null, nextRetryAt: null, conditionShown: true }, { now: 0, timeZone: 'UTC' });
    expect(advice.hint).toContain('no password for this account');
    expect(`${advice.hint} ${advice.lastError ?? ''}`).not.toMatch(/provider/i);
    // The user enters the password ("Edit"); Retry now queues the refused restore again and the next pass starts it, once.
    relay.withoutPassword.clear();
    await requeueRefused(db, jobId);
    expect(await job()).toMatchObject({ status: 'on_queue', runKey: null, relayJobId: null });
    await driveRuns(db, relay);
    expect((await job()).relayJobId).toBeTruthy();
    expect([...relay.jobs.values()].filter((j) => j.kind === 'restore')).toHaveLength(1);
    await expect(requeueRefused(db, jobId)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' }); // the relay runs it now

    // A relay older than these codes said INVALID_INPUT with these words.
    relay.withoutPassword.add(accountId);
    const olderNoPassword = { call: async (method: string, params: any) => (method === 'job.start' ? Promise.reject(new MailkeepError('INVALID_INPUT', `account ${accountId} has no stored password`)) : relay.call(method, params)) };
    jobId = (await createJob(db, { kind: 'migrate', accountId, params: { destinationAccountId: accountId } })).id;
    await driveRuns(db, olderNoPassword as FakeRelay);
    expect(await job()).toMatchObject({ status: 'authentication_error', lastErrorCode: 'PASSWORD_NOT_STORED' });
    relay.withoutPassword.clear();
    const older = { call: async (method: string, params: any) => (method === 'job.start' ? Promise.reject(new MailkeepError('JOB_KIND_UNSUPPORTED', 'this relay cannot run restore jobs yet')) : relay.call(method, params)) };
    jobId = (await createJob(db, { kind: 'restore', accountId, params: { folder: 'INBOX' } })).id;
    await driveRuns(db, older as FakeRelay);
    expect(await job()).toMatchObject({ status: 'failed', lastErrorCode: 'JOB_KIND_UNSUPPORTED' });
  });

  it('a key the relay already gave to another job is replaced by a fresh one, and the run starts once', async () => {
    const other = await relay.call('job.start', { kind: 'download', accountId, idempotencyKey: 'taken-key-0001', params: {} });
    await db.jobs.update(jobId, { runKey: 'taken-key-0001' });
    await driveRuns(db, relay);
    const row = await job();
    expect(row).toMatchObject({ status: 'on_queue', relayJobId: null, runKey: null });
    await driveRuns(db, relay);
    const started = await job();
    expect(started.runKey).not.toBe('taken-key-0001');
    expect(started.relayJobId).not.toBe(other.job.id);
    expect([...relay.jobs.values()].filter((j) => j.kind === 'restore')).toHaveLength(1);
  });

  it('never starts, keys or moves a backup row: the relay runs backups on its own schedule', async () => {
    const backup = (await backupJobOf(db, accountId))!;
    expect(backup.status).toBe('preparing'); // a queued-looking row, as an older version left it
    await driveRuns(db, relay);
    await driveRuns(db, relay);
    expect(relay.calls.filter((c) => c.method === 'job.start').map((c) => (c.params as { kind: string }).kind)).toEqual(['restore']);
    expect(await db.jobs.get(backup.id)).toEqual(backup);
  });
});
