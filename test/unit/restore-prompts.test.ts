import { retryNow } from '@/lib/background/retry-due';
import { beforeEach, describe, expect, it } from 'vitest';
import Dexie from 'dexie';
import { IDBFactory } from 'fake-indexeddb';
import type { MailkeepDb } from '@/lib/storage/db';
import { MailkeepDb as Db } from '@/lib/storage/db';
import { saveAccount } from '@/lib/storage/accounts';
import { backupJobOf, createJob, transitionJob } from '@/lib/storage/jobs';
import { addPrompt, resolvePrompt } from '@/lib/storage/prompts';
import { JobRow, PromptRow } from '@/lib/storage/rows';
import { getSetting, setSetting } from '@/lib/storage/settings';
import { declareVersion1, declareVersion2 } from '@/lib/storage/schema-versions';
import { applyRelayEvent, applyRelayEventWithOutcome, driveRuns } from '@/lib/background/relay-runs';
import { collectRestorePrompts, promptText, takePromptNotifications } from '@/lib/background/restore-prompts';
import { planRestore } from '@/lib/background/restore-plan';
import { EXTENSION_LIMITS } from '@/lib/limits';
import { reconcile } from '@/lib/background/reconcile';
import { onNotificationAction } from '@/lib/background/service-worker';
import type { BackgroundPorts, NotificationSpec } from '@/lib/background/ports';
import { QUEUE_STATUS } from '@/lib/status/catalog';
import type { RestorePrompt } from '@/lib/protocol/restore-params';
import { ACCOUNT_FORM, freshDb } from './helpers/fresh-db';
import { FakeRelay } from './helpers/fake-relay';
import { mirrorAccount } from '@/lib/background/mirror';
import { imapAccountOf } from '@/lib/background/coordinator';
import type { JobSnapshot } from '@/lib/protocol/common';

/** The fake relay plus restore.prompts, and jobs that start in their kind's own queue status. */
class PromptingRelay extends FakeRelay {
  prompts: RestorePrompt[] = [];
  override async call(method: string, params: any): Promise<any> {
    if (method === 'restore.prompts') {
      this.calls.push({ method, params });
      return { prompts: this.prompts };
    }
    const result = await super.call(method, params);
    if (method === 'job.start' && result.created) this.set(result.job.id, { status: QUEUE_STATUS[params.kind as 'restore'] });
    return method === 'job.start' ? { ...result, job: this.jobs.get(result.job.id) } : result;
  }
}

// One fixed instant and zone for every step: the prompts name days ("since Tuesday 14:02"), so
// neither today's date nor the machine's zone may leak in (the runs also pass in another zone).
const NOW = Date.parse('2026-11-25T23:00:00Z');
const ZONE = 'UTC';

let db: MailkeepDb;
let relay: PromptingRelay;
let accountId: string;
const at = new Date(0).toISOString();
const BULK = EXTENSION_LIMITS.bulkDeletionMessages;

const deleted = (folder: string, messages: number, runId = 7): RestorePrompt => ({
  runId,
  folder,
  messages,
  bytes: messages * 1000,
  since: '2026-11-24T14:02:00.000Z',
  at: '2026-11-25T23:00:00.000Z',
});

/**
 * A backup run the relay ran by itself (its schedule) and reported as the account's new state, as
 * account.changed brings it: the mirror records it, and the next pass asks for its prompts.
 */
async function relayFinishes(status: 'completed' | 'authentication_error', patch: Partial<Extract<JobSnapshot, { kind: 'backup' }>> = {}): Promise<void> {
  const account = (await db.accounts.get(accountId))!;
  const latestBackup: JobSnapshot = {
    id: 'j_000000000001',
    kind: 'backup',
    accountId,
    idempotencyKey: 'schedule-run-000001',
    status,
    phase: 'finished',
    errorCode: status === 'completed' ? null : 'AUTH_FAILED',
    progress: { folder: null, messagesDone: 0, messagesTotal: 0, bytes: 0 },
    createdAt: new Date(NOW - 60_000).toISOString(),
    updatedAt: new Date(NOW).toISOString(),
    ...patch,
  };
  await mirrorAccount(db, { account: imapAccountOf(account), hasPassword: true, schedule: account.schedule, status, nextRunAt: null, retryAt: null, lastSuccessAt: status === 'completed' ? latestBackup.updatedAt : null, latestBackup, archive: null }, NOW);
}

async function completeBackup(): Promise<void> {
  await relayFinishes('completed');
  await driveRuns(db, relay, NOW, ZONE);
}

const open = async () => (await db.prompts.toArray()).filter((p) => p.resolvedAt === null);
const restoreJobs = () => db.jobs.where('kind').equals('restore').toArray();

beforeEach(async () => {
  db = freshDb();
  relay = new PromptingRelay();
  const saved = await saveAccount(db, ACCOUNT_FORM, undefined, NOW);
  if (!saved.ok) throw new Error('seed failed');
  accountId = saved.account.id;
  relay.accounts.add(accountId);
});

describe('restore prompts after a backup', () => {
  it('with "any deletion", every folder that lost messages gets a prompt saying how many, where and since when', async () => {
    await setSetting(db, 'restorePrompts', 'any');
    relay.prompts = [deleted('INBOX', 37), deleted('Projekte/2024', 1)];
    await completeBackup();
    const prompts = (await open()).sort((a, b) => a.text.localeCompare(b.text));
    expect(prompts.map((p) => [p.restore?.folder, p.restore?.messages])).toEqual([['Projekte/2024', 1], ['INBOX', 37]]);
    expect(prompts[1]!.text).toBe('37 messages were removed from INBOX since Tuesday 14:02. Restore them?');
    expect(prompts[0]!.text).toBe('1 message was removed from Projekte/2024 since Tuesday 14:02. Restore it?');
  });

  it('asks about exactly the run the backup reported, not whatever run is latest', async () => {
    await setSetting(db, 'restorePrompts', 'any');
    relay.prompts = [deleted('INBOX', 3, 41)];
    await relayFinishes('completed', { outcome: { counts: { runId: 41, messages: 0, bytes: 0, disappeared: 3 } } });
    await driveRuns(db, relay, NOW, ZONE);
    expect(relay.calls.filter((c) => c.method === 'restore.prompts').map((c) => c.params)).toEqual([{ accountId, runId: 41 }]);
  });

  it('writes the sentence the user reads: "37 messages were removed from INBOX since Tuesday 14:02. Restore them?"', () => {
    const now = Date.parse('2026-11-25T23:00:00Z');
    expect(promptText(deleted('INBOX', 37), now, 'UTC')).toBe('37 messages were removed from INBOX since Tuesday 14:02. Restore them?');
    expect(promptText({ ...deleted('INBOX', 2), since: '2026-10-01T08:05:00Z' }, now, 'UTC')).toBe('2 messages were removed from INBOX since 1 October 2026 08:05. Restore them?');
    expect(promptText({ ...deleted('INBOX', 2), since: '2026-11-25T09:15:00Z' }, now, 'UTC')).toBe('2 messages were removed from INBOX since today 09:15. Restore them?');
    expect(promptText({ ...deleted('INBOX', 2), since: null }, now, 'UTC')).toBe('2 messages were removed from INBOX since the previous backup. Restore them?');
  });

  it('names the day and time in the user\'s zone, whatever the machine\'s: "today" is the user\'s today', () => {
    const now = Date.parse('2026-11-25T23:00:00Z'); // Wednesday 15:00 in Los Angeles, Thursday 13:00 in Kiritimati
    const tuesday = deleted('INBOX', 37); // 2026-11-24T14:02Z
    const morning = { ...deleted('INBOX', 2), since: '2026-11-25T09:15:00Z' };
    expect(promptText(tuesday, now, 'America/Los_Angeles')).toBe('37 messages were removed from INBOX since Tuesday 06:02. Restore them?');
    expect(promptText(tuesday, now, 'Pacific/Kiritimati')).toBe('37 messages were removed from INBOX since Wednesday 04:02. Restore them?');
    expect(promptText(morning, now, 'America/Los_Angeles')).toBe('2 messages were removed from INBOX since today 01:15. Restore them?');
    expect(promptText(morning, now, 'Pacific/Kiritimati')).toBe('2 messages were removed from INBOX since Wednesday 23:15. Restore them?');
    expect(promptText({ ...tuesday, since: '2026-10-01T08:05:00Z' }, now, 'Pacific/Kiritimati')).toBe('37 messages were removed from INBOX since 1 October 2026 22:05. Restore them?');
  });

  it('uses the zone the coordinator passes when it collects prompts after a backup', async () => {
    await setSetting(db, 'restorePrompts', 'any');
    relay.prompts = [deleted('INBOX', 37)];
    await relayFinishes('completed');
    await driveRuns(db, relay, NOW, 'Pacific/Kiritimati');
    expect((await open()).map((p) => p.text)).toEqual(['37 messages were removed from INBOX since Wednesday 04:02. Restore them?']);
  });

  it('with "only bulk deletions", only a folder that lost at least the bulk threshold gets a prompt', async () => {
    await setSetting(db, 'restorePrompts', 'bulk');
    relay.prompts = [deleted('INBOX', BULK), deleted('Sent', BULK - 1)];
    await completeBackup();
    expect((await open()).map((p) => p.restore?.folder)).toEqual(['INBOX']);
  });

  it('with "never", no prompt is created and the run is not asked about again', async () => {
    await setSetting(db, 'restorePrompts', 'never');
    relay.prompts = [deleted('INBOX', 500)];
    await completeBackup();
    await driveRuns(db, relay, NOW, ZONE);
    expect(await db.prompts.count()).toBe(0);
    expect(relay.calls.filter((c) => c.method === 'restore.prompts')).toHaveLength(1);
  });

  it('asks once per settled run, so a restarted worker adds no second prompt and a dismissed one does not come back', async () => {
    await setSetting(db, 'restorePrompts', 'any');
    relay.prompts = [deleted('INBOX', 3)];
    await completeBackup();
    const [prompt] = await open();
    await resolvePrompt(db, prompt!.id, 'dismissed');
    // The marker is lost (say, a crash between the two writes): the deterministic id still holds.
    await setSetting(db, 'restorePromptsCheckedAt', {});
    await collectRestorePrompts(db, relay, NOW, ZONE);
    expect(await db.prompts.count()).toBe(1);
    expect(await open()).toEqual([]);
  });

  it('takes back a prompt once a later backup finds its mail on the server again (restored from the CLI or another client), and keeps one whose mail is still gone', async () => {
    await setSetting(db, 'restorePrompts', 'any');
    relay.prompts = [deleted('INBOX', 3), deleted('Sent', 2)];
    await completeBackup();
    expect(await open()).toHaveLength(2);
    // INBOX's three are back on the server; the relay, asked about run 7 again, names only Sent.
    relay.prompts = [deleted('Sent', 2)];
    await setSetting(db, 'restorePromptsCheckedAt', {});
    await collectRestorePrompts(db, relay, NOW + 1000, ZONE);
    expect(relay.calls.filter((c) => c.method === 'restore.prompts').at(-1)!.params).toEqual({ accountId, runId: 7 });
    expect((await open()).map((p) => p.restore!.folder)).toEqual(['Sent']);
    const inbox = (await db.prompts.toArray()).find((p) => p.restore!.folder === 'INBOX')!;
    expect(inbox).toMatchObject({ resolvedAt: NOW + 1000, resolution: 'restored' });
  });

  it('asks nothing while a backup is still running or ended in an error', async () => {
    await setSetting(db, 'restorePrompts', 'any');
    relay.prompts = [deleted('INBOX', 3)];
    await relayFinishes('authentication_error');
    await driveRuns(db, relay, NOW, ZONE);
    expect(relay.calls.filter((c) => c.method === 'restore.prompts')).toHaveLength(0);
  });

  it('raises one notification for a bulk deletion and none for a small one', async () => {
    await setSetting(db, 'restorePrompts', 'any');
    relay.prompts = [deleted('INBOX', BULK + 5), deleted('Sent', 2)];
    await completeBackup();
    const notes = await takePromptNotifications(db, NOW);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.message).toContain(`${BULK + 5} messages were removed from INBOX`);
    expect(notes[0]!.id).toMatch(/^mailkeep\|restore\|/);
    expect(await takePromptNotifications(db, NOW)).toEqual([]);
  });

  it('shows the bulk-deletion notification through reconcile, and a click on it opens the popup page with the prompt', async () => {
    await setSetting(db, 'restorePrompts', 'bulk');
    relay.prompts = [deleted('INBOX', BULK)];
    await completeBackup();
    const shown: NotificationSpec[] = [];
    const opened: string[] = [];
    const ports: BackgroundPorts = { setBadge: async () => undefined, notify: async (n) => void shown.push(n), openPage: async (p) => void opened.push(p) };
    await reconcile(db, ports, NOW);
    await reconcile(db, ports, NOW);
    expect(shown.map((n) => n.title)).toEqual(['Alice Work · alice@example.org: mail disappeared from the server']);
    await onNotificationAction(db, ports, shown[0]!.id, null);
    expect(opened).toEqual(['/popup.html']);
  });
});

describe('one-click restore from a prompt', () => {
  it('Restore queues one restore job of exactly that set, and the coordinator starts it with those parameters', async () => {
    await setSetting(db, 'restorePrompts', 'any');
    relay.prompts = [deleted('INBOX', 37, 14)];
    await completeBackup();
    const [prompt] = await open();
    await resolvePrompt(db, prompt!.id, 'accepted');
    await resolvePrompt(db, prompt!.id, 'accepted'); // a second click, another window
    const jobs = await restoreJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ accountId, status: 'on_queue', params: { disappearedInRun: 14, folder: 'INBOX' } });
    await driveRuns(db, relay, NOW, ZONE);
    const start = relay.calls.filter((c) => c.method === 'job.start').at(-1)!.params as any;
    expect(start).toMatchObject({ kind: 'restore', accountId, params: { disappearedInRun: 14, folder: 'INBOX' } });
    expect(start.params).not.toHaveProperty('dryRun');
  });

  it('Dismiss hides the prompt and queues nothing', async () => {
    await setSetting(db, 'restorePrompts', 'any');
    relay.prompts = [deleted('INBOX', 4)];
    await completeBackup();
    const [prompt] = await open();
    await resolvePrompt(db, prompt!.id, 'dismissed');
    expect(await open()).toEqual([]);
    expect((await db.prompts.get(prompt!.id))?.resolution).toBe('dismissed');
    expect(await restoreJobs()).toEqual([]);
  });

  it('refuses to restore from a prompt that does not say which messages it meant (written before version 3)', async () => {
    const old = await addPrompt(db, { accountId, jobId: null, topic: 'messages_disappeared', text: '12 messages disappeared' });
    await expect(resolvePrompt(db, old.id, 'accepted')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await restoreJobs()).toEqual([]);
    await resolvePrompt(db, old.id, 'dismissed');
    expect(await open()).toEqual([]);
  });

  it('the confirmation reads the counts of a dry run of the same set, which writes nothing', async () => {
    await setSetting(db, 'restorePrompts', 'any');
    relay.prompts = [deleted('INBOX', 5, 9)];
    await completeBackup();
    const [prompt] = await open();
    const planning = planRestore(db, {
      call: async (method: string, params: any) => {
        const r = await relay.call(method, params);
        // The relay finishes the dry run at once with its plan.
        if (method === 'job.start') {
          relay.set(r.job.id, { status: 'completed', phase: 'finished', outcome: { counts: { restored: 0, alreadyPresent: 1, notRestored: 0, foldersCreated: 0, toAppend: 4, foldersToCreate: 0, overAppendLimit: 0, bytesToAppend: 4096, quotaUsedBytes: 1000, quotaLimitBytes: 2048, distinctMessages: 5, labelsToAdd: 7 } } });
        }
        return r;
      },
    } as FakeRelay, { promptId: prompt!.id });
    // The destination's quota comes along, for the confirmation's "will not fit" warning.
    expect(await planning).toEqual({ folder: 'INBOX', into: null, toAppend: 4, alreadyPresent: 1, foldersToCreate: 0, overAppendLimit: 0, bytesToAppend: 4096, quota: { usedBytes: 1000, limitBytes: 2048 }, distinctMessages: 5, labelsToAdd: 7, labelMode: 'folder-per-label' });
    const start = relay.calls.filter((c) => c.method === 'job.start').at(-1)!.params as any;
    expect(start.params).toEqual({ disappearedInRun: 9, folder: 'INBOX', dryRun: true });
    expect(await restoreJobs()).toEqual([]);
    expect((await db.prompts.get(prompt!.id))?.resolvedAt).toBeNull();
  });
});

describe('the coordinator driving restore jobs', () => {
  const newRestore = () => createJob(db, { kind: 'restore', accountId, params: { disappearedInRun: 3, folder: 'INBOX' } });
  const restoreRow = async (id: string) => (await db.jobs.get(id))!;
  const relayRestores = () => [...relay.jobs.values()].filter((j) => j.kind === 'restore').length;
  const restoreHistory = async (id: string) => (await db.jobEvents.where('jobId').equals(id).sortBy('id')).map((e) => e.to);

  it('follows a restore through its events to Completed and keeps the counts', async () => {
    const job = await newRestore();
    await driveRuns(db, relay, NOW, ZONE);
    const relayId = (await restoreRow(job.id)).relayJobId!;
    await applyRelayEvent(db, { event: 'status', jobId: relayId, kind: 'restore', status: 'running', phase: 'active', errorCode: null, at });
    await applyRelayEvent(db, { event: 'progress', jobId: relayId, progress: { folder: 'INBOX', messagesDone: 2, messagesTotal: 3, bytes: 200 }, at });
    expect((await restoreRow(job.id)).progress).toMatchObject({ messagesDone: 2, messagesTotal: 3 });
    relay.set(relayId, { status: 'completed', phase: 'finished', outcome: { counts: { restored: 3, alreadyPresent: 0, notRestored: 0, foldersCreated: 0 } } });
    await driveRuns(db, relay, NOW, ZONE);
    const row = await restoreRow(job.id);
    expect(row).toMatchObject({ status: 'completed', runKey: null, relayJobId: relayId, outcome: { counts: { restored: 3, alreadyPresent: 0, notRestored: 0, foldersCreated: 0 } } });
    expect(await restoreHistory(job.id)).toEqual(['on_queue', 'running', 'completed']);
  });

  it('reads a finished run\'s counts from the relay when its final status arrives as a live event', async () => {
    const job = await newRestore();
    await driveRuns(db, relay, NOW, ZONE);
    const relayId = (await restoreRow(job.id)).relayJobId!;
    relay.set(relayId, { status: 'completed', phase: 'finished', progress: { folder: 'INBOX', messagesDone: 3, messagesTotal: 3, bytes: 300 }, outcome: { counts: { restored: 3, alreadyPresent: 0, notRestored: 0, foldersCreated: 0 } } });
    await applyRelayEventWithOutcome(db, relay, { event: 'status', jobId: relayId, kind: 'restore', status: 'completed', phase: 'finished', errorCode: null, at });
    expect(await restoreRow(job.id)).toMatchObject({ status: 'completed', runKey: null, outcome: { counts: { restored: 3 } } });
    expect(await restoreHistory(job.id)).toEqual(['on_queue', 'running', 'completed']);
  });

  it('reconciles a restore after a service-worker restart that lost the answer to job.start: the same key, one relay job', async () => {
    const job = await newRestore();
    await driveRuns(db, relay, NOW, ZONE);
    const first = await restoreRow(job.id);
    await db.jobs.put({ ...first, relayJobId: null }); // died before storing the relay's answer
    relay.set(first.relayJobId!, { status: 'partially_complete', phase: 'finished', errorCode: 'QUOTA_EXCEEDED', outcome: { counts: { restored: 2, alreadyPresent: 0, notRestored: 1, foldersCreated: 0 }, message: 'the server storage is full' } });
    await driveRuns(db, relay, NOW, ZONE); // the woken worker
    const row = await restoreRow(job.id);
    expect(relayRestores()).toBe(1);
    expect(relay.calls.filter((c) => c.method === 'job.start' && (c.params as any).kind === 'restore').map((c) => (c.params as any).idempotencyKey)).toEqual([first.runKey, first.runKey]);
    expect(row).toMatchObject({ status: 'partially_complete', lastErrorCode: 'QUOTA_EXCEEDED', outcome: { counts: { restored: 2, alreadyPresent: 0, notRestored: 1, foldersCreated: 0 }, message: 'the server storage is full' } });
    // Retry now: the relay runs the same job again with its parameters (it appends only what is
    // missing); the extension sends job.retry, never a second job.start.
    await retryNow(db, { retryJob: async (id) => (await relay.call('job.retry', { jobId: id })).job, backupNow: async () => { throw new Error('not a backup'); } }, job.id);
    await driveRuns(db, relay, NOW, ZONE);
    expect(relay.calls.filter((c) => c.method === 'job.retry').map((c) => c.params)).toEqual([{ jobId: first.relayJobId }]);
    expect(relayRestores()).toBe(1);
    expect(await restoreRow(job.id)).toMatchObject({ status: 'on_queue', relayJobId: first.relayJobId, outcome: null });
  });

  it('leaves a restore the relay stopped under (interrupted) to the relay, which resumes it: mirrored, never started a second time', async () => {
    const job = await newRestore();
    await driveRuns(db, relay, NOW, ZONE);
    const first = await restoreRow(job.id);
    relay.set(first.relayJobId!, { status: 'running', phase: 'interrupted' });
    await driveRuns(db, relay, NOW, ZONE);
    const row = await restoreRow(job.id);
    expect(row).toMatchObject({ status: 'running', runKey: first.runKey, relayJobId: first.relayJobId });
    expect(relayRestores()).toBe(1);
  });

  it('drives download and migrate rows the same way, with their own parameters', async () => {
    const download = await createJob(db, { kind: 'download', accountId, params: { format: 'mbox' } });
    const migrate = await createJob(db, { kind: 'migrate', accountId, params: { destinationAccountId: 'other' } });
    await driveRuns(db, relay, NOW, ZONE);
    const starts = relay.calls.filter((c) => c.method === 'job.start').map((c) => c.params as any);
    expect(starts.find((s) => s.kind === 'download')?.params).toEqual({ format: 'mbox' });
    expect(starts.find((s) => s.kind === 'migrate')?.params).toEqual({ destinationAccountId: 'other' });
    expect((await restoreRow(download.id)).relayJobId).toBeTruthy();
    expect((await restoreRow(migrate.id)).relayJobId).toBeTruthy();
  });

  it('ends a download the relay cannot start (unknown account) Cancelled, as its table has no Authentication Error', async () => {
    relay.accounts.clear();
    const download = await createJob(db, { kind: 'download', accountId, params: { format: 'mbox' } });
    await driveRuns(db, relay, NOW, ZONE);
    expect((await restoreRow(download.id)).status).toBe('cancelled');
  });

  it('cancels a queued restore that never recorded its parameters instead of guessing or waiting forever', async () => {
    const legacy = await newRestore();
    await db.jobs.put(JobRow.parse({ ...legacy, params: null }));
    await driveRuns(db, relay, NOW, ZONE);
    const row = await restoreRow(legacy.id);
    expect(row.status).toBe('cancelled');
    expect(row.lastErrorCode).toBe('CANCELLED');
    expect(relay.calls.filter((c) => c.method === 'job.start' && (c.params as any).kind === 'restore')).toEqual([]);
  });
});

describe('the Dexie schema upgrade from version 2 to version 3', () => {
  it('keeps every job and prompt, gives backups empty parameters and older jobs and prompts none', async () => {
    Dexie.dependencies.indexedDB = new IDBFactory();
    const name = 'upgrade-v3-test';
    const v2 = new Dexie(name);
    declareVersion1(v2);
    declareVersion2(v2);
    const base = { progress: { messagesDone: 40, messagesTotal: 40, bytes: 4000, folder: 'INBOX' }, createdAt: 1, updatedAt: 2, startedAt: 1, finishedAt: 2, attempt: 0, nextRetryAt: null, lastErrorCode: null, linkUrl: null };
    await v2.table('accounts').add({ id: 'a1', displayName: 'Work', email: 'w@example.org', username: 'w', host: 'imap.example.org', port: 993, security: 'tls', schedule: { enabled: true, everyHours: 24 }, createdAt: 1, updatedAt: 2 });
    await v2.table('jobs').bulkAdd([
      { ...base, id: 'b1', kind: 'backup', accountId: 'a1', status: 'completed', lastSuccessAt: 2, runKey: null, relayJobId: null },
      { ...base, id: 'r1', kind: 'restore', accountId: 'a1', status: 'on_queue', lastSuccessAt: null },
    ]);
    await v2.table('prompts').add({ id: 'p1', accountId: 'a1', jobId: null, topic: 'messages_disappeared', text: '12 messages disappeared', createdAt: 3, resolvedAt: null, resolution: null });
    await v2.table('settings').put({ key: 'restorePrompts', value: 'any' });
    v2.close();

    const db3 = new Db(name);
    await db3.open();
    expect(db3.verno).toBe(5); // opened at the current version, through 3 and on
    const jobs = (await db3.jobs.orderBy('id').toArray()).map((j) => JobRow.parse(j));
    expect(jobs.map((j) => [j.id, j.status, j.params, j.outcome])).toEqual([
      ['b1', 'completed', {}, null],
      ['r1', 'on_queue', null, null],
    ]);
    expect(jobs[0]).toMatchObject({ progress: base.progress, lastSuccessAt: 2 });
    const prompts = (await db3.prompts.toArray()).map((p) => PromptRow.parse(p));
    expect(prompts).toEqual([{ id: 'p1', accountId: 'a1', jobId: null, topic: 'messages_disappeared', text: '12 messages disappeared', createdAt: 3, resolvedAt: null, resolution: null, restore: null, notifiedAt: null }]);
    expect(await getSetting(db3, 'restorePrompts')).toBe('any');
    expect((await db3.accounts.get('a1'))?.schedule).toEqual({ kind: 'every', hours: 24 }); // and on through version 4
    db3.close();
  });
});
