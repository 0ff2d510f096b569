import { beforeEach, describe, expect, it } from 'vitest';
import type { MailkeepDb } from '@/lib/storage/db';
import { createJob } from '@/lib/storage/jobs';
import { driveRuns } from '@/lib/background/relay-runs';
import { expireDownloadLinks } from '@/lib/background/expire-links';
import { FakeRelay, storeWithAccountOnRelay } from './helpers/fake-relay';

let db: MailkeepDb;
let relay: FakeRelay;
let accountId: string;
const NOW = Date.parse('2026-11-26T00:00:00Z');
const link = (expiresAt: string) => ({ url: `/download/${'a'.repeat(64)}`, expiresAt, fileName: 'mailkeep-work.mbox.zip', bytes: 1234 });

beforeEach(async () => {
  ({ db, relay, accountId } = await storeWithAccountOnRelay());
});

/** A download row driven to Completed / Link by the coordinator, its link expiring at `expiresAt`. */
async function finishedDownload(expiresAt: string): Promise<string> {
  const job = await createJob(db, { kind: 'download', accountId, params: { format: 'mbox' } });
  await driveRuns(db, relay, NOW);
  const relayId = (await db.jobs.get(job.id))!.relayJobId!;
  relay.set(relayId, { status: 'completed_link', phase: 'finished', outcome: { link: link(expiresAt), counts: { messages: 12, folders: 1 } } });
  await driveRuns(db, relay, NOW);
  return job.id;
}

describe('download rows driven by the coordinator', () => {
  it('keep the finished link (relay path, expiry, file name) for the Download button', async () => {
    const id = await finishedDownload('2026-11-27T00:00:00Z');
    expect(await db.jobs.get(id)).toMatchObject({ status: 'completed_link', runKey: null, outcome: { link: link('2026-11-27T00:00:00Z'), counts: { messages: 12 } } });
  });

  it('turn Expired when the link\'s time is up, and a live link stays Completed / Link', async () => {
    const gone = await finishedDownload('2026-11-25T23:00:00Z');
    const live = await finishedDownload('2026-11-27T00:00:00Z');
    expect(await expireDownloadLinks(db, NOW)).toEqual([gone]);
    expect((await db.jobs.get(gone))?.status).toBe('expired');
    expect((await db.jobs.get(live))?.status).toBe('completed_link');
    expect(await expireDownloadLinks(db, NOW)).toEqual([]);
  });
});
