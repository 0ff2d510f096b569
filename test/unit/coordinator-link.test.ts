import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import type { MailkeepDb } from '@/lib/storage/db';
import { backupJobOf } from '@/lib/storage/jobs';
import { getSetting } from '@/lib/storage/settings';
import { createCoordinator, type Coordinator } from '@/lib/background/coordinator';
import { handleMessage } from '@/lib/background/messages';
import { reconcile } from '@/lib/background/reconcile';
import { readPairing } from '@/lib/background/pairing-store';
import { backupAlarmName } from '@/lib/background/schedules';
import type { BackgroundPorts } from '@/lib/background/ports';
import type { Badge } from '@/lib/status/badge';
import { ACCOUNT_FORM, freshDb } from './helpers/fresh-db';
import { FakeRelayWire } from './helpers/fake-relay-socket';

const PASSWORD = 'correct-Horse-battery-7';
let db: MailkeepDb;
let wire: FakeRelayWire;
let coordinator: Coordinator;
let badges: Badge[];
const ports: BackgroundPorts = { setBadge: async (b) => void badges.push(b), notify: async () => undefined, openPage: async () => undefined };
const meta = { extensionVersion: '0.1.0', userAgent: 'test-agent' };
const send = (msg: unknown) => handleMessage(db, ports, meta, msg, coordinator);

/** Everything IndexedDB holds, as one string to search. */
async function wholeStore(): Promise<string> {
  return JSON.stringify(await Promise.all([db.accounts.toArray(), db.jobs.toArray(), db.jobEvents.toArray(), db.settings.toArray(), db.prompts.toArray()]));
}

beforeEach(() => {
  fakeBrowser.reset();
  db = freshDb();
  wire = new FakeRelayWire();
  badges = [];
  coordinator = createCoordinator({
    db,
    storage: fakeBrowser.storage.local,
    alarms: fakeBrowser.alarms,
    openSocket: wire.openSocket,
    fetch: wire.fetch,
    client: { name: 'mailkeep-extension', version: '0.1.0' },
    setTimer: () => undefined,
  });
});

async function pairAndAdd(): Promise<string> {
  expect(await send({ type: 'pair', port: 7412, code: wire.code })).toMatchObject({ ok: true, value: { relayVersion: '9.9.9' } });
  const saved = await send({ type: 'save-account', input: ACCOUNT_FORM, password: PASSWORD });
  if (!saved.ok) throw new Error(saved.message);
  const value = saved.value as { saved: { ok: true; account: { id: string } }; relay: { hasPassword: boolean } };
  expect(value.relay).toEqual({ hasPassword: true });
  return value.saved.account.id;
}

describe('the coordinator linked to a relay', () => {
  it('keeps the pairing token in storage.local and nowhere in IndexedDB', async () => {
    await pairAndAdd();
    expect((await readPairing(fakeBrowser.storage.local))?.token).toBe(wire.token);
    expect(await wholeStore()).not.toContain(wire.token);
    await coordinator.pump();
    expect((await getSetting(db, 'relayState')).state).toBe('connected');
  });

  it('refuses a wrong pairing code with PAIRING_FAILED and stores nothing', async () => {
    expect(await send({ type: 'pair', port: 7412, code: 'AAAA-BBBB' })).toMatchObject({ ok: false, code: 'PAIRING_FAILED' });
    expect(await readPairing(fakeBrowser.storage.local)).toBeNull();
  });

  it('sends the password to the relay once and never writes it to IndexedDB', async () => {
    const accountId = await pairAndAdd();
    expect(wire.passwords).toEqual([PASSWORD]);
    expect(await wholeStore()).not.toContain(PASSWORD);
    // Saving again without typing a password keeps the stored one (nothing sent).
    await send({ type: 'save-account', accountId, input: ACCOUNT_FORM });
    expect(wire.passwords).toEqual([PASSWORD]);
  });

  it("starts a new account's backup on the relay at the next pass, with one relay job", async () => {
    const accountId = await pairAndAdd();
    await coordinator.pump();
    await coordinator.pump();
    const job = await backupJobOf(db, accountId);
    expect(job?.relayJobId).toBeTruthy();
    expect(wire.relay.jobs.size).toBe(1);
  });

  it('reports a wrong password from Test connection as AUTH_FAILED with the hint from the one table', async () => {
    await pairAndAdd();
    const reply = await send({ type: 'test-connection', input: ACCOUNT_FORM, password: 'wrong' });
    expect(reply).toMatchObject({ ok: true, value: { ok: false, errorCode: 'AUTH_FAILED', hint: expect.stringContaining('"Edit"') } });
    expect(await send({ type: 'test-connection', input: ACCOUNT_FORM, password: 'right-password' })).toMatchObject({ ok: true, value: { ok: true } });
  });

  it('records "unpaired" and "unreachable" and turns the badge red "off" once there is an account', async () => {
    await coordinator.pump();
    expect((await getSetting(db, 'relayState')).state).toBe('unpaired');
    await pairAndAdd();
    wire.up = false;
    for (const s of wire.sockets) s.close(1006);
    await coordinator.pump();
    expect((await getSetting(db, 'relayState')).state).toBe('unreachable');
    const badge = await reconcile(db, ports);
    expect(badge.text).toBe('off');
    expect(badge.title).toContain('Start it: run `npm start` in the Mailkeep folder (or `node bin/mailkeep.js relay`)');
    expect(badge.title).not.toContain('npx');
  });

  it('gives an enabled account a repeating alarm at its interval and removes it when the schedule is off', async () => {
    const accountId = await pairAndAdd();
    await coordinator.pump();
    expect((await fakeBrowser.alarms.get(backupAlarmName(accountId)))?.periodInMinutes).toBe(24 * 60);
    await send({ type: 'save-account', accountId, input: { ...ACCOUNT_FORM, scheduleEnabled: false } });
    await coordinator.pump();
    expect(await fakeBrowser.alarms.get(backupAlarmName(accountId))).toBeUndefined();
    expect((await backupJobOf(db, accountId))?.status).toBe('deactivated');
  });

  it('copies diagnostics with relay status, versions, recent events and error codes, and no password or token', async () => {
    const accountId = await pairAndAdd();
    await coordinator.pump();
    const relayJobId = (await backupJobOf(db, accountId))!.relayJobId!;
    wire.relay.set(relayJobId, { status: 'authentication_error', phase: 'finished', errorCode: 'AUTH_FAILED' });
    await coordinator.pump();
    const reply = await send({ type: 'diagnostics' });
    if (!reply.ok) throw new Error(reply.message);
    const text = reply.value as string;
    const report = JSON.parse(text);
    expect(report.extensionVersion).toBe('0.1.0');
    expect(report.relay).toMatchObject({ state: 'connected', version: '9.9.9', protocolVersions: [1], paired: true });
    expect(report.relay.jobs[0]).toMatchObject({ kind: 'backup', status: 'authentication_error', errorCode: 'AUTH_FAILED' });
    expect(report.recentEvents.map((e: { to: string }) => e.to)).toContain('authentication_error');
    expect(report.jobs[0].lastErrorCode).toBe('AUTH_FAILED');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(wire.token);
    expect(text).not.toContain('alice@example.org');
  });
});

describe('the coordinator under concurrency and user actions', () => {
  it('shares one socket between requests that start at the same time', async () => {
    await send({ type: 'pair', port: 7412, code: wire.code });
    await coordinator.pump(); // the pass the pairing queued, on its own socket
    const before = wire.sockets.length;
    // A fresh coordinator, as after a worker restart: nothing connected yet.
    coordinator = createCoordinator({ db, storage: fakeBrowser.storage.local, alarms: fakeBrowser.alarms, openSocket: wire.openSocket, fetch: wire.fetch, client: { name: 'x', version: '0' }, setTimer: () => undefined });
    const test = { type: 'test-connection', input: ACCOUNT_FORM, password: 'right-password' };
    await Promise.all([send(test), send(test), coordinator.pump(), send({ type: 'save-account', input: ACCOUNT_FORM, password: PASSWORD })]);
    expect(wire.sockets.length - before).toBe(1);
  });

  it('Enable on a Deactivated account queues a backup that the next pass starts on the relay', async () => {
    const accountId = await pairAndAdd();
    await send({ type: 'save-account', accountId, input: { ...ACCOUNT_FORM, scheduleEnabled: false } });
    await coordinator.pump();
    expect((await backupJobOf(db, accountId))?.status).toBe('deactivated');
    const started = wire.relay.starts();
    await send({ type: 'enable-account', accountId });
    await coordinator.pump();
    expect(wire.relay.starts()).toBe(started + 1);
    expect((await backupJobOf(db, accountId))?.relayJobId).toBeTruthy();
  });

  it('a scheduled alarm queues a completed backup but leaves an Authentication Error waiting for the password', async () => {
    const { queueScheduledBackup } = await import('@/lib/background/schedules');
    const accountId = await pairAndAdd();
    await coordinator.pump();
    const id = (await backupJobOf(db, accountId))!.relayJobId!;
    wire.relay.set(id, { status: 'completed', phase: 'finished' });
    await coordinator.pump();
    expect(await queueScheduledBackup(db, accountId)).toBe(true);
    await coordinator.pump();
    const second = (await backupJobOf(db, accountId))!.relayJobId!;
    wire.relay.set(second, { status: 'authentication_error', phase: 'finished', errorCode: 'AUTH_FAILED' });
    await coordinator.pump();
    expect(await queueScheduledBackup(db, accountId)).toBe(false);
    expect((await backupJobOf(db, accountId))?.status).toBe('authentication_error');
  });

  it('arms a one-shot alarm at the earliest owed retry', async () => {
    const { armRetryAlarm, RETRY_SOON_ALARM } = await import('@/lib/background/schedules');
    const accountId = await pairAndAdd();
    await send({ type: 'dev:retry-delay', ms: 5_000 });
    await coordinator.pump();
    const id = (await backupJobOf(db, accountId))!.relayJobId!;
    wire.relay.set(id, { status: 'connection_error', phase: 'finished', errorCode: 'CONNECTION_REFUSED' });
    await coordinator.pump();
    const job = (await backupJobOf(db, accountId))!;
    expect(job.status).toBe('connection_error');
    await armRetryAlarm(db, fakeBrowser.alarms);
    expect((await fakeBrowser.alarms.get(RETRY_SOON_ALARM))?.scheduledTime).toBe(job.nextRetryAt);
  });
});
