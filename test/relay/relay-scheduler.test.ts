import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DOOR_LIMITS, SCHEDULE_LIMITS } from '../../lib/limits.ts';
import type { AccountEvent, Schedule } from '../../lib/protocol/account-state.ts';
import type { ImapAccount, JobSnapshot } from '../../lib/protocol/common.ts';
import type { ErrorCode } from '../../lib/protocol/error-codes.ts';
import { CredentialStore } from '../../relay/secrets/credential-store.ts';
import type { JobRunContext } from '../../relay/jobs/job-runner.ts';
import { RelayState } from '../../relay/state/relay-state.ts';
import { STATE_FILE } from '../../relay/state/state-db.ts';
import { FakeTime, settle } from './fake-time.ts';

const HOUR = 3_600_000;
const ACCOUNT: ImapAccount = { id: 'work', host: '127.0.0.1', port: 1, security: 'none', user: 'ada@example.org' };


interface Outcome {
  status: string;
  errorCode?: ErrorCode | null;
}

/** A tiny real backup runner: records each run and ends in the next scripted status (default Completed). */
function scriptedRunner(outcomes: Outcome[] = []) {
  const runs: { key: string; at: number }[] = [];
  let hold: Promise<void> | undefined;
  return {
    runs,
    outcomes,
    holdNext(p: Promise<void>) {
      hold = p;
    },
    runner: async (ctx: JobRunContext<'backup'>) => {
      runs.push({ key: ctx.job.idempotencyKey, at: Date.parse(ctx.job.createdAt) });
      ctx.setStatus('running'); // as the engine does once its session is open
      const h = hold;
      hold = undefined;
      // Like the engine, a held run stops when the job is cancelled or the relay shuts down.
      if (h) await Promise.race([h, new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }))]);
      const o = outcomes.shift() ?? { status: 'completed' };
      return { status: o.status, errorCode: o.errorCode ?? null, outcome: { counts: { messages: 1, bytes: 10, disappeared: 0 } } };
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
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-sched-'));
  dirs.push(d);
  return d;
}

function openState(dataDir: string, time: FakeTime, runner: ReturnType<typeof scriptedRunner>, random = () => 0.5): RelayState {
  const state = new RelayState({
    dataDir,
    credentials: CredentialStore.open(dataDir),
    runners: { backup: runner.runner },
    clock: time.clock,
    monotonic: time.monotonic,
    timers: time.timersApi,
    random,
  });
  states.push(state);
  return state;
}

async function withAccount(time: FakeTime, schedule: Schedule, runner = scriptedRunner(), dataDir = tempDir()) {
  const state = openState(dataDir, time, runner);
  state.start();
  state.upsertAccount(ACCOUNT, 'pw-not-logged', schedule);
  await settle();
  return { state, runner, dataDir };
}

describe("the relay's scheduler", () => {
  it("runs a new account's first backup a minute after it is added, then every N hours from the previous run", async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const { state, runner } = await withAccount(time, { kind: 'every', hours: 6 });
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs - 1_000);
    expect(runner.runs).toHaveLength(0);
    await time.advance(2_000);
    expect(runner.runs).toHaveLength(1);
    expect((await state.accountState('work')).status).toBe('completed');
    await time.advance(6 * HOUR - 2_000);
    expect(runner.runs).toHaveLength(1);
    await time.advance(2_000);
    expect(runner.runs).toHaveLength(2);
    expect(runner.runs[1]!.at - runner.runs[0]!.at).toBe(6 * HOUR);
    const s = await state.accountState('work');
    expect(s.lastSuccessAt).not.toBeNull();
    expect(s.nextRunAt).toBe(new Date(runner.runs[1]!.at + 6 * HOUR).toISOString());
  });

  it('a clock jump over three missed slots (the machine slept) runs ONE backup, after a seeded jitter, then keeps the schedule', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const { state, runner } = await withAccount(time, { kind: 'every', hours: 6 });
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    expect(runner.runs).toHaveLength(1);
    time.sleep(3 * 6 * HOUR + HOUR); // three slots pass while asleep
    await time.advance(SCHEDULE_LIMITS.tickMs); // the first tick after waking notices
    expect(runner.runs).toHaveLength(1);
    const woke = time.wall; // the tick that noticed fired up to a tick before this
    const deferredTo = Date.parse((await state.accountState('work')).nextRunAt!);
    // random() = 0.5: half the maximum jitter after the wake, reported as the next run.
    expect(deferredTo - woke).toBeLessThanOrEqual(SCHEDULE_LIMITS.missedRunJitterMaxMs / 2);
    expect(deferredTo - woke).toBeGreaterThan(SCHEDULE_LIMITS.missedRunJitterMaxMs / 2 - SCHEDULE_LIMITS.tickMs);
    await time.advance(SCHEDULE_LIMITS.missedRunJitterMaxMs);
    expect(runner.runs).toHaveLength(2);
    await time.advance(5 * HOUR);
    expect(runner.runs).toHaveLength(2); // not once per missed slot
    await time.advance(HOUR);
    expect(runner.runs).toHaveLength(3); // 6 h after the catch-up run
    expect(runner.runs[2]!.at - runner.runs[1]!.at).toBe(6 * HOUR);
    expect(runner.runs[1]!.at).toBe(deferredTo);
  });

  it('a late timer without a clock jump starts the due backup at once, without jitter', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const { runner } = await withAccount(time, { kind: 'every', hours: 1 });
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    await time.advance(HOUR);
    expect(runner.runs).toHaveLength(2);
    expect(runner.runs[1]!.at - runner.runs[0]!.at).toBe(HOUR);
  });

  it('a relay started after three missed daily runs (it was down) runs the backup once, soon after it starts', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T00:00:00Z'));
    const dataDir = tempDir();
    const first = await withAccount(time, { kind: 'daily', at: '02:00' }, scriptedRunner(), dataDir);
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    expect(first.runner.runs).toHaveLength(1);
    await first.state.stop();
    states.splice(states.indexOf(first.state), 1);
    time.sleep(3 * 24 * HOUR + 10 * HOUR); // down for three 02:00s
    const again = scriptedRunner();
    const state = openState(dataDir, time, again);
    state.start();
    await settle();
    expect(again.runs).toHaveLength(0);
    await time.advance(SCHEDULE_LIMITS.missedRunJitterMaxMs);
    expect(again.runs).toHaveLength(1);
    await time.advance(12 * HOUR);
    expect(again.runs).toHaveLength(1);
    // The next one is the next 02:00 Berlin time (01:00Z in winter) after the catch-up run.
    expect((await state.accountState('work')).nextRunAt).toMatch(/T01:00:00\.000Z$/);
  });

  it('after Connection Error the relay itself retries "within a few hours", and the retry pays the debt', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const { state, runner } = await withAccount(time, { kind: 'daily', at: '02:00' }, scriptedRunner([{ status: 'connection_error', errorCode: 'CONNECTION_REFUSED' }]));
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    let s = await state.accountState('work');
    expect(s.status).toBe('connection_error');
    const endedAt = time.wall;
    expect(Date.parse(s.retryAt!)).toBeGreaterThanOrEqual(endedAt - 2_000 + SCHEDULE_LIMITS.autoRetryDelayMs);
    await time.advance(SCHEDULE_LIMITS.autoRetryDelayMs - 60_000);
    expect(runner.runs).toHaveLength(1);
    await time.advance(61_000);
    expect(runner.runs).toHaveLength(2);
    expect(runner.runs[1]!.key).toMatch(/^retry-work-/);
    s = await state.accountState('work');
    expect(s).toMatchObject({ status: 'completed', retryAt: null });
    expect(s.lastSuccessAt).not.toBeNull();
  });

  it('Partially Completed also earns the automatic retry; Completed does not', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const { state } = await withAccount(time, { kind: 'every', hours: 24 }, scriptedRunner([{ status: 'partially_completed', errorCode: 'MESSAGE_UNREADABLE' }]));
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    expect((await state.accountState('work')).retryAt).not.toBeNull();
    await time.advance(SCHEDULE_LIMITS.autoRetryDelayMs + 1_000);
    expect((await state.accountState('work'))).toMatchObject({ status: 'completed', retryAt: null });
  });

  it('Authentication Error gets no retry and no scheduled run until the password is changed', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const { state, runner } = await withAccount(time, { kind: 'every', hours: 1 }, scriptedRunner([{ status: 'authentication_error', errorCode: 'AUTH_FAILED' }]));
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    expect(await state.accountState('work')).toMatchObject({ status: 'authentication_error', retryAt: null, nextRunAt: null });
    await time.advance(48 * HOUR);
    expect(runner.runs).toHaveLength(1);
    state.upsertAccount(ACCOUNT, undefined, undefined); // settings only: still blocked
    await time.advance(2 * HOUR);
    expect(runner.runs).toHaveLength(1);
    state.upsertAccount(ACCOUNT, 'the-new-password', undefined);
    await settle();
    expect(runner.runs).toHaveLength(2);
    expect((await state.accountState('work')).status).toBe('completed');
  });

  it('a schedule turned off runs nothing and shows Deactivated; turned on again it counts from then', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const { state, runner } = await withAccount(time, { kind: 'every', hours: 2 });
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    state.setSchedule('work', { kind: 'off' });
    expect(await state.accountState('work')).toMatchObject({ status: 'deactivated', nextRunAt: null, retryAt: null });
    await time.advance(10 * HOUR);
    expect(runner.runs).toHaveLength(1);
    state.setSchedule('work', { kind: 'every', hours: 2 });
    const on = time.wall;
    expect((await state.accountState('work')).nextRunAt).toBe(new Date(on + 2 * HOUR).toISOString());
    await time.advance(2 * HOUR);
    expect(runner.runs).toHaveLength(2);
  });

  it('never starts a second backup of an account while one runs; the slot that passed meanwhile runs once after it', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const runner = scriptedRunner();
    let release: () => void = () => undefined;
    runner.holdNext(new Promise<void>((r) => (release = r)));
    const { state } = await withAccount(time, { kind: 'every', hours: 1 }, runner);
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    expect(runner.runs).toHaveLength(1);
    await time.advance(3 * HOUR); // three slots pass while the first backup still runs
    expect(runner.runs).toHaveLength(1);
    expect((await state.accountState('work')).status).toBe('running');
    release();
    await settle();
    await time.advance(SCHEDULE_LIMITS.tickMs);
    expect(runner.runs).toHaveLength(2);
    await time.advance(HOUR - SCHEDULE_LIMITS.tickMs - 1_000);
    expect(runner.runs).toHaveLength(2);
  });

  it('a backup interrupted by a shutdown and not resumed does not stop the schedule', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const dataDir = tempDir();
    const runner = scriptedRunner();
    runner.holdNext(new Promise<void>(() => undefined)); // never ends by itself: only the shutdown stops it
    const first = await withAccount(time, { kind: 'every', hours: 2 }, runner, dataDir);
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    expect((await first.state.accountState('work')).status).toBe('running');
    await first.state.stop(); // the held run is recorded as interrupted (status still "running")
    states.splice(states.indexOf(first.state), 1);
    const again = scriptedRunner();
    const state = openState(dataDir, time, again);
    state.start();
    expect(state.jobs.list({ limit: 5 })[0]).toMatchObject({ phase: 'interrupted', status: 'running' });
    expect((await state.accountState('work')).status).toBeNull(); // no finished backup yet
    await time.advance(SCHEDULE_LIMITS.missedRunJitterMaxMs + SCHEDULE_LIMITS.firstBackupDelayMs);
    expect(again.runs).toHaveLength(1);
    expect((await state.accountState('work')).status).toBe('completed');
  });

  it('pushes account.changed for every change (schedule, run, retry) and account.removed on delete', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const dataDir = tempDir();
    const runner = scriptedRunner([{ status: 'connection_error', errorCode: 'CONNECTION_REFUSED' }]);
    const state = openState(dataDir, time, runner);
    const events: AccountEvent[] = [];
    state.subscribe((e) => events.push(e));
    state.start();
    state.upsertAccount(ACCOUNT, 'pw', { kind: 'daily', at: '02:00' });
    await settle();
    expect(events.at(-1)).toMatchObject({ event: 'account.changed', account: { schedule: { kind: 'daily', at: '02:00' }, hasPassword: true, status: null } });
    state.setSchedule('work', { kind: 'every', hours: 3 });
    await settle();
    expect(events.at(-1)).toMatchObject({ event: 'account.changed', account: { schedule: { kind: 'every', hours: 3 } } });
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    const statuses = events.flatMap((e) => (e.event === 'account.changed' ? [e.account.status] : []));
    expect(statuses).toContain('running');
    expect(events.at(-1)).toMatchObject({ event: 'account.changed', account: { status: 'connection_error', retryAt: expect.any(String) } });
    expect(JSON.stringify(events)).not.toContain('pw');
    state.deleteAccount('work');
    expect(events.at(-1)).toMatchObject({ event: 'account.removed', accountId: 'work' });
    expect((await state.snapshot()).accounts).toEqual([]);
  });
});

describe("the relay's state database", () => {
  it('keeps the job history, schedules and owed retries across a restart', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const dataDir = tempDir();
    const first = await withAccount(time, { kind: 'every', hours: 4 }, scriptedRunner([{ status: 'connection_error', errorCode: 'CONNECTION_REFUSED' }]), dataDir);
    await time.advance(SCHEDULE_LIMITS.firstBackupDelayMs + 1_000);
    const before = await first.state.snapshot();
    await first.state.stop();
    states.splice(states.indexOf(first.state), 1);
    const again = openState(dataDir, time, scriptedRunner());
    const after = await again.snapshot();
    expect(after.jobs).toEqual(before.jobs);
    // Same state; read by another process, so numbered under another instance (StateRevision).
    const unnumbered = (accounts: typeof before.accounts) => accounts.map(({ revision: _r, ...rest }) => rest);
    expect(unnumbered(after.accounts)).toEqual(unnumbered(before.accounts));
    expect(after.accounts[0]!.revision!.instance).not.toBe(before.accounts[0]!.revision!.instance);
    expect(after.accounts[0]).toMatchObject({ schedule: { kind: 'every', hours: 4 }, status: 'connection_error', retryAt: expect.any(String) });
  });

  it('bounds the job history to DOOR_LIMITS.jobHistoryMax rows: the oldest finished jobs leave the table', async () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const dataDir = tempDir();
    const state = openState(dataDir, time, scriptedRunner());
    state.upsertAccount(ACCOUNT, 'pw', { kind: 'off' });
    const extra = 5;
    for (let i = 0; i < DOOR_LIMITS.jobHistoryMax + extra; i++) {
      time.wall += 1_000; // distinct creation times, oldest first
      state.jobs.start({ kind: 'backup', accountId: 'work', idempotencyKey: `bounded-${i}`, params: {} });
      await settle();
    }
    const keys = (): string[] => state.jobStore.recent(10_000).map((j) => j.idempotencyKey);
    expect(keys()).toHaveLength(DOOR_LIMITS.jobHistoryMax);
    expect(keys()).not.toContain('bounded-0');
    expect(keys()).not.toContain(`bounded-${extra - 1}`);
    expect(keys()[0]).toBe(`bounded-${DOOR_LIMITS.jobHistoryMax + extra - 1}`);
    expect(state.jobs.list({ limit: 10_000 })).toHaveLength(DOOR_LIMITS.jobHistoryMax);
  });

  it("imports an earlier relay's jobs.json once and keeps it as jobs.json.imported", async () => {
    const dataDir = tempDir();
    const job: JobSnapshot = {
      id: 'j_0123456789ab', kind: 'backup', accountId: 'work', idempotencyKey: 'backup-work-2026-11-01',
      status: 'completed', phase: 'finished', errorCode: null,
      progress: { folder: null, messagesDone: 3, messagesTotal: 3, bytes: 300 },
      createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:01:00.000Z',
    };
    fs.writeFileSync(path.join(dataDir, 'jobs.json'), JSON.stringify({ v: 1, jobs: [job], params: {}, resumeOnStart: [] }));
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const state = openState(dataDir, time, scriptedRunner());
    expect(state.jobs.list({ limit: 10 })).toEqual([job]);
    expect(fs.existsSync(path.join(dataDir, 'jobs.json'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'jobs.json.imported'))).toBe(true);
    await state.stop();
    states.splice(states.indexOf(state), 1);
    const again = openState(dataDir, time, scriptedRunner());
    expect(again.jobs.list({ limit: 10 })).toEqual([job]); // from state.sqlite, not imported twice
    // A stored account with a job record: its last success comes from the imported history.
    again.upsertAccount(ACCOUNT, 'pw', undefined);
    expect((await again.accountState('work')).lastSuccessAt).toBe('2026-11-01T00:01:00.000Z');
  });

  it('a damaged state.sqlite, or one from a newer Mailkeep, stops the start with STATE_UNREADABLE and is left as it is', () => {
    const time = new FakeTime(Date.parse('2026-11-20T10:00:00Z'));
    const damaged = tempDir();
    fs.writeFileSync(path.join(damaged, STATE_FILE), 'this is not a database, it is a very long line of text '.repeat(100));
    const bytes = fs.readFileSync(path.join(damaged, STATE_FILE));
    expect(() => openState(damaged, time, scriptedRunner())).toThrow(expect.objectContaining({ code: 'STATE_UNREADABLE' }));
    expect(fs.readFileSync(path.join(damaged, STATE_FILE))).toEqual(bytes);
    const newer = tempDir();
    const db = new Database(path.join(newer, STATE_FILE));
    db.pragma('user_version = 99');
    db.close();
    expect(() => openState(newer, time, scriptedRunner())).toThrow(expect.objectContaining({ code: 'STATE_UNREADABLE', message: expect.stringContaining('newer') }));
  });
});
