import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fixedClock } from '../../lib/clock.ts';
import type { JobSnapshot } from '../../lib/protocol/common.ts';
import { AccountHistoryResult } from '../../lib/protocol/account-history.ts';
import { ArchiveWriter } from '../../relay/archive/archive-writer.ts';
import { archiveDirOf } from '../../relay/jobs/data-dirs.ts';
import { AccountStore } from '../../relay/state/account-store.ts';
import { JobStore } from '../../relay/state/job-store.ts';
import { accountHistory } from '../../relay/state/run-history.ts';
import { openStateDb, type StateDb } from '../../relay/state/state-db.ts';
import { tempDataDir } from './relay-harness.ts';

// account.history joins two records of the same runs; each kind of run one of them lacks, or has
// differently, must come out once and truthfully. (The real backups: account-history-dovecot.test.ts.)

const T0 = Date.parse('2026-11-26T08:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const account = { id: 'acc', host: '127.0.0.1', port: 143, security: 'none' as const, user: 'ada' };
let dataDir: string;
let db: StateDb;
let jobs: JobStore;

function job(n: number, patch: Partial<Extract<JobSnapshot, { kind: 'backup' }>>): JobSnapshot {
  return {
    id: `j_${String(n).padStart(12, '0')}`,
    kind: 'backup',
    accountId: 'acc',
    idempotencyKey: `key-of-job-${n}`,
    status: 'completed',
    phase: 'finished',
    errorCode: null,
    progress: { folder: null, messagesDone: 0, messagesTotal: null, bytes: 0 },
    createdAt: iso(T0 + n * 3_600_000),
    updatedAt: iso(T0 + n * 3_600_000 + 5_000),
    ...patch,
  };
}

/**
 * Archive runs with no mail (their counts are not what is tested here), as a backup leaves them,
 * started at T0 + `hours` (the writer stamps runs with the wall clock: only Date is faked here).
 */
async function archiveRuns(ends: (string | null)[], hours: number[]): Promise<number[]> {
  const w = ArchiveWriter.open(archiveDirOf(dataDir, 'acc'));
  const a = w.ensureAccount(account.host, account.port, account.user);
  const ids: number[] = [];
  vi.useFakeTimers({ toFake: ['Date'] });
  for (const [i, end] of ends.entries()) {
    vi.setSystemTime(T0 + hours[i]! * 3_600_000);
    const id = w.beginRun(a);
    ids.push(id);
    if (end !== null) await w.finishRun(id, end, end === 'completed' ? null : 'CONNECTION_REFUSED');
    else await w.flush();
  }
  vi.useRealTimers();
  await w.close();
  return ids;
}

const history = async (params: { limit?: number; before?: string } = {}) =>
  AccountHistoryResult.parse(await accountHistory({ dataDir, db, clock: fixedClock(T0 + 100 * 3_600_000, 'Europe/Berlin') }, { accountId: 'acc', limit: params.limit ?? 50, ...(params.before ? { before: params.before } : {}) }));

beforeEach(() => {
  dataDir = tempDataDir();
  db = openStateDb(dataDir);
  new AccountStore(db).upsert(account, { now: T0, passwordChanged: false });
  jobs = new JobStore(db);
});
afterEach(() => {
  db.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the run history of an account (account.history)', () => {
  it('an account the relay does not hold is NOT_FOUND; one with no runs has none and no totals', async () => {
    await expect(accountHistory({ dataDir, db, clock: fixedClock(T0) }, { accountId: 'nobody', limit: 10 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await history()).toMatchObject({ totals: null, runs: [], totalRuns: 0, nextBefore: null, lastSuccessAt: null, timeZone: 'Europe/Berlin' });
  });

  it('a run whose login failed never reached the archive: listed once, with its status and code, nothing new', async () => {
    jobs.put(job(1, { status: 'authentication_error', errorCode: 'AUTH_FAILED', outcome: { message: 'the server refused the password' } }), {});
    const h = await history();
    expect(h.runs).toEqual([expect.objectContaining({ key: 'job:j_000000000001', archiveRunId: null, status: 'authentication_error', errorCode: 'AUTH_FAILED', newMessages: 0, disappeared: 0, archiveMessages: 0 })]);
    expect(h.lastSuccessAt).toBeNull();
  });

  it('a job and its archive run are one run; an archive run the job history no longer holds is listed from the archive', async () => {
    const [old, mine] = await archiveRuns(['partially_completed', 'completed'], [1, 2]);
    jobs.put(job(2, { outcome: { counts: { messages: 0, bytes: 0, disappeared: 0, runId: mine! } } }), {});
    const h = await history();
    expect(h.runs.map((r) => [r.key, r.archiveRunId, r.status])).toEqual([
      ['job:j_000000000002', mine, 'completed'],
      [`run:${old}`, old, 'partially_completed'],
    ]);
    expect(h.runs[1]!.errorCode).toBe('CONNECTION_REFUSED');
    expect(h.totals).toEqual({ messages: 0, bytes: 0, folders: 0 });
    expect(h.lastSuccessAt).toBe(iso(T0 + 2 * 3_600_000 + 5_000));
  });

  it('a backup running now claims the archive run it has begun: one run "In Progress", not a second interrupted one', async () => {
    const [open] = await archiveRuns([null], [3]);
    jobs.put(job(3, { status: 'running', phase: 'active' }), {});
    const h = await history();
    expect(h.runs).toEqual([expect.objectContaining({ key: 'job:j_000000000003', archiveRunId: open, status: 'running', finishedAt: null })]);
  });

  it('a run a stopped relay left behind is one run with no status of its own (Interrupted), not "In Progress"', async () => {
    const [open] = await archiveRuns([null], [4.001]);
    jobs.put(job(4, { status: 'running', phase: 'interrupted' }), {});
    const h = await history();
    expect(h.runs.map((r) => [r.key, r.archiveRunId, r.status, r.finishedAt])).toEqual([['job:j_000000000004', open, null, null]]);
  });

  it('an unfinished archive run older than every job that could own it is listed on its own, as Interrupted', async () => {
    const [lost] = await archiveRuns([null], [1]);
    jobs.put(job(4, { status: 'running', phase: 'interrupted' }), {});
    const h = await history();
    expect(h.runs.map((r) => [r.key, r.archiveRunId, r.status])).toEqual([
      ['job:j_000000000004', null, null],
      [`run:${lost}`, lost, null],
    ]);
  });

  it('pages cover every run once, newest first, also when two runs started in the same millisecond', async () => {
    for (let n = 1; n <= 5; n++) jobs.put(job(n, {}), {});
    jobs.put(job(6, { createdAt: iso(T0 + 5 * 3_600_000) }), {}); // same instant as job 5
    const all = await history();
    expect(all.totalRuns).toBe(6);
    const seen: string[] = [];
    let before: string | undefined;
    do {
      const page = await history({ limit: 2, ...(before ? { before } : {}) });
      seen.push(...page.runs.map((r) => r.key));
      before = page.nextBefore ?? undefined;
    } while (before);
    expect(seen).toEqual(all.runs.map((r) => r.key));
    expect(new Set(seen).size).toBe(6);
  });
});
