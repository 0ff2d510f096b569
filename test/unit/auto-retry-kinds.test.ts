import { beforeEach, describe, expect, it } from 'vitest';
import type { MailkeepDb } from '@/lib/storage/db';
import { createJob } from '@/lib/storage/jobs';
import { EXTENSION_LIMITS } from '@/lib/limits';
import { driveRuns } from '@/lib/background/relay-runs';
import { retryDueJobs } from '@/lib/background/retry-due';
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
    it(`a ${kind} that ended Failed is queued again after the delay and re-sent with the same params under a new key`, async () => {
      const t0 = 1_800_000_000_000;
      const row = await createJob(db, { kind, accountId, params: PARAMS[kind], at: t0 });
      await driveRuns(db, relay, t0);
      const first = relay.calls.filter((c) => c.method === 'job.start' && (c.params as any).kind === kind);
      expect(first).toHaveLength(1);
      const relayJobId = (await db.jobs.get(row.id))!.relayJobId!;
      relay.set(relayJobId, { status: 'failed', phase: 'finished', errorCode: 'UNKNOWN' });
      await driveRuns(db, relay, t0 + 1_000);
      const failed = (await db.jobs.get(row.id))!;
      expect(failed.status).toBe('failed');
      expect(failed.nextRetryAt).toBe(t0 + 1_000 + EXTENSION_LIMITS.autoRetryDelayMs);

      expect(await retryDueJobs(db, t0 + 2_000)).toEqual([]);
      expect(await retryDueJobs(db, failed.nextRetryAt!)).toEqual([row.id]);
      expect((await db.jobs.get(row.id))!.status).toBe('on_queue');

      await driveRuns(db, relay, failed.nextRetryAt! + 1);
      const starts = relay.calls.filter((c) => c.method === 'job.start' && (c.params as any).kind === kind).map((c) => c.params as any);
      expect(starts).toHaveLength(2);
      expect(starts[1].params).toEqual(starts[0].params);
      expect(starts[1].params).toMatchObject(PARAMS[kind]);
      expect(starts[1].idempotencyKey).not.toBe(starts[0].idempotencyKey);
      expect((await db.jobs.get(row.id))!.relayJobId).not.toBe(relayJobId);
    });
  }

  it('never re-queues a backup: its retry is the relay\'s (AccountState.retryAt), kept with the browser closed', async () => {
    const backup = (await db.jobs.where('kind').equals('backup').first())!;
    // A row as an older version left it: Connection Error with a retry owed in the browser.
    await db.jobs.put({ ...backup, status: 'connection_error', nextRetryAt: 1_000 });
    expect(await retryDueJobs(db, 2_000)).toEqual([]);
    expect((await db.jobs.get(backup.id))!.status).toBe('connection_error');
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
