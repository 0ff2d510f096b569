import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import type { MailkeepDb } from '@/lib/storage/db';
import { removeAccount, saveAccount } from '@/lib/storage/accounts';
import { createJob, transitionJob } from '@/lib/storage/jobs';
import { addPrompt, resolvePrompt, resolveRestoredPrompts, restoreCovers } from '@/lib/storage/prompts';
import { setSetting } from '@/lib/storage/settings';
import { reconcile } from '@/lib/background/reconcile';
import { staleNotificationIds } from '@/lib/background/notifications';
import { notificationId } from '@/lib/background/notification-ids';
import { chromePorts } from '@/lib/background/chrome-ports';
import type { BackgroundPorts, NotificationSpec } from '@/lib/background/ports';
import type { RestorePrompt } from '@/lib/protocol/restore-params';
import type { RestoreParams } from '@/lib/protocol/restore-params';
import { EXTENSION_LIMITS } from '@/lib/limits';
import { ACCOUNT_FORM, freshDb } from './helpers/fresh-db';

// Every notification and prompt the extension shows, each with the condition that takes it away
// (docs/extension.md, "Notifications and prompts"). One clock for all steps.
const T0 = Date.parse('2026-12-01T09:00:00Z');
let db: MailkeepDb;
let accountId: string;

/** Chrome's notification centre as the ports see it: one entry per id, created again = replaced. */
function screen(): BackgroundPorts & { shown: Map<string, NotificationSpec>; created: string[] } {
  const shown = new Map<string, NotificationSpec>();
  const created: string[] = [];
  return {
    shown,
    created,
    setBadge: async () => undefined,
    notify: async (n) => void (created.push(n.id), shown.set(n.id, n)),
    openPage: async () => undefined,
    listNotifications: async () => [...shown.keys()],
    clearNotification: async (id) => void shown.delete(id),
  };
}

async function backupRow(): Promise<string> {
  return (await createJob(db, { kind: 'backup', accountId, at: T0 })).id;
}

/** preparing -> running -> authentication_error, as the relay reports a refused password. */
async function refusePassword(jobId: string, at: number): Promise<void> {
  await transitionJob(db, jobId, 'running', { at });
  await transitionJob(db, jobId, 'authentication_error', { at: at + 1, errorCode: 'AUTH_FAILED' });
}

const prompt = (over: Partial<RestorePrompt> = {}): RestorePrompt => ({ runId: 7, folder: 'INBOX', messages: EXTENSION_LIMITS.bulkDeletionMessages, bytes: 1000, since: '2026-11-30T09:00:00.000Z', at: '2026-12-01T08:00:00.000Z', ...over });

async function bulkPrompt(over: Partial<RestorePrompt> = {}): Promise<string> {
  const p = prompt(over);
  const row = await addPrompt(db, { id: `restore|${accountId}|${p.runId}|${p.folder}`, accountId, jobId: null, topic: 'messages_disappeared', text: `${p.messages} messages were removed from ${p.folder}. Restore them?`, restore: p }, T0);
  return row.id;
}

/** A restore the dashboard's Restore tab (or the popup) queued, run by the relay to `status`. */
async function restoreRun(params: RestoreParams, status: 'completed' | 'authentication_error', at: number): Promise<string> {
  const job = await createJob(db, { kind: 'restore', accountId, at, params });
  await transitionJob(db, job.id, 'running', { at: at + 1 });
  await transitionJob(db, job.id, status, { at: at + 2 });
  return job.id;
}

beforeEach(async () => {
  fakeBrowser.reset();
  db = freshDb();
  const saved = await saveAccount(db, ACCOUNT_FORM, undefined, T0);
  if (!saved.ok) throw new Error('seed failed');
  accountId = saved.account.id;
});

describe('a notification about a job in an error status', () => {
  it('Authentication Error is cleared once the same account backs up fine again', async () => {
    const ports = screen();
    const job = await backupRow();
    await refusePassword(job, T0 + 10);
    await reconcile(db, ports, T0 + 20);
    expect([...ports.shown.values()].map((n) => n.title)).toEqual(['Alice Work · alice@example.org: Backup Authentication Error']);
    // The user fixes the password; the next run completes.
    await transitionJob(db, job, 'preparing', { at: T0 + 30 });
    await reconcile(db, ports, T0 + 31);
    expect(ports.shown.size).toBe(0); // preparing again: the refusal is no longer the news
    await transitionJob(db, job, 'running', { at: T0 + 40 });
    await transitionJob(db, job, 'completed', { at: T0 + 50 });
    await reconcile(db, ports, T0 + 60);
    expect(ports.shown.size).toBe(0);
  });

  it('the same account and cause twice is one notification, updated, never a second one stacked', async () => {
    const ports = screen();
    const job = await backupRow();
    await refusePassword(job, T0 + 10);
    await reconcile(db, ports, T0 + 20);
    await transitionJob(db, job, 'preparing', { at: T0 + 30 });
    await refusePassword(job, T0 + 40);
    await reconcile(db, ports, T0 + 50);
    expect(ports.created).toHaveLength(2);
    expect(new Set(ports.created).size).toBe(1); // the same id: Chrome replaces it
    expect(ports.shown.size).toBe(1);
  });

  it('a restore refused at Authentication Error is cleared once a newer restore of the account supersedes it', async () => {
    const ports = screen();
    await restoreRun({ folder: 'INBOX' }, 'authentication_error', T0 + 10);
    await reconcile(db, ports, T0 + 20);
    expect([...ports.shown.values()].map((n) => n.title)).toEqual(['Alice Work · alice@example.org: Restore Authentication Error']);
    await createJob(db, { kind: 'restore', accountId, at: T0 + 30, params: { folder: 'INBOX' } });
    await reconcile(db, ports, T0 + 40);
    expect(ports.shown.size).toBe(0);
  });

  it('is cleared once its account is removed', async () => {
    const ports = screen();
    await refusePassword(await backupRow(), T0 + 10);
    await reconcile(db, ports, T0 + 20);
    expect(ports.shown.size).toBe(1);
    await removeAccount(db, accountId);
    await reconcile(db, ports, T0 + 30);
    expect(ports.shown.size).toBe(0);
  });

  it('stays while it is still true', async () => {
    const ports = screen();
    await refusePassword(await backupRow(), T0 + 10);
    await reconcile(db, ports, T0 + 20);
    await reconcile(db, ports, T0 + 30);
    expect(ports.shown.size).toBe(1);
  });
});

describe('the notification that mail disappeared (a bulk deletion prompt)', () => {
  it('is cleared once the prompt is dismissed', async () => {
    const ports = screen();
    const id = await bulkPrompt();
    await reconcile(db, ports, T0 + 10);
    expect([...ports.shown.values()].map((n) => n.title)).toEqual(['Alice Work · alice@example.org: mail disappeared from the server']);
    await resolvePrompt(db, id, 'dismissed', T0 + 20);
    await reconcile(db, ports, T0 + 30);
    expect(ports.shown.size).toBe(0);
  });

  it('is cleared once the prompt\'s Restore was clicked', async () => {
    const ports = screen();
    const id = await bulkPrompt();
    await reconcile(db, ports, T0 + 10);
    await resolvePrompt(db, id, 'accepted', T0 + 20);
    await reconcile(db, ports, T0 + 30);
    expect(ports.shown.size).toBe(0);
  });

  it('goes, with its "Restore them?" prompt, once the same mail was restored from the dashboard\'s Restore tab', async () => {
    const ports = screen();
    const id = await bulkPrompt();
    await reconcile(db, ports, T0 + 10);
    expect(ports.shown.size).toBe(1);
    await restoreRun({ folder: 'INBOX' }, 'completed', T0 + 20);
    await reconcile(db, ports, T0 + 30);
    expect(await db.prompts.get(id)).toMatchObject({ resolvedAt: T0 + 30, resolution: 'restored' });
    expect(ports.shown.size).toBe(0);
  });
});

describe('a "Restore them?" prompt is answered by another restore only when that restore brought the same mail back', () => {
  const p = { accountId: 'acc', restore: prompt() };
  const job = (params: RestoreParams, over: Partial<{ status: string; accountId: string; createdAt: number; kind: 'restore' | 'backup' }> = {}) => ({
    kind: 'restore' as const, accountId: 'acc', status: 'completed', createdAt: Date.parse(prompt().at) + 1, params, ...over,
  });

  it.each<[string, RestoreParams]>([
    ['the whole account', {}],
    ['its folder', { folder: 'INBOX' }],
    ['exactly its set (another prompt\'s Restore of the same run and folder)', { disappearedInRun: 7, folder: 'INBOX' }],
    ['everything that disappeared in that run', { disappearedInRun: 7 }],
    ['its own archive named explicitly', { sourceAccountId: 'acc', folder: 'INBOX' }],
  ])('covers it: a completed restore of %s', (_what, params) => {
    expect(restoreCovers(job(params), p)).toBe(true);
  });

  it.each<[string, ReturnType<typeof job>]>([
    ['another folder', job({ folder: 'Sent' })],
    ['another run\'s deletions', job({ disappearedInRun: 6 })],
    ['a dry run (it writes nothing)', job({ dryRun: true })],
    ['a date range (may leave some out)', job({ since: '2026-11-01T00:00:00.000Z' })],
    ['the account as of an older run', job({ atRun: 3 })],
    ['into another folder', job({ into: 'Restored 2026-12-01' })],
    ['another account\'s archive', job({ sourceAccountId: 'other' })],
    ['another account', job({}, { accountId: 'other' })],
    ['a restore that failed', job({}, { status: 'failed' })],
    ['a restore that completed only partly', job({}, { status: 'partially_complete' })],
    ['a restore that started before the mail was seen gone', job({}, { createdAt: Date.parse(prompt().at) - 1 })],
  ])('does not cover it: %s', (_what, j) => {
    expect(restoreCovers(j, p)).toBe(false);
  });

  it('leaves a prompt without a known set (written before version 3) to the user', async () => {
    await addPrompt(db, { accountId, jobId: null, topic: 'messages_disappeared', text: 'old' }, T0);
    await restoreRun({}, 'completed', T0 + 10);
    expect(await resolveRestoredPrompts(db, T0 + 20)).toEqual([]);
  });
});

describe('ids on screen that nobody can act on', () => {
  it('clears an id of ours from before causes were named once its job left the error, keeps it while it holds, and leaves ids that are not ours', async () => {
    const job = await backupRow();
    await refusePassword(job, T0 + 10);
    const legacy = `mailkeep|edit|${encodeURIComponent(accountId)}|${job}|42`;
    expect(await staleNotificationIds(db, [legacy, 'mailkeep|garbage', 'someone-else'])).toEqual(['mailkeep|garbage']);
    await transitionJob(db, job, 'preparing', { at: T0 + 20 });
    expect(await staleNotificationIds(db, [legacy])).toEqual([legacy]);
  });

  it('never raises a notification for the relay being down: the badge and the pages\' banners say it and follow it back', async () => {
    const ports = screen();
    await backupRow();
    await setSetting(db, 'relayState', { state: 'unreachable', at: T0, relayVersion: null, errorCode: null, syncedAt: null });
    await reconcile(db, ports, T0 + 10);
    expect(ports.created).toEqual([]);
  });
});

describe('Chrome\'s notification centre', () => {
  it('the real ports list what is shown and clear one by id', async () => {
    const ports = chromePorts();
    const id = notificationId({ action: 'edit', accountId, jobId: 'j', cause: 'backup.authentication_error' });
    await ports.notify({ id, title: 't', message: 'm', buttons: [] });
    expect(await ports.listNotifications!()).toEqual([id]);
    await ports.clearNotification!(id);
    expect(await ports.listNotifications!()).toEqual([]);
  });
});
