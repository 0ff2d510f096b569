import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import type { MailkeepDb } from '@/lib/storage/db';
import { backupJobOf } from '@/lib/storage/jobs';
import { getSetting } from '@/lib/storage/settings';
import { createCoordinator, type Coordinator } from '@/lib/background/coordinator';
import { handleMessage } from '@/lib/background/messages';
import { reconcile } from '@/lib/background/reconcile';
import { readPairing } from '@/lib/background/pairing-store';
import { RELAY_CHECK_ALARM } from '@/lib/background/legacy-alarms';
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

  it('saving a new mailbox with its password starts its first backup at once; the card follows the status the relay reports, and Back up now asks for one more run', async () => {
    const accountId = await pairAndAdd();
    expect(wire.relay.starts()).toBe(1);
    const [relayJobId] = [...wire.relay.jobs.keys()];
    await vi.waitFor(async () => expect(await backupJobOf(db, accountId)).toMatchObject({ status: 'preparing', relayJobId }));
    wire.relay.set(relayJobId!, { status: 'completed', phase: 'finished', updatedAt: new Date(5_000).toISOString() });
    await vi.waitFor(async () => expect(await backupJobOf(db, accountId)).toMatchObject({ status: 'completed', lastSuccessAt: 5_000, relayJobId: null }));
    expect((await db.jobEvents.toArray()).map((e) => e.to)).toEqual(['preparing', 'completed']);
    expect(await send({ type: 'backup-now', accountId })).toEqual({ ok: true, value: true });
    expect(wire.relay.starts()).toBe(2);
  });

  it('Back up now while the relay already runs a backup the page has not heard of (its schedule, the check after a restore) starts nothing and says so, without an error', async () => {
    const accountId = await pairAndAdd();
    const [first] = [...wire.relay.jobs.keys()];
    wire.relay.set(first!, { status: 'completed', phase: 'finished', updatedAt: new Date(5_000).toISOString() });
    await vi.waitFor(async () => expect(await backupJobOf(db, accountId)).toMatchObject({ status: 'completed', relayJobId: null }));
    // The relay's own run, begun a moment ago: no event about it has reached the browser yet.
    const own = { ...wire.relay.jobs.get(first!)!, id: 'j_relay_own_run1', idempotencyKey: 'schedule-run', status: 'running', phase: 'active', errorCode: null } as const;
    wire.relay.jobs.set(own.id, own);
    expect(await send({ type: 'backup-now', accountId })).toEqual({ ok: true, value: false });
    expect(wire.relay.starts()).toBe(2); // asked once; the relay's answer was "one is running"
    expect([...wire.relay.jobs.values()].filter((j) => j.phase !== 'finished')).toHaveLength(1);
    // Retry now of the backup row (a new run of the account) is answered by that same run, not an archive-lock error.
    const row = (await backupJobOf(db, accountId))!;
    expect(await send({ type: 'retry-now', jobId: row.id })).toEqual({ ok: true, value: null });
    expect([...wire.relay.jobs.values()].filter((j) => j.phase !== 'finished')).toHaveLength(1);
  });

  it('Back up now while the page still shows a run the relay has already finished (its end not heard yet) asks the relay and starts a new run', async () => {
    const accountId = await pairAndAdd();
    const [first] = [...wire.relay.jobs.keys()];
    await vi.waitFor(async () => expect((await backupJobOf(db, accountId))?.relayJobId).toBe(first));
    // The relay ends the run without a word reaching the browser: the mirror still says running.
    wire.relay.jobs.set(first!, { ...wire.relay.jobs.get(first!)!, status: 'completed', phase: 'finished' });
    expect((await backupJobOf(db, accountId))?.relayJobId).toBe(first);
    expect(await send({ type: 'backup-now', accountId })).toEqual({ ok: true, value: true });
    expect(wire.relay.starts()).toBe(2);
  });

  it('saving an existing mailbox again starts nothing by itself', async () => {
    const accountId = await pairAndAdd();
    await send({ type: 'save-account', accountId, input: ACCOUNT_FORM, password: PASSWORD });
    expect(wire.relay.starts()).toBe(1);
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

  it('sends the schedule with the account to the relay and keeps no browser alarm but the relay check', async () => {
    // Alarms an older version armed for backups and retries.
    await fakeBrowser.alarms.create('mailkeep-backup|old', { periodInMinutes: 60 });
    await fakeBrowser.alarms.create('mailkeep-retry-due', { periodInMinutes: 15 });
    await fakeBrowser.alarms.create(RELAY_CHECK_ALARM, { periodInMinutes: 1 });
    const accountId = await pairAndAdd();
    await send({ type: 'save-account', accountId, input: { ...ACCOUNT_FORM, scheduleKind: 'daily', dailyAt: '02:30' } });
    expect(wire.relay.states.get(accountId)?.schedule).toEqual({ kind: 'daily', at: '02:30' });
    expect((await db.accounts.get(accountId))?.schedule).toEqual({ kind: 'daily', at: '02:30' });
    await coordinator.pump();
    expect((await fakeBrowser.alarms.getAll()).map((a) => a.name)).toEqual([RELAY_CHECK_ALARM]);
  });

  it('saves nothing while the relay is not reachable, and says so', async () => {
    await pairAndAdd();
    wire.up = false;
    for (const s of wire.sockets) s.close(1006);
    await vi.waitFor(async () => expect((await getSetting(db, 'relayState')).state).toBe('unreachable'));
    const reply = await send({ type: 'save-account', input: { ...ACCOUNT_FORM, email: 'bob@example.org' }, password: PASSWORD });
    expect(reply).toMatchObject({ ok: true, value: { saved: { ok: false, issues: { form: expect.stringContaining('Nothing was saved') } }, relayErrorCode: 'RELAY_UNREACHABLE' } });
    expect((await db.accounts.toArray()).map((a) => a.email)).toEqual(['alice@example.org']);
  });

  it('copies diagnostics with relay status, versions, recent events and error codes, and no password or token', async () => {
    const accountId = await pairAndAdd();
    await send({ type: 'backup-now', accountId });
    const [relayJobId] = [...wire.relay.jobs.keys()];
    wire.relay.set(relayJobId!, { status: 'authentication_error', phase: 'finished', errorCode: 'AUTH_FAILED' });
    await vi.waitFor(async () => expect((await backupJobOf(db, accountId))?.status).toBe('authentication_error'));
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

  it('passes asked for while one waits its turn share it: a burst of ten costs one more reading of the relay, and a queued restore still starts', async () => {
    const accountId = await pairAndAdd();
    await coordinator.pump();
    const reads = () => wire.relay.calls.filter((c) => c.method === 'state.get').length;
    const before = reads();
    const running = coordinator.pump();
    expect(await send({ type: 'start-job', job: { kind: 'restore', accountId, params: {} } })).toMatchObject({ ok: true });
    const burst = Array.from({ length: 10 }, () => coordinator.pump()); // the end of a backup, its account event, clicks
    await Promise.all([running, ...burst]);
    expect(reads() - before).toBe(2);
    expect(wire.relay.calls.some((c) => c.method === 'job.start' && (c.params as { kind: string }).kind === 'restore')).toBe(true);
  });

  it('Enable on a Deactivated account gives the relay back the schedule the user had', async () => {
    const accountId = await pairAndAdd();
    await send({ type: 'save-account', accountId, input: { ...ACCOUNT_FORM, scheduleEnabled: false, everyHours: '6' } });
    expect(wire.relay.states.get(accountId)?.schedule).toEqual({ kind: 'off' });
    expect((await backupJobOf(db, accountId))?.status).toBe('deactivated');
    await send({ type: 'enable-account', accountId });
    expect(wire.relay.calls.at(-1)).toEqual({ method: 'schedule.set', params: { accountId, schedule: { kind: 'every', hours: 6 } } });
    expect((await db.accounts.get(accountId))?.schedule).toEqual({ kind: 'every', hours: 6 });
  });

  it('Cancel stops a restore on the relay and the row ends Cancelled; a row the relay does not run cannot be cancelled', async () => {
    const accountId = await pairAndAdd();
    const queued = await send({ type: 'start-job', job: { kind: 'restore', accountId, params: { folder: 'INBOX' } } });
    const jobId = (queued as { value: string }).value;
    expect(await send({ type: 'cancel-job', jobId })).toMatchObject({ ok: false, code: 'NOT_FOUND' }); // not started yet
    await coordinator.pump();
    expect(await send({ type: 'cancel-job', jobId })).toEqual({ ok: true, value: null });
    expect(wire.relay.calls.some((c) => c.method === 'job.cancel')).toBe(true);
    await coordinator.pump();
    expect((await db.jobs.get(jobId))?.status).toBe('cancelled');
  });

  it('Remove deletes the account on the relay and then from the mirror', async () => {
    const accountId = await pairAndAdd();
    expect(await send({ type: 'remove-account', accountId })).toEqual({ ok: true, value: null });
    expect(wire.relay.states.has(accountId)).toBe(false);
    expect(await db.accounts.count()).toBe(0);
  });
});
