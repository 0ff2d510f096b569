import { describe, expect, it } from 'vitest';
import { EXTENSION_LIMITS } from '@/lib/limits';
import { statusesOf, statusInfo } from '@/lib/status/catalog';
import type { RelayState } from '@/lib/storage/settings';
import { EMPTY_PROGRESS, type AccountRow, type JobRow } from '@/lib/storage/rows';
import { firstRunSteps, nextActionOf, INSTALL_COMMAND, WELCOME_PAGE, type FirstRunInput } from '@/lib/ui/first-run-steps';
import { welcomeOnInstall } from '@/lib/background/welcome-on-install';
import { freshDb } from './helpers/fresh-db';

const NOW = Date.parse('2026-11-26T13:02:00Z');

const relay = (state: RelayState['state'], extra: Partial<RelayState> = {}): RelayState => ({
  state,
  at: NOW - 1_000,
  relayVersion: state === 'connected' ? '1.2.3' : null,
  errorCode: null,
  syncedAt: null,
  via: null,
  nativeHost: null,
  ...extra,
});
const CONNECTED = relay('connected', { via: 'native', nativeHost: 'ok' });

function account(id: string, createdAt: number, facts: Partial<NonNullable<AccountRow['relay']>> | null = null): AccountRow {
  return {
    id,
    displayName: id,
    email: `${id}@example.org`,
    username: id,
    host: 'imap.example.org',
    port: 993,
    security: 'tls',
    schedule: { kind: 'every', hours: 24 },
    resumeSchedule: { kind: 'every', hours: 24 },
    relay: facts ? { hasPassword: true, nextRunAt: null, retryAt: null, lastSuccessAt: null, archive: null, ...facts } : null,
    createdAt,
    updatedAt: createdAt,
  } as AccountRow;
}

function backup(accountId: string, status: string, extra: Partial<JobRow> = {}): JobRow {
  return {
    id: `job-${accountId}`,
    kind: 'backup',
    accountId,
    status,
    progress: EMPTY_PROGRESS,
    createdAt: NOW - 60_000,
    updatedAt: NOW - 1_000,
    startedAt: null,
    finishedAt: null,
    lastSuccessAt: null,
    attempt: 0,
    nextRetryAt: null,
    lastErrorCode: null,
    linkUrl: null,
    ...extra,
  } as JobRow;
}

const run = (input: Partial<FirstRunInput>) => firstRunSteps({ relay: CONNECTED, now: NOW, accounts: [], jobs: [], ...input });
const states = (input: Partial<FirstRunInput>) => run(input).steps.map((s) => s.state);

describe('the first run goes in order: relay, mailbox, first backup', () => {
  it('starts at the relay while it has not answered, whatever else the mirror holds', () => {
    for (const r of [undefined, relay('unknown'), relay('unpaired', { nativeHost: 'missing' }), relay('unreachable', { nativeHost: 'ok' }), relay('unauthorized')]) {
      expect(run({ relay: r }).current, r?.state ?? 'not read').toBe('relay');
      expect(states({ relay: r }), r?.state ?? 'not read').toEqual(['current', 'locked', 'locked']);
    }
    // Accounts from an earlier install keep their step done; the relay is still the step to do.
    const a = account('alice', NOW - 5_000);
    expect(run({ relay: relay('unreachable'), accounts: [a] }).current).toBe('relay');
    expect(states({ relay: relay('unreachable'), accounts: [a] })).toEqual(['current', 'done', 'waiting']);
  });

  it('does not believe a connected link the worker stopped confirming', () => {
    const stale = relay('connected', { at: NOW - EXTENSION_LIMITS.relayStaleAfterMs - 1 });
    expect(run({ relay: stale }).current).toBe('relay');
    expect(run({ relay: stale }).relay).toBe('not-answering');
  });

  it('says for each relay state what is true and what to do, naming the one install command where it helps', () => {
    const text = (r: RelayState | undefined) => run({ relay: r }).steps[0].text;
    expect(text(undefined)).toBe('Looking for the relay…');
    expect(text(relay('unknown'))).toBe('Looking for the relay…');
    expect(run({ relay: relay('unpaired', { nativeHost: 'missing' }) }).relay).toBe('host-missing');
    expect(text(relay('unpaired', { nativeHost: 'missing' }))).toContain(`Run ${INSTALL_COMMAND} in the Mailkeep folder`);
    expect(text(relay('unpaired', { nativeHost: 'missing' }))).toContain('turns green by itself');
    expect(run({ relay: relay('unreachable', { nativeHost: 'failed' }) }).relay).toBe('not-answering');
    expect(text(relay('unreachable', { nativeHost: 'failed' }))).toContain('does not answer');
    expect(run({ relay: relay('unauthorized', { nativeHost: 'ok' }) }).relay).toBe('refused');
    expect(text(relay('unauthorized'))).toContain('no longer accepts this browser');
    expect(text(CONNECTED)).toMatch(/^Connected/);
  });

  it('opens the mailbox step only once the relay answers', () => {
    expect(run({}).current).toBe('mailbox');
    expect(states({})).toEqual(['done', 'current', 'locked']);
    expect(run({}).steps[1].text).toContain('Sign in with Google or Microsoft');
    expect(run({ relay: relay('unpaired') }).steps[1].text).toContain('once the relay is connected');
  });

  it('waits for the first backup right after a mailbox is added, then follows it while it runs', () => {
    const a = account('alice', NOW - 5_000);
    expect(run({ accounts: [a] }).current).toBe('backup');
    expect(run({ accounts: [a] }).steps[2]).toMatchObject({ state: 'current', text: 'Waiting for the relay to start the first backup of alice@example.org…' });
    for (const status of ['preparing', 'running']) {
      const r = run({ accounts: [a], jobs: [backup('alice', status)] });
      expect(r.steps[2].state, status).toBe('current');
      expect(r.steps[2].text, status).toContain(statusInfo('backup', status).label);
      expect(r.backup?.job?.status).toBe(status);
    }
  });

  it('says how many messages are backed up once the first backup completed: the relay\'s archive count first, else the run\'s', () => {
    const a = account('alice', NOW - 5_000, { lastSuccessAt: NOW - 1_000, archive: { messages: 502, bytes: 1_000_000 } });
    const done = run({ accounts: [a], jobs: [backup('alice', 'completed', { lastSuccessAt: NOW - 1_000, progress: { ...EMPTY_PROGRESS, messagesDone: 500 } })] });
    expect(done.current).toBe('done');
    expect(done.steps.map((s) => s.state)).toEqual(['done', 'done', 'done']);
    expect(done.backup?.messages).toBe(502);
    expect(done.steps[2].text).toMatch(/^Your mail is backed up: 502 messages of alice@example.org\./);
    const noFacts = run({ accounts: [account('bob', NOW)], jobs: [backup('bob', 'completed', { lastSuccessAt: NOW, progress: { ...EMPTY_PROGRESS, messagesDone: 1 } })] });
    expect(noFacts.steps[2].text).toMatch(/^Your mail is backed up: 1 message of/);
  });

  it('stays done once backed up, even while a later backup runs or the relay is down', () => {
    const a = account('alice', NOW - 5_000, { lastSuccessAt: NOW - 86_400_000, archive: { messages: 7, bytes: 10 } });
    expect(run({ accounts: [a], jobs: [backup('alice', 'running')] }).steps[2].state).toBe('done');
    expect(run({ relay: relay('unreachable'), accounts: [a] }).steps[2].state).toBe('done');
  });

  it('turns every failed or stopped first backup into a problem with its status and hint, never "backed up"', () => {
    const a = account('alice', NOW - 5_000);
    for (const status of statusesOf('backup')) {
      const info = statusInfo('backup', status);
      if (status === 'preparing' || status === 'running' || status === 'completed') continue;
      const step = run({ accounts: [a], jobs: [backup('alice', status)] }).steps[2];
      expect(step.state, status).toBe('problem');
      expect(step.text, status).toContain(info.label);
      expect(step.text, status).toContain(info.hint);
      expect(step.text, status).not.toContain('backed up:');
    }
  });

  it('shows nothing about the first backup as current while the relay does not answer', () => {
    const a = account('alice', NOW - 5_000);
    const step = run({ relay: relay('unreachable'), accounts: [a], jobs: [backup('alice', 'running')] }).steps[2];
    expect(step.state).toBe('waiting');
    expect(step.text).toContain('last known status is "In Progress / Running"');
  });

  it('follows the first account added, unless another one is already backed up', () => {
    const older = account('older', NOW - 9_000);
    const newer = account('newer', NOW - 1_000, { lastSuccessAt: NOW, archive: { messages: 3, bytes: 1 } });
    expect(run({ accounts: [newer, older] }).backup?.account.id).toBe('newer');
    expect(run({ accounts: [account('b', NOW), account('a', NOW - 1)] }).backup?.account.id).toBe('a');
    expect(run({ accounts: [account('b', NOW), account('a', NOW - 1)] }).steps[1].text).toBe('a@example.org is added, and 1 more.');
  });

  it('leads an empty popup or tab to the relay first, then to a mailbox', () => {
    expect(nextActionOf(run({ relay: undefined }))).toBe('connect-relay');
    expect(nextActionOf(run({ relay: relay('unpaired', { nativeHost: 'missing' }) }))).toBe('connect-relay');
    expect(nextActionOf(run({}))).toBe('add-mailbox');
  });
});

describe('the Welcome page opens by itself only on a fresh install without mailboxes', () => {
  it('opens on install, not on an update, a browser update or a shared-module update', async () => {
    for (const reason of ['install', 'update', 'chrome_update', 'shared_module_update']) {
      const opened: string[] = [];
      const db = freshDb();
      expect(await welcomeOnInstall(db, { openPage: async (p) => void opened.push(p) }, reason), reason).toBe(reason === 'install');
      expect(opened, reason).toEqual(reason === 'install' ? [WELCOME_PAGE] : []);
    }
  });

  it('stays shut for a user who already has a mailbox (a store kept from before)', async () => {
    const db = freshDb();
    await db.accounts.put(account('alice', NOW));
    const opened: string[] = [];
    expect(await welcomeOnInstall(db, { openPage: async (p) => void opened.push(p) }, 'install')).toBe(false);
    expect(opened).toEqual([]);
  });
});
