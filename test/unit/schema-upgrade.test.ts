import { describe, expect, it } from 'vitest';
import Dexie from 'dexie';
import { IDBFactory } from 'fake-indexeddb';
import { MailkeepDb } from '@/lib/storage/db';
import { AccountRow, JobEventRow, JobRow } from '@/lib/storage/rows';
import { declareVersion1, declareVersion2, declareVersion3, type V1Account, type V1Job, type V1JobEvent } from '@/lib/storage/schema-versions';
import { transitionJob } from '@/lib/storage/jobs';

describe('the Dexie schema upgrade from version 1', () => {
  it('keeps every account, job and event and converts them to the current shape', async () => {
    Dexie.dependencies.indexedDB = new IDBFactory();
    const name = 'upgrade-test';
    const v1 = new Dexie(name);
    declareVersion1(v1);
    const accounts: V1Account[] = [
      { id: 'a1', displayName: 'Work', email: 'w@example.org', username: 'w', host: 'imap.example.org', port: 993, security: 'tls', intervalHours: 12, createdAt: 1, updatedAt: 2 },
      { id: 'a2', displayName: 'Old', email: 'o@example.org', username: 'o', host: 'mail.example.org', port: 143, security: 'starttls', intervalHours: 0, createdAt: 1, updatedAt: 2 },
    ];
    const progress = { messagesDone: 40, messagesTotal: 40, bytes: 123_456, folder: 'INBOX' };
    const jobs: V1Job[] = [
      { id: 'j1', kind: 'backup', accountId: 'a1', status: 'completed', progress, createdAt: 5, updatedAt: 9, error: null },
      { id: 'j2', kind: 'backup', accountId: 'a2', status: 'connection_error', progress, createdAt: 5, updatedAt: 8, error: 'CONNECTION_REFUSED' },
      { id: 'j3', kind: 'restore', accountId: 'a1', status: 'failed', progress, createdAt: 6, updatedAt: 7, error: 'socket hang up' },
    ];
    const events: V1JobEvent[] = [
      { jobId: 'j1', from: null, to: 'preparing', at: 5 },
      { jobId: 'j1', from: 'preparing', to: 'running', at: 6 },
      { jobId: 'j1', from: 'running', to: 'completed', at: 9 },
      { jobId: 'j3', from: null, to: 'on_queue', at: 6 },
    ];
    await v1.table('accounts').bulkAdd(accounts);
    await v1.table('jobs').bulkAdd(jobs);
    await v1.table('jobEvents').bulkAdd(events);
    await v1.table('settings').put({ key: 'restorePrompts', value: 'any' });
    v1.close();

    const db = new MailkeepDb(name);
    await db.open();
    expect(db.verno).toBe(5); // on through version 5 (history tables, nothing converted)

    const a = await db.accounts.orderBy('id').toArray();
    expect(a.map((x) => AccountRow.parse(x))).toHaveLength(2);
    // ...and on through version 4: the relay's Schedule, with the interval kept for "Enable".
    expect(a[0]).toMatchObject({ id: 'a1', host: 'imap.example.org', schedule: { kind: 'every', hours: 12 }, resumeSchedule: { kind: 'every', hours: 12 }, relay: null });
    expect(a[1]).toMatchObject({ id: 'a2', port: 143, schedule: { kind: 'off' }, resumeSchedule: { kind: 'every', hours: 24 }, relay: null });
    expect(a[0]).not.toHaveProperty('intervalHours');

    const j = await db.jobs.orderBy('id').toArray();
    expect(j.map((x) => JobRow.parse(x))).toHaveLength(3);
    expect(j[0]).toMatchObject({ id: 'j1', status: 'completed', progress, lastSuccessAt: 9, attempt: 0, lastErrorCode: null });
    expect(j[1]).toMatchObject({ id: 'j2', lastErrorCode: 'CONNECTION_REFUSED', lastSuccessAt: null });
    expect(j[2]).toMatchObject({ id: 'j3', lastErrorCode: 'UNKNOWN' });
    expect(j[0]).not.toHaveProperty('error');
    // ...and on through version 3: a backup needs no parameters, an old restore's are unknown.
    expect(j.map((x) => [x.id, x.params, x.outcome])).toEqual([['j1', {}, null], ['j2', {}, null], ['j3', null, null]]);

    const e = await db.jobEvents.orderBy('id').toArray();
    expect(e.map((x) => JobEventRow.parse(x))).toHaveLength(4);
    expect(e.map((x) => [x.jobId, x.accountId, x.kind, x.to])).toEqual([
      ['j1', 'a1', 'backup', 'preparing'],
      ['j1', 'a1', 'backup', 'running'],
      ['j1', 'a1', 'backup', 'completed'],
      ['j3', 'a1', 'restore', 'on_queue'],
    ]);
    expect(await db.settings.get('restorePrompts')).toEqual({ key: 'restorePrompts', value: 'any' });

    // The upgraded rows are usable: the new compound index finds them and the machine moves them on.
    expect((await db.jobs.where('[accountId+kind]').equals(['a2', 'backup']).first())?.id).toBe('j2');
    await transitionJob(db, 'j2', 'preparing');
    expect(await db.prompts.count()).toBe(0);
    db.close();
  });
});

describe('the Dexie schema upgrade from version 3 to version 4', () => {
  it('turns each schedule into the relay\'s Schedule, keeps the interval of a disabled one for Enable, and loses no row', async () => {
    Dexie.dependencies.indexedDB = new IDBFactory();
    const name = 'upgrade-v3-test';
    const v3 = new Dexie(name);
    declareVersion1(v3);
    declareVersion2(v3);
    declareVersion3(v3);
    await v3.open();
    const base = { email: 'w@example.org', username: 'w', host: 'imap.example.org', port: 993, security: 'tls', createdAt: 1, updatedAt: 2 };
    await v3.table('accounts').bulkAdd([
      { ...base, id: 'on', displayName: 'On', schedule: { enabled: true, everyHours: 6 } },
      { ...base, id: 'off', displayName: 'Off', schedule: { enabled: false, everyHours: 48 } },
    ]);
    const job = { kind: 'backup', status: 'completed', progress: { messagesDone: 1, messagesTotal: 1, bytes: 1, folder: null }, createdAt: 1, updatedAt: 2, startedAt: 1, finishedAt: 2, lastSuccessAt: 2, attempt: 0, nextRetryAt: null, lastErrorCode: null, linkUrl: null, params: {}, outcome: null };
    await v3.table('jobs').bulkAdd([{ ...job, id: 'j-on', accountId: 'on', relayJobId: 'j_000000000009' }, { ...job, id: 'j-off', accountId: 'off', status: 'deactivated' }]);
    v3.close();

    const db = new MailkeepDb(name);
    await db.open();
    expect(db.verno).toBe(5); // on through version 5 (history tables, nothing converted)
    const accounts = await db.accounts.orderBy('id').toArray();
    expect(accounts.map((a) => AccountRow.parse(a))).toHaveLength(2);
    expect(accounts.map((a) => [a.id, a.schedule, a.resumeSchedule, a.relay])).toEqual([
      ['off', { kind: 'off' }, { kind: 'every', hours: 48 }, null],
      ['on', { kind: 'every', hours: 6 }, { kind: 'every', hours: 6 }, null],
    ]);
    expect((await db.jobs.toArray()).map((j) => JobRow.parse(j))).toHaveLength(2);
    // The new index finds the row a relay event is about.
    expect((await db.jobs.where('relayJobId').equals('j_000000000009').first())?.id).toBe('j-on');
    // The relay's job history starts empty; the next state.get fills it.
    expect(await db.runs.count()).toBe(0);
    db.close();
  });
});
