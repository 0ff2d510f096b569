import { beforeEach, describe, expect, it } from 'vitest';
import type { MailkeepDb } from '@/lib/storage/db';
import type { Badge } from '@/lib/status/badge';
import type { BackgroundPorts, NotificationSpec } from '@/lib/background/ports';
import { reconcile, serialized } from '@/lib/background/reconcile';
import { handleMessage } from '@/lib/background/messages';
import { onNotificationAction } from '@/lib/background/service-worker';
import { backupJobOf, transitionJob } from '@/lib/storage/jobs';
import { EXTENSION_LIMITS } from '@/lib/limits';
import { ACCOUNT_FORM, freshDb } from './helpers/fresh-db';

let db: MailkeepDb;
let badges: Badge[];
let notes: NotificationSpec[];
let opened: string[];
const ports: BackgroundPorts = {
  setBadge: async (b) => void badges.push(b),
  notify: async (n) => void notes.push(n),
  openPage: async (p) => void opened.push(p),
};
const meta = { extensionVersion: '0.1.0', userAgent: 'test' };
const send = (msg: unknown) => handleMessage(db, ports, meta, msg);

beforeEach(() => {
  db = freshDb();
  badges = [];
  notes = [];
  opened = [];
});

async function seed(status: string, email = 'alice@example.org', kind = 'backup') {
  const reply = await send({ type: 'dev:seed', accounts: [{ form: { ...ACCOUNT_FORM, email, displayName: email }, jobs: [{ kind, status }] }] });
  if (!reply.ok) throw new Error(reply.message);
  return (reply.value as string[])[0] as string;
}

describe('the service worker logic', () => {
  it('seeds a status only through legal transitions, leaving the whole path in the history', async () => {
    const accountId = await seed('connection_error');
    const job = await backupJobOf(db, accountId);
    const events = await db.jobEvents.where('jobId').equals(job!.id).sortBy('id');
    expect(events.map((e) => e.to)).toEqual(['preparing', 'retrying', 'connection_error']);
  });

  it('answers a malformed or unknown message with INVALID_INPUT instead of throwing', async () => {
    expect(await send({ type: 'format-disk' })).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(await send({ type: 'retry-now' })).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(await send('hello')).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
  });

  it('Retry now is the relay\'s to apply: without a relay it says so with the stable code and the row stays as it was', async () => {
    const accountId = await seed('failed', 'alice@example.org', 'restore');
    const job = await db.jobs.where('[accountId+kind]').equals([accountId, 'restore']).first();
    expect(await send({ type: 'retry-now', jobId: job!.id })).toMatchObject({ ok: false, code: 'RELAY_UNPAIRED' });
    expect((await db.jobs.get(job!.id))!.status).toBe('failed');
    expect(await send({ type: 'retry-now', jobId: 'nope' })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });

  it('sends Retry now of a backup to the relay, and without one changes nothing and says why', async () => {
    const accountId = await seed('connection_error');
    const before = await backupJobOf(db, accountId);
    expect(await send({ type: 'retry-now', jobId: before!.id })).toMatchObject({ ok: false, code: 'RELAY_UNPAIRED' });
    expect(await send({ type: 'backup-now', accountId })).toMatchObject({ ok: false, code: 'RELAY_UNPAIRED' });
    expect(await backupJobOf(db, accountId)).toEqual(before);
  });

  it('recomputes the badge from the store alone, the same in a fresh worker', async () => {
    await seed('authentication_error', 'a@example.org');
    await seed('running', 'b@example.org');
    const first = await reconcile(db, ports);
    const afterRestart = await reconcile(db, ports); // a new worker has nothing but the store
    expect(first).toEqual(afterRestart);
    expect(first).toMatchObject({ colour: 'red', text: '1' });
    expect(badges).toHaveLength(2);
  });

  it('notifies once when an account enters an error state, with Edit for Authentication Error', async () => {
    const accountId = await seed('authentication_error');
    await reconcile(db, ports);
    await reconcile(db, ports);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ title: 'alice@example.org: Backup Authentication Error', buttons: ['Edit'] });
    await onNotificationAction(db, ports, notes[0]!.id, 0);
    expect(opened).toEqual([`/options.html#account=${accountId}`]);
  });

  it('does not notify for warnings, for old events, or for jobs that moved on', async () => {
    await seed('retrying', 'warn@example.org');
    const movedOn = await seed('connection_error', 'moved@example.org');
    const job = await backupJobOf(db, movedOn);
    await transitionJob(db, job!.id, 'preparing');
    await reconcile(db, ports);
    expect(notes).toEqual([]);
    const late = await backupJobOf(db, await seed('connection_error', 'late@example.org'));
    // Measured from the event's own time, not the wall clock: however slow the machine, it is old.
    await reconcile(db, ports, late!.updatedAt + EXTENSION_LIMITS.notifyMaxAgeMs + 1000);
    expect(notes).toEqual([]);
  });

  it('builds diagnostics with states and error codes but no names, addresses or user names', async () => {
    const reply = await send({
      type: 'dev:seed',
      accounts: [{ form: { ...ACCOUNT_FORM, displayName: 'Secret Name', email: 'private.person@example.org', username: 'private-login' }, jobs: [{ kind: 'backup', status: 'connection_error', errorCode: 'TLS_FAILED' }] }],
    });
    expect(reply.ok).toBe(true);
    const diag = await send({ type: 'diagnostics' });
    const text = diag.ok ? String(diag.value) : '';
    expect(text).toContain('TLS_FAILED');
    expect(text).toContain('connection_error');
    expect(text).toContain('https://github.com/mailkeep/mailkeep/issues');
    for (const secret of ['Secret Name', 'private.person', 'private-login']) expect(text).not.toContain(secret);
  });

  it('keeps the server’s raw reply in diagnostics, with secrets hidden and the account’s names replaced', async () => {
    const reply = await send({ type: 'dev:seed', accounts: [{ form: { ...ACCOUNT_FORM, email: 'private.person@example.org', username: 'private-login' }, jobs: [{ kind: 'restore', status: 'failed', errorCode: 'UNKNOWN' }] }] });
    expect(reply.ok).toBe(true);
    const job = (await db.jobs.where('kind').equals('restore').first())!;
    const token = 'ya29.a0AfH6SMBx3kLq9ZtW0pYc8Rn2VdE1uJ7oGh4';
    await db.jobs.update(job.id, { outcome: { message: `cannot log in as private-login: [OVERQUOTA] Quota exceeded (mailbox for user is full) (0.001 + 0.000 secs). token=${token}` } });
    const diag = await send({ type: 'diagnostics' });
    const text = diag.ok ? String(diag.value) : '';
    expect(text).toContain('[OVERQUOTA] Quota exceeded (mailbox for user is full) (0.001 + 0.000 secs).');
    for (const secret of [token, 'private-login', 'private.person']) expect(text).not.toContain(secret);
  });

  it('runs serialized tasks one after the other even when one fails', async () => {
    const order: string[] = [];
    let n = 0;
    const run = serialized(async () => {
      const me = (n += 1);
      order.push(`start ${me}`);
      await new Promise((r) => setTimeout(r, 5));
      order.push(`end ${me}`);
      if (me === 1) throw new Error('boom');
      return me;
    });
    const first = run();
    await new Promise((r) => setTimeout(r, 1)); // the first has started
    const [a, b] = await Promise.allSettled([first, run()]);
    expect(a.status).toBe('rejected');
    expect(b).toEqual({ status: 'fulfilled', value: 2 });
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('a burst of refreshes while one runs costs one more run, and every caller gets a run that started after its call', async () => {
    const starts: number[] = [];
    let clock = 0;
    let release: () => void = () => undefined;
    const run = serialized(async () => {
      starts.push((clock += 1));
      await new Promise<void>((r) => (release = r));
      return clock;
    });
    const first = run();
    await Promise.resolve();
    expect(starts).toEqual([1]);
    const calledAt = clock;
    const burst = Array.from({ length: 50 }, () => run()); // fifty store writes during a restore
    release();
    await first;
    await Promise.resolve();
    expect(starts).toEqual([1, 2]); // one run for the fifty, begun after they called
    release();
    const answers = await Promise.all(burst);
    expect(answers.every((value) => value > calledAt)).toBe(true);
    const later = run(); // after the burst's run has ended: a run of its own
    await Promise.resolve();
    release();
    expect(await later).toBe(3);
  });
});

describe('settings through the message API', () => {
  it('stores a valid restore prompt choice and refuses anything else', async () => {
    const { getSetting } = await import('@/lib/storage/settings');
    expect(await getSetting(db, 'restorePrompts')).toBe('bulk');
    expect(await send({ type: 'set-restore-prompts', value: 'never' })).toEqual({ ok: true, value: null });
    expect(await getSetting(db, 'restorePrompts')).toBe('never');
    expect(await send({ type: 'set-restore-prompts', value: 'sometimes' })).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(await getSetting(db, 'restorePrompts')).toBe('never');
  });
});
