import { beforeEach, describe, expect, it } from 'vitest';
import type { AccountState } from '@/lib/protocol/account-state';
import type { JobSnapshot } from '@/lib/protocol/common';
import type { ResultOf } from '@/lib/protocol/relay-frames';
import { mirrorAccount, mirrorAccountRemoved, mirrorRuns, mirrorState, updateRun } from '@/lib/background/mirror';
import { imapAccountOf } from '@/lib/background/coordinator';
import { applyRelayEvent } from '@/lib/background/relay-runs';
import { EXTENSION_LIMITS } from '@/lib/limits';
import type { MailkeepDb } from '@/lib/storage/db';
import { backupJobOf } from '@/lib/storage/jobs';
import { listRuns, loadOverview } from '@/lib/storage/queries';
import type { RelayState } from '@/lib/storage/settings';
import { freshnessOf, notReachableLine, statusView } from '@/lib/ui/relay-freshness';
import { freshDb } from './helpers/fresh-db';

const T0 = Date.parse('2026-11-26T13:00:00Z'); // 14:00 in Berlin
const ZONE = 'Europe/Berlin';
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
let db: MailkeepDb;

function snapshot(patch: Partial<Extract<JobSnapshot, { kind: 'backup' }>> = {}): JobSnapshot {
  return {
    id: 'j_000000000001',
    kind: 'backup',
    accountId: 'work',
    idempotencyKey: 'schedule-work-2026-11-26T13:00:00.000Z',
    status: 'running',
    phase: 'active',
    errorCode: null,
    progress: { folder: 'INBOX', messagesDone: 10, messagesTotal: 40, bytes: 4096 },
    createdAt: iso(T0),
    updatedAt: iso(T0 + 1_000),
    ...patch,
  };
}

function state(patch: Partial<AccountState> = {}): AccountState {
  return {
    account: { id: 'work', host: 'imap.example.org', port: 993, security: 'tls', user: 'ada@example.org' },
    hasPassword: true,
    schedule: { kind: 'every', hours: 6 },
    status: null,
    nextRunAt: iso(T0 + 6 * 3600_000),
    retryAt: null,
    lastSuccessAt: null,
    latestBackup: null,
    archive: null,
    ...patch,
  };
}

/** What the popup renders for each card: name, status label, whether it is current, its mark, and whether a bar shows. */
async function popupAt(relay: RelayState, now: number) {
  const f = freshnessOf(relay, now);
  return {
    banner: f.live ? null : notReachableLine(f, now, ZONE),
    cards: (await loadOverview(db)).map((o) => {
      const view = o.backup ? statusView('backup', o.backup.status, f, now, ZONE) : null;
      return { name: o.account.displayName, label: view?.label ?? null, current: view?.current ?? null, mark: view?.mark ?? null, bar: view?.showProgress ?? false, lastSuccessAt: o.backup?.lastSuccessAt ?? null };
    }),
  };
}
const linked = (at: number): RelayState => ({ state: 'connected', at, relayVersion: '1.0.0', errorCode: null, syncedAt: at, via: 'native', nativeHost: 'ok' });
const lost = (syncedAt: number, at: number): RelayState => ({ state: 'unreachable', at, relayVersion: '1.0.0', errorCode: 'RELAY_UNREACHABLE', syncedAt, via: 'native', nativeHost: 'ok' });

beforeEach(() => {
  db = freshDb();
});

describe('the mirror of the relay in Dexie, and what the pages render from it', () => {
  it('shows the name and address the relay keeps for an account (account add --name --email), its login when it keeps none, and follows a rename', async () => {
    await mirrorAccount(db, state({ account: { id: 'work', host: 'imap.example.org', port: 993, security: 'tls', user: 'mailkeep', name: 'Ada at work', email: 'ada@work.example' } }), T0);
    expect(await db.accounts.get('work')).toMatchObject({ displayName: 'Ada at work', email: 'ada@work.example', username: 'mailkeep' });
    expect((await popupAt(linked(T0), T0)).cards.map((c) => c.name)).toEqual(['Ada at work']);
    await mirrorAccount(db, state({ account: { id: 'work', host: 'imap.example.org', port: 993, security: 'tls', user: 'mailkeep', name: 'Ada (old job)', email: 'ada@work.example' } }), T0 + 1_000);
    expect(await db.accounts.get('work')).toMatchObject({ displayName: 'Ada (old job)', updatedAt: T0 + 1_000 });
    await mirrorAccount(db, state({ account: { id: 'bare', host: 'imap.example.org', port: 993, security: 'tls', user: 'mailkeep' } }), T0);
    expect(await db.accounts.get('bare')).toMatchObject({ displayName: 'mailkeep', email: 'mailkeep' });
  });

  it('sends the names the pages know to the relay with the account, so the relay keeps them', () => {
    expect(imapAccountOf({ id: 'work', host: 'h.example', port: 993, security: 'tls', username: 'mailkeep', displayName: 'Ada at work', email: 'ada@work.example' })).toEqual({ id: 'work', host: 'h.example', port: 993, security: 'tls', user: 'mailkeep', name: 'Ada at work', email: 'ada@work.example' });
  });

  it('shows no status for an account the relay has never backed up, instead of inventing one', async () => {
    await mirrorAccount(db, state(), T0);
    expect(await backupJobOf(db, 'work')).toBeUndefined();
    const row = await db.accounts.get('work');
    expect(row).toMatchObject({ displayName: 'ada@example.org', schedule: { kind: 'every', hours: 6 }, relay: { hasPassword: true, nextRunAt: T0 + 6 * 3600_000 } });
    expect((await popupAt(linked(T0), T0)).cards).toEqual([expect.objectContaining({ name: 'ada@example.org', label: null })]);
  });

  it('follows the relay through a scheduled backup: Running with its bar while live, then Completed with the last success', async () => {
    await mirrorAccount(db, state({ status: 'preparing', latestBackup: snapshot({ status: 'preparing', phase: 'queued' }) }), T0);
    await mirrorAccount(db, state({ status: 'running', latestBackup: snapshot() }), T0 + 1_000);
    // Progress comes as job events, applied to the row following that relay job.
    await applyRelayEvent(db, { event: 'progress', jobId: 'j_000000000001', progress: { folder: 'INBOX', messagesDone: 30, messagesTotal: 40, bytes: 9000 }, at: iso(T0 + 2_000) }, T0 + 2_000);
    expect((await backupJobOf(db, 'work'))?.progress.messagesDone).toBe(30);
    expect((await popupAt(linked(T0 + 2_000), T0 + 2_000)).cards[0]).toMatchObject({ label: 'In Progress / Running', current: true, bar: true });

    const done = T0 + 60_000;
    await mirrorAccount(db, state({ status: 'completed', lastSuccessAt: iso(done), latestBackup: snapshot({ status: 'completed', phase: 'finished', updatedAt: iso(done) }), archive: { messages: 40, bytes: 9000 } }), done);
    const row = await backupJobOf(db, 'work');
    expect(row).toMatchObject({ status: 'completed', lastSuccessAt: done, relayJobId: null, finishedAt: done });
    // The history is the relay's transitions, one event each, so the notifier and badge follow them.
    expect((await db.jobEvents.toArray()).map((e) => e.to)).toEqual(['preparing', 'running', 'completed']);
    expect((await popupAt(linked(done), done)).cards[0]).toMatchObject({ label: 'Completed', current: true, lastSuccessAt: done });
  });

  it('a state the relay read before the one applied (its event queued while state.get was answered) does not bring a finished run back as Running', async () => {
    const rev = (seq: number, instance = 'a1') => ({ instance, seq });
    const done = T0 + 60_000;
    const running = state({ status: 'running', lastSuccessAt: iso(T0 - HOUR), latestBackup: snapshot(), revision: rev(7) });
    const finished = state({ status: 'completed', lastSuccessAt: iso(done), latestBackup: snapshot({ status: 'completed', phase: 'finished', updatedAt: iso(done) }), revision: rev(9) });
    await mirrorAccount(db, finished, done); // state.get's answer, read after the run ended
    await mirrorAccount(db, running, done + 5); // the event pushed while the run ran, applied after it
    expect(await backupJobOf(db, 'work')).toMatchObject({ status: 'completed', lastSuccessAt: done, relayJobId: null });
    expect((await popupAt(linked(done + 5), done + 5)).cards[0]).toMatchObject({ label: 'Completed', bar: false, lastSuccessAt: done });
    expect((await db.jobEvents.toArray()).map((e) => e.to)).toEqual(['completed']); // no Running in the history, no notification
    // A later reading is applied; so is one from a restarted relay (its count starts again), and one
    // from a relay that does not number its readings.
    await mirrorAccount(db, state({ ...finished, status: 'running', latestBackup: snapshot({ id: 'j_000000000002' }), revision: rev(10) }), done + 10);
    expect((await backupJobOf(db, 'work'))?.status).toBe('running');
    await mirrorAccount(db, state({ ...finished, revision: rev(1, 'b2') }), done + 20);
    expect((await backupJobOf(db, 'work'))?.status).toBe('completed');
    const { revision: _none, ...unnumbered } = running;
    await mirrorAccount(db, unnumbered, done + 30);
    expect((await backupJobOf(db, 'work'))?.status).toBe('running');
  });

  it('a job status event never moves a backup row by itself: the account state is the relay\'s word on it', async () => {
    await mirrorAccount(db, state({ status: 'running', latestBackup: snapshot() }), T0);
    await applyRelayEvent(db, { event: 'status', jobId: 'j_000000000001', kind: 'backup', status: 'connection_error', phase: 'finished', errorCode: 'CONNECTION_REFUSED', at: iso(T0 + 1) }, T0 + 1);
    expect((await backupJobOf(db, 'work'))?.status).toBe('running');
  });

  it('with the relay gone, marks a Running backup as last known with its age and hides its bar, on every card', async () => {
    await mirrorAccount(db, state({ status: 'running', latestBackup: snapshot() }), T0);
    await mirrorAccount(db, { ...state({ status: 'completed', lastSuccessAt: iso(T0) }), account: { id: 'home', host: 'imap.example.net', port: 993, security: 'tls', user: 'bo@example.net' } }, T0);
    const page = await popupAt(lost(T0 + 2 * 60_000, T0 + 3 * 60_000), T0 + 5 * 60_000);
    expect(page.banner).toBe('As of 14:02 (3 minutes ago), relay not reachable.');
    expect(page.cards).toHaveLength(2);
    for (const card of page.cards) {
      expect(card).toMatchObject({ current: false, bar: false, mark: 'last known, as of 14:02 (3 minutes ago)' });
    }
  });

  it('stops showing a link as current once the worker stops confirming it, even though the store still says connected', async () => {
    await mirrorAccount(db, state({ status: 'completed', lastSuccessAt: iso(T0) }), T0);
    const page = await popupAt(linked(T0), T0 + EXTENSION_LIMITS.relayStaleAfterMs + 1_000);
    expect(page.banner).toContain('relay not reachable');
    expect(page.cards[0]).toMatchObject({ current: false });
  });

  it('keeps the names the user typed, and takes the schedule and settings from the relay', async () => {
    await mirrorAccount(db, state(), T0);
    const row = (await db.accounts.get('work'))!;
    await db.accounts.put({ ...row, displayName: 'Ada at work', email: 'ada@example.org' });
    await mirrorAccount(db, state({ schedule: { kind: 'off' }, status: 'deactivated', nextRunAt: null }), T0 + 1);
    expect(await db.accounts.get('work')).toMatchObject({ displayName: 'Ada at work', schedule: { kind: 'off' }, resumeSchedule: { kind: 'every', hours: 6 } });
    expect((await backupJobOf(db, 'work'))?.status).toBe('deactivated');
  });

  it('a full state removes accounts the relay deleted meanwhile and hands back accounts it never knew', async () => {
    await mirrorAccount(db, state(), T0);
    // An account the browser saved before the relay owned accounts: no relay facts yet.
    await db.accounts.put({ id: 'old', displayName: 'Old', email: 'old@example.org', username: 'old@example.org', host: 'imap.example.org', port: 993, security: 'tls', schedule: { kind: 'every', hours: 24 }, resumeSchedule: { kind: 'every', hours: 24 }, relay: null, createdAt: 1, updatedAt: 1 });
    const result: ResultOf<'state.get'> = { relayTime: iso(T0), timeZone: ZONE, accounts: [], jobs: [] };
    const sync = await mirrorState(db, result, T0);
    expect(sync.removed).toEqual(['work']);
    expect(sync.unknownToRelay.map((a) => a.id)).toEqual(['old']);
    expect(await db.accounts.get('work')).toBeUndefined();
  });

  it('keeps the relay\'s job history, the runs made while the browser was closed included, newest first and bounded', async () => {
    await mirrorAccount(db, state(), T0);
    const run = (n: number, status: string) => snapshot({ id: `j_00000000000${n}`, status, phase: 'finished', createdAt: iso(T0 + n * HOUR), updatedAt: iso(T0 + n * HOUR + 60_000), progress: { folder: null, messagesDone: n, messagesTotal: n, bytes: 0 } });
    await mirrorState(db, { relayTime: iso(T0), timeZone: ZONE, accounts: [state()], jobs: [run(2, 'completed'), run(1, 'connection_error')] }, T0);
    expect((await listRuns(db, 'backup')).map((r) => [r.id, r.status, r.messages])).toEqual([
      ['j_000000000002', 'completed', 2],
      ['j_000000000001', 'connection_error', 1],
    ]);
    // A status event moves a run the history holds.
    await updateRun(db, { event: 'status', jobId: 'j_000000000001', kind: 'backup', status: 'completed', phase: 'finished', errorCode: null, at: iso(T0 + 9 * HOUR) });
    expect((await listRuns(db, 'backup'))[0]).toMatchObject({ id: 'j_000000000001', status: 'completed' });
    expect(await listRuns(db, 'restore')).toEqual([]);
    // Bounded: the oldest go first.
    const many = Array.from({ length: EXTENSION_LIMITS.dashboardMaxRows + 3 }, (_, i) => snapshot({ id: `j_${String(100 + i).padStart(12, '0')}`, status: 'completed', phase: 'finished', updatedAt: iso(T0 + i * 1000) }));
    await mirrorRuns(db, many);
    expect(await db.runs.count()).toBe(EXTENSION_LIMITS.dashboardMaxRows);
    expect(await db.runs.get('j_000000000100')).toBeUndefined();
  });

  it('account.removed takes the account, its jobs, history and prompts out of the mirror', async () => {
    await mirrorAccount(db, state({ status: 'completed', lastSuccessAt: iso(T0) }), T0);
    await mirrorAccountRemoved(db, 'work');
    expect([await db.accounts.count(), await db.jobs.count(), await db.jobEvents.count()]).toEqual([0, 0, 0]);
  });
});
