import { beforeEach, describe, expect, it } from 'vitest';
import Dexie from 'dexie';
import { IDBFactory } from 'fake-indexeddb';
import type { AccountState } from '@/lib/protocol/account-state';
import type { AccountHistoryResult, HistoryRun } from '@/lib/protocol/account-history';
import { mirrorAccount, mirrorAccountRemoved, mirrorHistory, historyBasis } from '@/lib/background/mirror';
import { syncHistories } from '@/lib/background/history-sync';
import { HISTORY_LIMITS } from '@/lib/limits';
import { MailkeepDb } from '@/lib/storage/db';
import { declareVersion1, declareVersion2, declareVersion3, declareVersion4 } from '@/lib/storage/schema-versions';
import { mailkeepError } from '@/lib/protocol/error-codes';
import { freshDb } from './helpers/fresh-db';

// The extension's copy of account.history: written only from the relay's answers, replaced as a
// whole, asked again only when the account's state changed, kept as last known when the relay fails.

const T0 = Date.parse('2026-11-26T13:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
let db: MailkeepDb;

function state(patch: Partial<AccountState> = {}): AccountState {
  return {
    account: { id: 'work', host: 'imap.example.org', port: 993, security: 'tls', user: 'ada@example.org' },
    hasPassword: true,
    schedule: { kind: 'every', hours: 6 },
    status: 'completed',
    nextRunAt: null,
    retryAt: null,
    lastSuccessAt: iso(T0),
    latestBackup: null,
    archive: { messages: 13, bytes: 4096 },
    ...patch,
  };
}

function run(i: number, patch: Partial<HistoryRun> = {}): HistoryRun {
  const at = T0 - i * 3_600_000;
  return {
    key: `job:j_${String(i).padStart(12, '0')}`,
    cursor: `${at}:job:j_${String(i).padStart(12, '0')}`,
    jobId: `j_${String(i).padStart(12, '0')}`,
    archiveRunId: 2000 - i,
    startedAt: iso(at),
    finishedAt: iso(at + 2_000),
    status: 'completed',
    errorCode: null,
    newMessages: 1,
    newBytes: 300,
    disappeared: 0,
    archiveMessages: 2000 - i,
    archiveBytes: (2000 - i) * 300,
    ...patch,
  };
}

function page(runs: HistoryRun[], patch: Partial<AccountHistoryResult> = {}): AccountHistoryResult {
  return { accountId: 'work', relayTime: iso(T0), timeZone: 'Europe/Berlin', totals: { messages: 13, bytes: 4096, folders: 3 }, lastSuccessAt: iso(T0), runs, totalRuns: runs.length, nextBefore: null, ...patch };
}

beforeEach(async () => {
  db = freshDb();
  await mirrorAccount(db, state(), T0);
});

describe('the mirrored history of an account', () => {
  it("keeps the relay's totals and runs, and a later answer replaces the runs: a run the relay no longer lists is not kept", async () => {
    await mirrorHistory(db, [page([run(0), run(1, { status: 'connection_error', errorCode: 'CONNECTION_REFUSED', archiveRunId: null }), run(2)])], 'b1', T0 + 5);
    expect(await db.archiveSummaries.get('work')).toMatchObject({ hasArchive: true, messages: 13, bytes: 4096, folders: 3, lastSuccessAt: T0, totalRuns: 3, fetchedAt: T0 + 5, basis: 'b1' });
    const rows = await db.historyRuns.where('[accountId+startedAt]').between(['work', Dexie.minKey], ['work', Dexie.maxKey]).reverse().toArray();
    expect(rows.map((r) => [r.key, r.status, r.errorCode])).toEqual([
      ['job:j_000000000000', 'completed', null],
      ['job:j_000000000001', 'connection_error', 'CONNECTION_REFUSED'],
      ['job:j_000000000002', 'completed', null],
    ]);
    await mirrorHistory(db, [page([run(0), run(2)])], 'b2', T0 + 6);
    expect((await db.historyRuns.toArray()).map((r) => r.key).sort()).toEqual(['job:j_000000000000', 'job:j_000000000002']);
  });

  it('an account with no archive yet has a summary that says so, with zero totals', async () => {
    await mirrorHistory(db, [page([], { totals: null, lastSuccessAt: null })], 'b', T0);
    expect(await db.archiveSummaries.get('work')).toMatchObject({ hasArchive: false, messages: 0, folders: 0, lastSuccessAt: null, totalRuns: 0 });
  });

  it('keeps at most HISTORY_LIMITS.mirrorRunsPerAccount runs, the newest', async () => {
    const many = Array.from({ length: HISTORY_LIMITS.mirrorRunsPerAccount + 5 }, (_, i) => run(i));
    await mirrorHistory(db, [page(many.slice(0, 600)), page(many.slice(600))], 'b', T0);
    expect(await db.historyRuns.count()).toBe(HISTORY_LIMITS.mirrorRunsPerAccount);
    expect(await db.historyRuns.get(`work/${many[0]!.key}`)).toBeDefined();
    expect(await db.historyRuns.get(`work/${many[many.length - 1]!.key}`)).toBeUndefined();
  });

  it('the history of an account the relay removed goes with it, and a late answer for it is not stored', async () => {
    await mirrorHistory(db, [page([run(0)])], 'b', T0);
    await mirrorAccountRemoved(db, 'work');
    expect(await db.archiveSummaries.count()).toBe(0);
    expect(await db.historyRuns.count()).toBe(0);
    await mirrorHistory(db, [page([run(0)])], 'b', T0);
    expect(await db.archiveSummaries.count()).toBe(0);
  });

  it('syncHistories pages through the history, asks again only when the state changed, and keeps the last history when the relay fails', async () => {
    const calls: unknown[] = [];
    const pages = [page([run(0), run(1)], { nextBefore: run(1).cursor, totalRuns: 3 }), page([run(2)], { totalRuns: 3 })];
    let fail = false;
    const conn = {
      call: (async (method: string, params: { before?: string }) => {
        calls.push([method, params]);
        if (fail) throw mailkeepError('RELAY_UNREACHABLE', 'gone');
        return params.before ? pages[1] : pages[0];
      }) as never,
    };
    await syncHistories(db, conn, [state()], () => T0 + 1);
    expect(calls).toEqual([
      ['account.history', { accountId: 'work', limit: HISTORY_LIMITS.pageMax }],
      ['account.history', { accountId: 'work', limit: HISTORY_LIMITS.pageMax, before: run(1).cursor }],
    ]);
    expect(await db.historyRuns.count()).toBe(3);
    expect((await db.archiveSummaries.get('work'))?.basis).toBe(historyBasis(state()));

    await syncHistories(db, conn, [state()], () => T0 + 2);
    expect(calls).toHaveLength(2); // nothing changed: not asked again

    fail = true;
    const after = state({ lastSuccessAt: iso(T0 + 3_600_000), archive: { messages: 20, bytes: 9000 } });
    await syncHistories(db, conn, [after], () => T0 + 3);
    expect(calls).toHaveLength(3);
    // The relay did not answer: the last history stays, with its own age.
    expect(await db.archiveSummaries.get('work')).toMatchObject({ fetchedAt: T0 + 1, messages: 13 });
    expect(await db.historyRuns.count()).toBe(3);
  });

  it('a history whose refetch failed is marked behind (dated by its own fetch), and the next answer clears the mark', async () => {
    let fail = false;
    const conn = {
      call: (async () => {
        if (fail) throw mailkeepError('RELAY_UNREACHABLE', 'gone');
        return page([run(0)], { totalRuns: 1 });
      }) as never,
    };
    await syncHistories(db, conn, [state()], () => T0 + 1);
    expect((await db.archiveSummaries.get('work'))?.behind).toBeUndefined();
    // Nothing changed: in step with the relay, not marked, though not fetched again.
    fail = true;
    await syncHistories(db, conn, [state()], () => T0 + 2);
    expect((await db.archiveSummaries.get('work'))?.behind).toBeUndefined();
    const after = state({ lastSuccessAt: iso(T0 + 3_600_000), archive: { messages: 20, bytes: 9000 } });
    await syncHistories(db, conn, [after], () => T0 + 3);
    expect(await db.archiveSummaries.get('work')).toMatchObject({ behind: true, fetchedAt: T0 + 1 });
    fail = false;
    await syncHistories(db, conn, [after], () => T0 + 4);
    const back = await db.archiveSummaries.get('work');
    expect(back?.behind).toBeUndefined();
    expect(back?.fetchedAt).toBe(T0 + 4);
  });
});

describe('the Dexie schema upgrade from version 4 to version 5', () => {
  it('adds the history tables empty and keeps every row of version 4', async () => {
    Dexie.dependencies.indexedDB = new IDBFactory();
    const name = 'upgrade-v4-test';
    const v4 = new Dexie(name);
    declareVersion1(v4);
    declareVersion2(v4);
    declareVersion3(v4);
    declareVersion4(v4);
    await v4.open();
    await v4.table('accounts').add({ id: 'a', displayName: 'A', email: 'a@example.org', username: 'a', host: 'h', port: 993, security: 'tls', schedule: { kind: 'off' }, resumeSchedule: { kind: 'every', hours: 24 }, relay: null, createdAt: 1, updatedAt: 1 });
    await v4.table('runs').add({ id: 'j_000000000001', kind: 'backup', accountId: 'a', status: 'completed', phase: 'finished', errorCode: null, startedAt: 1, updatedAt: 2, messages: 3 });
    v4.close();
    const db5 = new MailkeepDb(name);
    await db5.open();
    expect(db5.verno).toBe(5);
    expect(await db5.accounts.count()).toBe(1);
    expect(await db5.runs.count()).toBe(1);
    expect(await db5.archiveSummaries.count()).toBe(0);
    expect(await db5.historyRuns.count()).toBe(0);
    db5.close();
  });
});
