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

  it('a key reused for another account or kind is refused with its own code, IDEMPOTENCY_KEY_REUSED', () => {
    const { m } = manager({ backup: async () => undefined, restore: async () => undefined });
    m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-bbbb-1', params: {} });
    expect(() => m.start({ kind: 'restore', accountId: 'acct', idempotencyKey: 'key-bbbb-1', params: {} })).toThrow(expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', message: expect.stringMatching(/another job/) }));
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

  it('refuses unknown accounts, kinds without a runner and accounts without a password, each with its own code', () => {
    const { m } = manager({ backup: async () => undefined });
    expect(() => m.start({ kind: 'backup', accountId: 'nobody', idempotencyKey: 'key-gggg-1', params: {} })).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: expect.stringMatching(/no account/) }));
    expect(() => m.start({ kind: 'migrate', accountId: 'acct', idempotencyKey: 'key-gggg-2', params: { destinationAccountId: 'other' } })).toThrow(
      expect.objectContaining({ code: 'JOB_KIND_UNSUPPORTED', message: expect.stringMatching(/cannot run migrate/) }),
    );
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const bare = new JobManager({ dataDir, runners: { backup: async () => undefined }, accounts: { get: () => ({ account }) } });
    expect(() => bare.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-gggg-3', params: {} })).toThrow(expect.objectContaining({ code: 'PASSWORD_NOT_STORED' }));
    // A download reads the archive only: no password needed.
    const exporting = new JobManager({ dataDir, runners: { download: async () => undefined }, accounts: { get: () => ({ account }) } });
    expect(exporting.start({ kind: 'download', accountId: 'acct', idempotencyKey: 'key-gggg-4', params: { format: 'mbox' } }).created).toBe(true);
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

  it('a job the relay stopped under, left unresumed by a start, is ended by the next start with JOB_INTERRUPTED, not resumed', async () => {
    const first = manager({ backup: untilAborted });
    const { job } = first.m.start({ kind: 'backup', accountId: 'acct', idempotencyKey: 'key-jjjj-1', params: {} });
    await first.m.stop();
    new JobManager({ dataDir: first.dataDir, runners: {}, accounts }); // a start that died before resuming it
    let runs = 0;
    const third = new JobManager({ dataDir: first.dataDir, runners: { backup: async () => void (runs += 1) }, accounts });
    const events: JobEvent[] = [];
    third.subscribe((e) => events.push(e));
    expect(third.resumeInterrupted()).toEqual([]);
    expect(third.get(job.id)).toMatchObject({ phase: 'finished', status: 'connection_error', errorCode: 'JOB_INTERRUPTED' });
    expect(events).toEqual([expect.objectContaining({ event: 'status', jobId: job.id, phase: 'finished', status: 'connection_error', errorCode: 'JOB_INTERRUPTED' })]);
    expect(runs).toBe(0);
  });

  for (const kind of ['restore', 'migrate', 'download'] as const) {
    it(`an interrupted ${kind} is resumed by the relay at start under the same id and key, to its completed status, each status pushed`, async () => {
      const first = manager({ [kind]: untilAborted });
      const params = kind === 'migrate' ? { destinationAccountId: 'acct' } : kind === 'restore' ? { folder: 'INBOX' } : { format: 'mbox' };
      const { job } = first.m.start({ kind, accountId: 'acct', idempotencyKey: `key-${kind}-r1`, params } as never);
      await new Promise((r) => setTimeout(r, 20));
      await first.m.stop();
      let seen: unknown;
      const again = new JobManager({ dataDir: first.dataDir, runners: { [kind]: async (ctx: { params: unknown }) => void (seen = ctx.params) }, accounts });
      const events: JobEvent[] = [];
      again.subscribe((e) => events.push(e));
      expect(again.resumeInterrupted().map((j) => j.id)).toEqual([job.id]);
      expect(await settled(again, job.id)).toMatchObject({ phase: 'finished', status: kind === 'download' ? 'completed_link' : 'completed', idempotencyKey: `key-${kind}-r1` });
      expect(seen).toEqual(params);
      expect(events.filter((e) => e.event === 'status').map((e) => (e as { phase: string }).phase)).toEqual(['queued', 'active', 'finished']);
      await again.stop();
    });
  }

  it('a resumed job the relay is killed under again is ended at the next start (JOB_INTERRUPTED, Failed with its automatic retry by the injected clock), not resumed a third time', async () => {
    const first = manager({ restore: untilAborted });
    const { job } = first.m.start({ kind: 'restore', accountId: 'acct', idempotencyKey: 'key-kill-r1', params: { folder: 'INBOX' } });
    await new Promise((r) => setTimeout(r, 20));
    await first.m.stop();
    const second = new JobManager({ dataDir: first.dataDir, runners: { restore: untilAborted }, accounts });
    expect(second.resumeInterrupted().map((j) => j.id)).toEqual([job.id]);
    await new Promise((r) => setTimeout(r, 20));
    // No stop(): the relay is killed while the resumed run goes on.
    const at = new Date('2031-03-04T05:06:07.000Z');
    let runs = 0;
    const third = new JobManager({ dataDir: first.dataDir, runners: { restore: async () => void (runs += 1) }, accounts, now: () => at, retryDelayMs: () => 60_000 });
    expect(third.resumeInterrupted()).toEqual([]);
    expect(third.get(job.id)).toMatchObject({ phase: 'finished', status: 'failed', errorCode: 'JOB_INTERRUPTED', retryAt: '2031-03-04T05:07:07.000Z' });
    expect(runs).toBe(0);
    void second.stop();
  });

  it('an interrupted job the relay cannot resume is ended with a status of its kind and pushed: account gone, runner gone, no password', async () => {
    const cases = [
      { kind: 'restore', lookup: () => undefined, runners: true, status: 'cancelled', errorCode: 'NOT_FOUND' },
      { kind: 'backup', lookup: () => undefined, runners: true, status: 'deactivated', errorCode: 'NOT_FOUND' },
      { kind: 'migrate', lookup: accounts.get, runners: false, status: 'cancelled', errorCode: 'JOB_KIND_UNSUPPORTED' },
      { kind: 'restore', lookup: () => ({ account }), runners: true, status: 'authentication_error', errorCode: 'PASSWORD_NOT_STORED' },
      { kind: 'backup', lookup: () => ({ account }), runners: true, status: 'authentication_error', errorCode: 'PASSWORD_NOT_STORED' },
    ] as const;
    for (const c of cases) {
      const first = manager({ [c.kind]: untilAborted });
      const params = c.kind === 'migrate' ? { destinationAccountId: 'acct' } : {};
      const { job } = first.m.start({ kind: c.kind, accountId: 'acct', idempotencyKey: `key-${c.kind}-${c.status}-x`, params } as never);
      await new Promise((r) => setTimeout(r, 20));
      await first.m.stop();
      let runs = 0;
      const again = new JobManager({ dataDir: first.dataDir, runners: c.runners ? { [c.kind]: async () => void (runs += 1) } : {}, accounts: { get: c.lookup } });
      const events: JobEvent[] = [];
      again.subscribe((e) => events.push(e));
      const lines: string[] = [];
      expect(again.resumeInterrupted((l) => lines.push(l))).toEqual([]);
      expect(lines).toEqual([`interrupted ${c.kind} job ${job.id} of account acct not resumed: ${c.status}${c.errorCode ? ` (${c.errorCode})` : ''}`]);
      expect(again.get(job.id), `${c.kind} ${c.status}`).toMatchObject({ phase: 'finished', status: c.status, errorCode: c.errorCode, retryAt: null });
      expect(events).toEqual([expect.objectContaining({ jobId: job.id, phase: 'finished', status: c.status })]);
      expect(runs).toBe(0);
      // Persisted: a later start finds it ended, not interrupted.
      expect(new JobManager({ dataDir: first.dataDir, runners: {}, accounts }).get(job.id)).toMatchObject({ phase: 'finished', status: c.status });
    }
  });

  it('an interrupted job whose account already runs a job of its kind is resumed once that run settles', async () => {
    const first = manager({ restore: untilAborted });
    const { job } = first.m.start({ kind: 'restore', accountId: 'acct', idempotencyKey: 'key-busy-r1', params: {} });
    await new Promise((r) => setTimeout(r, 20));
    await first.m.stop();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ran: string[] = [];
    const again = new JobManager({ dataDir: first.dataDir, runners: { restore: async (ctx) => { ran.push(ctx.job.id); if (ctx.job.id !== job.id) await gate; } }, accounts });
    const other = again.start({ kind: 'restore', accountId: 'acct', idempotencyKey: 'key-busy-r2', params: {} }).job;
    expect(again.resumeInterrupted()).toEqual([]);
    expect(again.get(job.id).phase).toBe('interrupted');
    release();
    expect(await settled(again, other.id)).toMatchObject({ status: 'completed' });
    const deadline = Date.now() + 5_000;
    while (again.get(job.id).phase !== 'finished' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(again.get(job.id)).toMatchObject({ phase: 'finished', status: 'completed' });
    expect(ran).toEqual([other.id, job.id]);
    await again.stop();
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
