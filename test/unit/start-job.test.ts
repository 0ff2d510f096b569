import { beforeEach, describe, expect, it } from 'vitest';
import type { MailkeepDb } from '@/lib/storage/db';
import { saveAccount } from '@/lib/storage/accounts';
import { handleMessage } from '@/lib/background/messages';
import type { BackgroundPorts } from '@/lib/background/ports';
import type { Coordinator } from '@/lib/background/coordinator';
import type { PlanTarget } from '@/lib/background/restore-plan';
import { ACCOUNT_FORM, freshDb } from './helpers/fresh-db';

let db: MailkeepDb;
let accountId: string;
const ports: BackgroundPorts = { setBadge: async () => undefined, notify: async () => undefined, openPage: async () => undefined };
const meta = { extensionVersion: '0.1.0', userAgent: 'test' };
const planned: PlanTarget[] = [];
const coordinator = {
  planRestore: async (target: PlanTarget) => {
    planned.push(target);
    return { folder: '', into: null, toAppend: 5, alreadyPresent: 0, foldersToCreate: 0, overAppendLimit: 0 };
  },
} as unknown as Coordinator;
const send = (msg: unknown) => handleMessage(db, ports, meta, msg, coordinator);

beforeEach(async () => {
  db = freshDb();
  planned.length = 0;
  const saved = await saveAccount(db, ACCOUNT_FORM);
  if (!saved.ok) throw new Error('seed failed');
  accountId = saved.account.id;
});

describe('starting a restore, download or migrate from a page', () => {
  it('queues a job carrying exactly its validated parameters, for the coordinator to start', async () => {
    const reply = await send({ type: 'start-job', job: { kind: 'restore', accountId, params: { folder: 'Projekte/2024', into: 'Restored 2026-11-26' } } });
    expect(reply.ok).toBe(true);
    const job = await db.jobs.get((reply as { value: string }).value);
    expect(job).toMatchObject({ kind: 'restore', accountId, status: 'on_queue', params: { folder: 'Projekte/2024', into: 'Restored 2026-11-26' } });
    const download = await send({ type: 'start-job', job: { kind: 'download', accountId, params: {} } });
    expect((await db.jobs.get((download as { value: string }).value))?.params).toEqual({ format: 'mbox' });
  });

  it('refuses a dry run as a job, unknown parameters, and an account that does not exist', async () => {
    expect(await send({ type: 'start-job', job: { kind: 'restore', accountId, params: { dryRun: true } } })).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(await send({ type: 'start-job', job: { kind: 'restore', accountId, params: { everything: true } } })).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(await send({ type: 'start-job', job: { kind: 'migrate', accountId, params: {} } })).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(await send({ type: 'start-job', job: { kind: 'restore', accountId: 'nobody', params: {} } })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(await db.jobs.where('kind').equals('restore').count()).toBe(0);
  });

  it('plans a prompt\'s set or a restore being set up, and refuses a plan request that names neither', async () => {
    expect(await send({ type: 'plan-restore', promptId: 'p1' })).toMatchObject({ ok: true, value: { toAppend: 5 } });
    expect(await send({ type: 'plan-restore', accountId, params: { folder: 'INBOX' } })).toMatchObject({ ok: true });
    expect(planned).toEqual([{ promptId: 'p1' }, { accountId, params: { folder: 'INBOX' } }]);
    expect(await send({ type: 'plan-restore', accountId })).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
  });
});

describe('the confirmation line of a restore', () => {
  it('says how many go back where, what is left alone and that nothing is deleted', async () => {
    const { restorePlanText } = await import('@/lib/ui/restore-plan-text');
    const plan = { folder: 'INBOX', into: null, toAppend: 3, alreadyPresent: 0, foldersToCreate: 0, overAppendLimit: 0 };
    expect(restorePlanText(plan)).toBe('3 messages will be put back into INBOX. Nothing is deleted.');
    expect(restorePlanText({ ...plan, toAppend: 1, alreadyPresent: 2, overAppendLimit: 1 })).toBe('1 message will be put back into INBOX, 2 already there (left alone), 1 too large for the server (listed, not restored). Nothing is deleted.');
    expect(restorePlanText({ ...plan, folder: '', into: 'Restored 2026-11-26', foldersToCreate: 4 })).toBe('3 messages will be put back into a new folder "Restored 2026-11-26", 4 folders to create. Nothing is deleted.');
    expect(restorePlanText({ ...plan, toAppend: 0, alreadyPresent: 3 })).toBe('All 3 are back in INBOX already: nothing to restore.');
  });
});
