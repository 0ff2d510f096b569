import { beforeEach, describe, expect, it } from 'vitest';
import type { MailkeepDb } from '@/lib/storage/db';
import { createJob } from '@/lib/storage/jobs';
import { EXTENSION_LIMITS } from '@/lib/limits';
import { applyRelayEvent, driveRuns } from '@/lib/background/relay-runs';
import { retryNow } from '@/lib/background/retry-due';
import { actionsFor } from '@/lib/ui/status-action-list';
import { QUEUE_STATUS } from '@/lib/status/catalog';
import { statusInfo, statusesOf } from '@/lib/status/catalog';
import type { JobKind } from '@/lib/protocol/status-ids';
import { FakeRelay, storeWithAccountOnRelay } from './helpers/fake-relay';

let db: MailkeepDb;
let relay: FakeRelay;
let accountId: string;

beforeEach(async () => {
  ({ db, relay, accountId } = await storeWithAccountOnRelay());
});

const PARAMS = {
  download: { format: 'eml-zip', folder: 'INBOX', linkTtlMinutes: 60 },
  restore: { folder: 'Projekte/2024' },
  migrate: { destinationAccountId: 'dest-account' },
} as const;

describe('"Mailkeep tries again by itself within a few hours" for every kind', () => {
  it('every status whose hint promises it is marked autoRetry, and only those', () => {
    for (const kind of ['backup', 'download', 'restore', 'migrate'] as JobKind[]) {
      for (const status of statusesOf(kind)) {
        const info = statusInfo(kind, status);
        expect(info.autoRetry, `${kind}/${status}`).toBe(info.hint.includes('within a few hours'));
      }
    }
  });

  for (const kind of ['download', 'restore', 'migrate'] as const) {
    it(`a ${kind} that ended Failed shows the relay's retry time, is never re-queued by the extension, and follows the relay's retry of the same job`, async () => {
      const t0 = 1_800_000_000_000;
      const row = await createJob(db, { kind, accountId, params: PARAMS[kind], at: t0 });
      await driveRuns(db, relay, t0);
      const starts = () => relay.calls.filter((c) => c.method === 'job.start' && (c.params as any).kind === kind);
      expect(starts()).toHaveLength(1);
      const relayJobId = (await db.jobs.get(row.id))!.relayJobId!;
      const retryAt = new Date(t0 + 7_000_000).toISOString();
      relay.set(relayJobId, { status: 'failed', phase: 'finished', errorCode: 'UNKNOWN', retryAt });
      await driveRuns(db, relay, t0 + 1_000);
      const failed = (await db.jobs.get(row.id))!;
      // The relay's time, whatever the extension's clock says; the row still follows the relay job.
      expect(failed).toMatchObject({ status: 'failed', nextRetryAt: Date.parse(retryAt), relayJobId });
      expect(actionsFor(failed)).toContain('cancel');

      // Days pass with the extension running passes: no timer here moves the row or starts a run.
      await driveRuns(db, relay, t0 + 10 * EXTENSION_LIMITS.notifyMaxAgeMs + 100_000_000);
      expect((await db.jobs.get(row.id))!.status).toBe('failed');
      expect(starts()).toHaveLength(1);

      // The relay retries (its attempt 1): the row goes back through the queue status and ends as reported.
      relay.set(relayJobId, { status: QUEUE_STATUS[kind], phase: 'queued', errorCode: null, retryAt: null, attempt: 1 });
      await applyRelayEvent(db, { event: 'status', jobId: relayJobId, kind, status: QUEUE_STATUS[kind], phase: 'queued', errorCode: null, at: retryAt, attempt: 1 });
      expect((await db.jobs.get(row.id))!).toMatchObject({ status: QUEUE_STATUS[kind], nextRetryAt: null, relayAttempt: 1 });
      await applyRelayEvent(db, { event: 'status', jobId: relayJobId, kind, status: 'running', phase: 'active', errorCode: null, at: retryAt, attempt: 1 });
      const done = kind === 'download' ? 'completed_link' : 'completed';
      relay.set(relayJobId, { status: done, phase: 'finished', retryAt: null, attempt: 1 });
      await driveRuns(db, relay, t0 + 200_000_000);
      expect((await db.jobs.get(row.id))!).toMatchObject({ status: done, nextRetryAt: null });
      // A late event of the first attempt changes nothing.
      await applyRelayEvent(db, { event: 'status', jobId: relayJobId, kind, status: 'failed', phase: 'finished', errorCode: 'UNKNOWN', at: retryAt });
      expect((await db.jobs.get(row.id))!.status).toBe(done);
      expect(starts()).toHaveLength(1);
      const history = (await db.jobEvents.where('jobId').equals(row.id).toArray()).map((e) => e.to);
      expect(history.slice(-4)).toEqual(['failed', QUEUE_STATUS[kind], 'running', done]);
    });
  }

  it('"Retry now" of a run the user started asks the relay (job.retry of the job it follows) and starts nothing itself', async () => {
    const row = await createJob(db, { kind: 'restore', accountId, params: PARAMS.restore });
    await driveRuns(db, relay);
    const relayJobId = (await db.jobs.get(row.id))!.relayJobId!;
    relay.set(relayJobId, { status: 'connection_error', phase: 'finished', errorCode: 'CONNECTION_REFUSED', retryAt: null });
    await driveRuns(db, relay);
    expect((await db.jobs.get(row.id))!).toMatchObject({ status: 'connection_error', nextRetryAt: null });
    const link = { retryJob: async (id: string) => (await relay.call('job.retry', { jobId: id })).job, backupNow: async () => { throw new Error('not a backup'); } };
    await retryNow(db, link, row.id);
    expect(relay.calls.filter((c) => c.method === 'job.retry')).toEqual([{ method: 'job.retry', params: { jobId: relayJobId } }]);
    await driveRuns(db, relay);
    expect((await db.jobs.get(row.id))!).toMatchObject({ status: 'on_queue', relayJobId, relayAttempt: 1 });
    expect(relay.calls.filter((c) => c.method === 'job.start')).toHaveLength(1);
  });

  it('never re-queues a backup row either: its retry is the relay\'s (AccountState.retryAt), kept with the browser closed', async () => {
    const backup = (await db.jobs.where('kind').equals('backup').first())!;
    // A row as an older version left it: Connection Error with a retry owed in the browser.
    await db.jobs.put({ ...backup, status: 'connection_error', nextRetryAt: 1_000 });
    await driveRuns(db, relay, 2_000 + EXTENSION_LIMITS.notifyMaxAgeMs);
    expect((await db.jobs.get(backup.id))!.status).toBe('connection_error');
    expect(relay.calls.filter((c) => c.method === 'job.start')).toHaveLength(0);
  });
});

describe('a migration that failed on one side', () => {
  it('keeps which server failed (outcome.side) and the reason on its row, so "Edit" opens that account', async () => {
    const row = await createJob(db, { kind: 'migrate', accountId, params: { destinationAccountId: 'dest-account' } });
    await driveRuns(db, relay);
    const relayJobId = (await db.jobs.get(row.id))!.relayJobId!;
    relay.set(relayJobId, { status: 'authentication_error', phase: 'finished', errorCode: 'AUTH_FAILED', outcome: { side: 'destination', message: 'destination: the destination server refused the user name or password' } });
    await driveRuns(db, relay);
    expect((await db.jobs.get(row.id))!).toMatchObject({ status: 'authentication_error', outcome: { side: 'destination', message: 'destination: the destination server refused the user name or password' } });
  });
});
