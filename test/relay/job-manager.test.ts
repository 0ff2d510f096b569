import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { JobEvent, ImapAccount } from '../../lib/protocol/common.ts';
import type { JobRunner } from '../../relay/jobs/job-runner.ts';
import { JobManager } from '../../relay/server/job-manager.ts';
import { openStateDb } from '../../relay/state/state-db.ts';
import { tempDataDir } from './relay-harness.ts';

const account: ImapAccount = { id: 'acct', host: '127.0.0.1', port: 1, security: 'none', user: 'ada' };
const accounts = { get: (id: string) => (id === 'acct' ? { account, password: 'pw' } : undefined) };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function manager(runners: Record<string, JobRunner>, dataDir = tempDataDir()) {
  dirs.push(dataDir);
  const events: JobEvent[] = [];
  const m = new JobManager({ dataDir, runners, accounts });
  m.subscribe((e) => events.push(e));
  return { m, events, dataDir };
}

/** Waits (bounded) until the job leaves queued/active. */
async function settled(m: JobManager, jobId: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = m.get(jobId);
    if (job.phase === 'finished' || job.phase === 'interrupted') return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.phase}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A runner that stays active until its signal aborts, like a long backup. */
const untilAborted: JobRunner = (ctx) =>
  new Promise((_, reject) => {
    ctx.setStatus('running');
    if (ctx.signal.aborted) reject(mailkeepError('CANCELLED', 'stopped'));
    ctx.signal.addEventListener('abort', () => reject(mailkeepError('CANCELLED', 'stopped')), { once: true });
  });

describe('job manager', () => {
  it('the same idempotency key returns the same job and runs it once', async () => {
    let runs = 0;
    const { m } = manager({ backup: async () => void (runs += 1) });
    const a = m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-aaaa-1', params: {} });
    const b = m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-aaaa-1', params: {} });
    expect(a.created).toBe(true);
    expect(b).toMatchObject({ created: false, job: { id: a.job.id } });
    expect((await settled(m, a.job.id)).status).toBe('completed');
    expect(m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-aaaa-1', params: {} }).created).toBe(false);
    expect(runs).toBe(1);
    expect(m.list({ limit: 10 })).toHaveLength(1);
  });

  it('a key reused for another account or kind is refused', () => {
    const { m } = manager({ backup: async () => undefined, restore: async () => undefined });
    m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-bbbb-1', params: {} });
    expect(() => m.start({ kind: 'restore', accountId: 'acct', idempotencyKey: 'key-bbbb-1', params: {} })).toThrow(/another job/);
  });

  it('emits status changes and progress in order, ending with the runner outcome', async () => {
    const { m, events } = manager({
      backup: async (ctx) => {
        ctx.setStatus('running');
        ctx.reportProgress({ folder: 'INBOX', messagesDone: 3, bytes: 300 });
        return { status: 'partially_completed', errorCode: 'MESSAGE_UNREADABLE' };
      },
    });
    const { job } = m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-cccc-1', params: {} });
    const done = await settled(m, job.id);
    expect(done).toMatchObject({ status: 'partially_completed', errorCode: 'MESSAGE_UNREADABLE', progress: { folder: 'INBOX', messagesDone: 3 } });
    const statuses = events.filter((e) => e.event === 'status').map((e) => (e.event === 'status' ? `${e.status}/${e.phase}` : ''));
    expect(statuses).toEqual(['preparing/active', 'running/active', 'partially_completed/finished']);
    expect(events.some((e) => e.event === 'progress' && e.progress.bytes === 300)).toBe(true);
  });

  it('a thrown AUTH_FAILED ends a backup in authentication_error with the code kept', async () => {
    const { m } = manager({
      backup: async () => {
        throw mailkeepError('AUTH_FAILED', 'no');
      },
    });
    const { job } = m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-dddd-1', params: {} });
    expect(await settled(m, job.id)).toMatchObject({ status: 'authentication_error', errorCode: 'AUTH_FAILED', phase: 'finished' });
  });

  it('a cancelled backup ends partially_completed with CANCELLED', async () => {
    const { m } = manager({ backup: untilAborted });
    const { job } = m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-eeee-1', params: {} });
    await new Promise((r) => setTimeout(r, 20));
    expect(await m.cancel(job.id)).toMatchObject({ status: 'partially_completed', errorCode: 'CANCELLED', phase: 'finished' });
  });

  it('refuses a second running job of the same kind on one account', async () => {
    const { m } = manager({ backup: untilAborted });
    const { job } = m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-ffff-1', params: {} });
    expect(() => m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-ffff-2', params: {} })).toThrow(/already running/);
    // Cancelled before its runner began: it must not wait for a signal the runner never saw (the
    // runner never ends by itself, so a wait for it fails this test on its timeout).
    expect(await m.cancel(job.id)).toMatchObject({ phase: 'finished', errorCode: 'CANCELLED' });
  });

  it('refuses unknown accounts and kinds without a runner', () => {
    const { m } = manager({ backup: async () => undefined });
    expect(() => m.start({ kind: 'backup', accountId: 'nobody', idempotencyKey: 'key-gggg-1', params: {} })).toThrow(/no account/);
    expect(() => m.start({ kind: 'migrate', accountId: 'acct', idempotencyKey: 'key-gggg-2', params: { destinationAccountId: 'other' } })).toThrow(/cannot run migrate/);
  });

  it('a job running at shutdown is reported interrupted after a restart, and its key still maps to it', async () => {
    const first = manager({ backup: untilAborted });
    const { job } = first.m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-hhhh-1', params: {} });
    await new Promise((r) => setTimeout(r, 20));
    await first.m.stop();
    expect(first.m.get(job.id).phase).toBe('interrupted');
    let resumedRuns = 0;
    const again = new JobManager({ dataDir: first.dataDir, runners: { backup: async () => void (resumedRuns += 1) }, accounts });
    expect(again.get(job.id)).toMatchObject({ phase: 'interrupted', status: 'running' });
    expect(again.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-hhhh-1', params: {} })).toMatchObject({ created: false });
    // The next start resumes it under the same id; the engine continues from its checkpoints.
    expect(again.resumeInterrupted().map((j) => j.id)).toEqual([job.id]);
    expect(await settled(again, job.id)).toMatchObject({ status: 'completed', phase: 'finished' });
    expect(resumedRuns).toBe(1);
    expect(again.resumeInterrupted()).toEqual([]);
    expect(again.list({ limit: 10 })).toHaveLength(1);
  });

  it('a resumed job whose stored params no longer fit its kind fails with INVALID_INPUT instead of running without them', async () => {
    const first = manager({ restore: untilAborted });
    const { job } = first.m.start({ kind: 'restore', accountId: 'acct', idempotencyKey: 'key-pppp-1', params: { folder: 'INBOX' } });
    await new Promise((r) => setTimeout(r, 20));
    await first.m.stop();
    // A restore with no filter would restore everything: params of another kind must not become "none".
    const db = openStateDb(first.dataDir);
    db.prepare('UPDATE jobs SET params = ? WHERE id = ?').run(JSON.stringify(['INBOX']), job.id);
    db.close();
    let runs = 0;
    const again = new JobManager({ dataDir: first.dataDir, runners: { restore: async () => void (runs += 1) }, accounts });
    expect(again.resumeInterrupted().map((j) => j.id)).toEqual([job.id]);
    expect(await settled(again, job.id)).toMatchObject({ phase: 'finished', status: 'failed', errorCode: 'INVALID_INPUT' });
    expect(runs).toBe(0);
    await again.stop();
  });

  it('a damaged jobs.json (not JSON, or not a job list) stops the relay with JOBS_FILE_UNREADABLE naming the file, and is left as it is', () => {
    for (const bad of ['{"jobs": [', '{"jobs": 5}']) {
      const dataDir = tempDataDir();
      dirs.push(dataDir);
      const file = `${dataDir}/jobs.json`;
      fs.writeFileSync(file, bad);
      expect(() => new JobManager({ dataDir, runners: {}, accounts })).toThrow(expect.objectContaining({ code: 'JOBS_FILE_UNREADABLE', message: expect.stringContaining(file) }));
      expect(fs.readFileSync(file, 'utf8')).toBe(bad);
    }
  });

  it('a job interrupted by an earlier restart is not resumed again by a later one', async () => {
    const first = manager({ backup: untilAborted });
    const { job } = first.m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-jjjj-1', params: {} });
    await first.m.stop();
    new JobManager({ dataDir: first.dataDir, runners: {}, accounts }); // a start that could not resume it
    const third = new JobManager({ dataDir: first.dataDir, runners: { backup: async () => undefined }, accounts });
    expect(third.resumeInterrupted()).toEqual([]);
    expect(third.get(job.id).phase).toBe('interrupted');
  });

  it('a job that was active when the relay was killed comes back interrupted', () => {
    const { m, dataDir } = manager({ backup: untilAborted });
    const { job } = m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-iiii-1', params: {} });
    // No stop(): like SIGKILL. jobs.json still says queued/active.
    const reopened = new JobManager({ dataDir, runners: {}, accounts });
    expect(reopened.get(job.id).phase).toBe('interrupted');
    void m.stop();
  });
});
