import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULE_LIMITS } from '../../lib/limits.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { RelayProcess, tempDataDir } from './relay-harness.ts';
import { runCli } from '../support/run-cli.ts';
import { startSwitchableProxy } from './switchable-proxy.ts';

// The relay alone, no browser: the real `node bin/mailkeep.js relay` process, the real CLI and a
// real Dovecot. Wall-clock jumps use the documented test hook MAILKEEP_TEST_CLOCK_FILE (docs/cli.md):
// the relay's wall clock moves while its timers and monotonic clock do not, as after a sleep.

const USER = { name: 'alice', password: 'alice-Sched-pw-4471' };
const HOUR = 3_600_000;

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The test hook's file of the data dir under test; the CLI's direct mode reads the same clock. */
let clockEnv: Record<string, string> = {};

/** One `mailkeep` command as a person runs it, bounded (test/support/run-cli.ts). */
function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Cli> {
  return runCli(args, { ...clockEnv, ...extraEnv }, { deadlineMs: 60_000 });
}

interface StatusJson {
  ok: boolean;
  relayRunning: boolean;
  accounts: { id: string; status: string; statusId: string | null; errorCode: string | null; lastSuccessAt: string | null; nextRunAt: string | null; retryAt: string | null; messages: number; bytes: number }[];
}

describe.skipIf(!dovecotAvailable())('the relay alone keeps the schedule (real relay process, CLI and Dovecot)', () => {
  let dc: Dovecot;
  let proxy: Awaited<ReturnType<typeof startSwitchableProxy>>;
  let dataDir: string;
  let clockFile: string;
  let relay: RelayProcess | undefined;
  let offsetMs = 0;
  const D = (): string[] => ['--data-dir', dataDir];

  function setClock(offset: number): void {
    offsetMs = offset;
    // jitterMaxMs 0: a missed run starts at once (the jitter itself is the scheduler test's business).
    fs.writeFileSync(clockFile, JSON.stringify({ offsetMs, jitterMaxMs: 0 }));
  }

  const startRelay = (): Promise<RelayProcess> => RelayProcess.start(dataDir, 20_000, clockEnv);

  async function status(): Promise<{ code: number | null; json: StatusJson }> {
    const r = await cli(['status', '--json', ...D()]);
    expect(r.stderr).toBe('');
    return { code: r.code, json: JSON.parse(r.stdout) as StatusJson };
  }

  /** Polls `mailkeep status --json` (bounded) until the account satisfies `until`. */
  async function statusUntil(until: (a: StatusJson['accounts'][number]) => boolean, timeoutMs = 40_000): Promise<{ code: number | null; json: StatusJson }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await status();
      if (s.json.accounts[0] && until(s.json.accounts[0])) return s;
      if (Date.now() > deadline) throw new Error(`status never got there: ${JSON.stringify(s.json)}; relay said: ${relay?.stdout.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** The backup jobs the relay recorded, oldest first, read from its state database. */
  function backupJobs(): { key: string; status: string }[] {
    const db = new Database(path.join(dataDir, 'state.sqlite'), { readonly: true });
    try {
      return (db.prepare("SELECT idempotency_key AS key, json_extract(snapshot, '$.status') AS status FROM jobs WHERE kind = 'backup' ORDER BY created_at").all() as { key: string; status: string }[]);
    } finally {
      db.close();
    }
  }

  async function addMessages(n: number, seed: number): Promise<void> {
    const imap = await dc.client(USER.name, USER.password);
    for (const raw of generatedMessages(n, seed)) await imap.append('INBOX', raw, []);
    await imap.logout();
  }

  beforeAll(async () => {
    dc = await startDovecot({ users: [USER] });
    await addMessages(5, 11);
    proxy = await startSwitchableProxy(dc.port);
    dataDir = tempDataDir();
    clockFile = `${dataDir}-clock.json`;
    clockEnv = { MAILKEEP_TEST_CLOCK_FILE: clockFile };
    setClock(0);
    relay = await startRelay();
  });

  afterAll(async () => {
    await relay?.stop();
    await proxy?.close();
    await dc?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(clockFile, { force: true });
  });

  it('an account added by the CLI and scheduled backs up by itself, and `mailkeep status --json` shows it', async () => {
    const add = await cli(['account', 'add', '--host', '127.0.0.1', '--port', String(proxy.port), '--security', 'none', '--user', USER.name, '--id', 'alice', ...D()], { MAILKEEP_PASSWORD: USER.password });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('through the running relay');
    const sched = await cli(['schedule', 'alice', 'every', '6h', ...D()]);
    expect(sched.code, sched.stderr).toBe(0);
    expect(sched.stdout).toMatch(/every 6h; next run/);
    const before = await status();
    expect(before.code).toBe(1); // not Completed yet: a monitor alerts
    expect(before.json).toMatchObject({ relayRunning: true, accounts: [{ id: 'alice', statusId: null, lastSuccessAt: null, messages: 0 }] });
    // Three minutes later (the first backup of a new account is due one minute after it was added).
    setClock(3 * 60_000);
    const done = await statusUntil((a) => a.statusId === 'completed');
    expect(done.code).toBe(0);
    const a = done.json.accounts[0]!;
    expect(a).toMatchObject({ status: 'Completed', messages: 5, retryAt: null });
    expect(a.bytes).toBeGreaterThan(0);
    expect(Date.parse(a.nextRunAt!) - Date.parse(a.lastSuccessAt!)).toBeGreaterThan(5.9 * HOUR);
    expect(backupJobs()).toHaveLength(1);
    for (const out of [add, sched]) expect(out.stdout + out.stderr).not.toContain(USER.password);
    expect(relay!.stdout + relay!.stderr).not.toContain(USER.password);
  });

  it('a clock jump over three missed slots runs ONE backup', async () => {
    await addMessages(2, 12);
    setClock(offsetMs + 3 * 6 * HOUR + HOUR);
    await statusUntil((a) => a.messages === 7 && a.statusId === 'completed');
    expect(relay!.stdout).toMatch(/the wall clock moved \d+ min more than the timers .*missed runs start once/);
    // The clock moves again (each change makes the relay look): nothing more is due.
    setClock(offsetMs + 1_000);
    await relay!.waitForOutput(`test clock: wall clock offset ${offsetMs} ms, checked`);
    const jobs = backupJobs();
    expect(jobs).toHaveLength(2);
    expect(jobs[1]!.key).toMatch(/^schedule-alice-/);
  });

  it('after Connection Error (server down) the relay retries by itself once the server is back, within a few hours', async () => {
    await proxy.down();
    const failed = await cli(['backup', '--account', 'alice', '--json', ...D()]);
    expect(failed.code, failed.stderr).toBe(5); // Connection Error
    expect(JSON.parse(failed.stdout)).toMatchObject({ via: 'relay', statusId: 'connection_error', errorCode: 'CONNECTION_REFUSED' });
    const owed = await status();
    const a = owed.json.accounts[0]!;
    expect(owed.code).toBe(1);
    expect(a).toMatchObject({ status: 'Connection Error', errorCode: 'CONNECTION_REFUSED' });
    const retryIn = Date.parse(a.retryAt!) - (Date.now() + offsetMs);
    expect(retryIn).toBeGreaterThan(SCHEDULE_LIMITS.autoRetryDelayMs - 60_000);
    expect(retryIn).toBeLessThanOrEqual(SCHEDULE_LIMITS.autoRetryDelayMs);
    await proxy.up();
    await addMessages(1, 13);
    setClock(offsetMs + SCHEDULE_LIMITS.autoRetryDelayMs + 60_000);
    const back = await statusUntil((x) => x.statusId === 'completed' && x.messages === 8);
    expect(back.code).toBe(0);
    expect(back.json.accounts[0]!.retryAt).toBeNull();
    // Started by the relay itself (not the CLI): the owed retry, or a scheduled slot that came due
    // in the same look (the scheduler runs one backup for both and gives it the slot's key; whether
    // a slot is due too depends on how long the earlier tests took in real time).
    expect(backupJobs().at(-1)!.key).toMatch(/^(retry|schedule)-alice-/);
  });

  it('the job history and status survive a relay restart; with no relay, status and backup work on the data dir directly', async () => {
    const before = await status();
    const jobsBefore = backupJobs();
    expect(await relay!.stop()).toBe(0);
    relay = undefined;
    const offline = await status();
    expect(offline.json.relayRunning).toBe(false);
    expect(offline.json.accounts).toEqual(before.json.accounts);
    // Every account is Completed, but with no relay nothing runs by itself: a monitor hears it.
    expect(before.json.accounts.every((a) => a.statusId === 'completed')).toBe(true);
    expect({ code: offline.code, ok: offline.json.ok }).toEqual({ code: 1, ok: false });
    const offlineText = await cli(['status', ...D()]);
    expect(offlineText.code).toBe(1);
    expect(offlineText.stdout).toContain('Relay not running: the statuses above are the last known');
    const direct = await cli(['backup', '--account', USER.name, '--json', ...D()]);
    expect(direct.code, direct.stderr).toBe(0);
    expect(JSON.parse(direct.stdout)).toMatchObject({ via: 'direct', statusId: 'completed', account: 'alice' });
    relay = await startRelay();
    expect(backupJobs().slice(0, jobsBefore.length)).toEqual(jobsBefore);
    expect(backupJobs()).toHaveLength(jobsBefore.length + 1);
    const after = await status();
    expect(after.json).toMatchObject({ relayRunning: true, accounts: [{ statusId: 'completed', messages: 8 }] });
    const list = await cli(['account', 'list', '--json', ...D()]);
    expect(JSON.parse(list.stdout)).toMatchObject({ accounts: [{ id: 'alice', user: USER.name, hasPassword: true, schedule: { kind: 'every', hours: 6 } }] });
  });

  it('account edit and remove go through the running relay; the archive stays', async () => {
    const off = await cli(['schedule', 'alice', 'off', ...D()]);
    expect(off.code, off.stderr).toBe(0);
    expect((await status()).json.accounts[0]).toMatchObject({ status: 'Deactivated', nextRunAt: null });
    const edit = await cli(['account', 'edit', 'alice', '--password', ...D()], { MAILKEEP_PASSWORD: 'a-new-password-9' });
    expect(edit.code, edit.stderr).toBe(0);
    expect(edit.stdout).toContain('new password stored');
    const bad = await cli(['schedule', 'alice', 'every', '0h', ...D()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error INVALID_INPUT: /);
    const rm = await cli(['account', 'remove', 'alice', ...D()]);
    expect(rm.code, rm.stderr).toBe(0);
    expect((await status()).json.accounts).toEqual([]);
    expect(fs.existsSync(path.join(dataDir, 'archives', 'alice', 'index.sqlite'))).toBe(true);
    const gone = await cli(['status', ...D()]);
    expect(gone.code).toBe(1);
  });
});

describe('the relay process and an earlier relay\'s data dir', () => {
  it('imports jobs.json once on its first start and keeps it as jobs.json.imported', async () => {
    const dataDir = tempDataDir();
    const job = {
      id: 'j_0123456789ab', kind: 'backup', accountId: 'work', idempotencyKey: 'backup-work-2026-11-01',
      status: 'completed', phase: 'finished', errorCode: null,
      progress: { folder: null, messagesDone: 3, messagesTotal: 3, bytes: 300 },
      createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:01:00.000Z',
    };
    fs.writeFileSync(path.join(dataDir, 'jobs.json'), JSON.stringify({ v: 1, jobs: [job], params: {}, resumeOnStart: [] }), { mode: 0o600 });
    const relay = await RelayProcess.start(dataDir);
    try {
      expect(fs.existsSync(path.join(dataDir, 'jobs.json.imported'))).toBe(true);
      expect(fs.existsSync(path.join(dataDir, 'jobs.json'))).toBe(false);
      const db = new Database(path.join(dataDir, 'state.sqlite'), { readonly: true });
      expect(db.prepare('SELECT id FROM jobs').all()).toEqual([{ id: job.id }]);
      db.close();
    } finally {
      expect(await relay.stop()).toBe(0);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
