import { beforeEach, describe, expect, it } from 'vitest';
import type { MailkeepDb } from '@/lib/storage/db';
import { saveAccount } from '@/lib/storage/accounts';
import { getSetting } from '@/lib/storage/settings';
import { loadOverview } from '@/lib/storage/queries';
import { noteRelayOnlyEvent, refreshRelayOnlyJobs } from '@/lib/background/relay-only-jobs';
import { MailkeepError } from '@/lib/protocol/error-codes';
import { ACCOUNT_FORM, freshDb } from './helpers/fresh-db';
import { FakeRelay } from './helpers/fake-relay';

let db: MailkeepDb;
let relay: FakeRelay;
let accountId: string;
const at = new Date(0).toISOString();
const progress = (done: number) => ({ folder: 'INBOX', messagesDone: done, messagesTotal: 10, bytes: done * 100 });

beforeEach(async () => {
  db = freshDb();
  relay = new FakeRelay();
  const saved = await saveAccount(db, ACCOUNT_FORM);
  if (!saved.ok) throw new Error('seed failed');
  accountId = saved.account.id;
  relay.accounts.add(accountId);
});

/** What a page does: job.start on the relay itself, no row in the store. */
let keys = 0;
async function startedByPage(kind: 'migrate' | 'restore'): Promise<string> {
  const { job } = await relay.call('job.start', { kind, accountId, idempotencyKey: `${kind}-page-key-${++keys}`, params: {} });
  relay.set(job.id, { status: 'running', phase: 'active' });
  return job.id;
}

describe('relay jobs a page started, shown in the popup while they run', () => {
  it('a migration appears on its account card at its first event, follows its progress and goes when it ends', async () => {
    const id = await startedByPage('migrate');
    await noteRelayOnlyEvent(db, relay, { event: 'status', jobId: id, kind: 'migrate', status: 'running', phase: 'active', errorCode: null, at });
    await noteRelayOnlyEvent(db, relay, { event: 'progress', jobId: id, progress: progress(4), at });
    const [card] = await loadOverview(db);
    expect(card!.relayJobs).toMatchObject([{ id, kind: 'migrate', status: 'running', progress: progress(4) }]);
    expect(relay.calls.filter((c) => c.method === 'job.get')).toHaveLength(1); // looked up once
    await noteRelayOnlyEvent(db, relay, { event: 'status', jobId: id, kind: 'migrate', status: 'completed', phase: 'finished', errorCode: null, at });
    expect((await loadOverview(db))[0]!.relayJobs).toEqual([]);
  });

  it('leaves restore dry runs alone (they are the confirmation\'s, over in a moment)', async () => {
    const id = await startedByPage('restore');
    await noteRelayOnlyEvent(db, relay, { event: 'status', jobId: id, kind: 'restore', status: 'running', phase: 'active', errorCode: null, at });
    await noteRelayOnlyEvent(db, relay, { event: 'progress', jobId: id, progress: progress(1), at });
    expect(await getSetting(db, 'relayOnlyJobs')).toEqual([]);
  });

  it('a pass drops a job whose end the worker slept through, and keeps one the relay could not answer for', async () => {
    const done = await startedByPage('migrate');
    await noteRelayOnlyEvent(db, relay, { event: 'progress', jobId: done, progress: progress(2), at });
    relay.set(done, { status: 'completed', phase: 'finished' });
    await refreshRelayOnlyJobs(db, relay);
    expect(await getSetting(db, 'relayOnlyJobs')).toEqual([]);

    const busy = await startedByPage('migrate');
    expect(busy).not.toBe(done);
    await noteRelayOnlyEvent(db, relay, { event: 'progress', jobId: busy, progress: progress(3), at });
    const flaky = { call: async () => { throw new MailkeepError('CONNECTION_TIMEOUT', 'busy'); } } as unknown as FakeRelay;
    await refreshRelayOnlyJobs(db, flaky);
    expect((await getSetting(db, 'relayOnlyJobs')).map((j) => j.id)).toEqual([busy]);
  });
});
