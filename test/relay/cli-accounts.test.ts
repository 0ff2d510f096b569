import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../relay/cli/main.ts';
import { idFromUser } from '../../relay/cli/account-command.ts';
import { acquireInstanceLock } from '../../relay/lock/lock-file.ts';

// The account, schedule and status commands with no relay running: they work on the data dir
// directly (under relay.lock). With a running relay: test/relay/relay-schedule-process.test.ts.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cli-acc-'));
  dirs.push(d);
  return d;
}

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  const code = await main(args, { out: out as unknown as NodeJS.WriteStream, err: err as unknown as NodeJS.WriteStream, env: { ...env } });
  return { code, out: o, err: e };
}

const PASSWORD = 'Cli-acc-pw-never-shown-31';

describe('mailkeep account, schedule and status without a relay', () => {
  it('adds, lists, schedules, reports and removes an account on the data dir, never printing the password', async () => {
    const D = dataDir();
    const add = await run(['account', 'add', '--host', 'imap.example.org', '--user', 'ada@example.org', '--data-dir', D], { MAILKEEP_PASSWORD: PASSWORD });
    expect(add.code, add.err).toBe(0);
    expect(add.out).toContain('Added account ada-example-org (ada@example.org at imap.example.org:993), schedule every 24h.');
    const list = await run(['account', 'list', '--json', '--data-dir', D]);
    expect(JSON.parse(list.out)).toEqual({ kind: 'account-list', accounts: [{ id: 'ada-example-org', host: 'imap.example.org', port: 993, security: 'tls', user: 'ada@example.org', hasPassword: true, schedule: { kind: 'every', hours: 24 } }] });
    const sched = await run(['schedule', 'ada@example.org', 'daily', '02:00', '--data-dir', D]);
    expect(sched.code, sched.err).toBe(0);
    expect(sched.out).toMatch(/^Schedule of ada-example-org: daily 02:00; next run \d{4}-\d\d-\d\d \d\d:\d\d \(.+\); it runs while the relay runs/);
    const status = await run(['status', '--json', '--data-dir', D]);
    expect(status.code).toBe(1); // not backed up yet: not all Completed
    expect(JSON.parse(status.out)).toMatchObject({ kind: 'status', ok: false, relayRunning: false, accounts: [{ id: 'ada-example-org', status: 'Not backed up yet', statusId: null, schedule: 'daily 02:00', lastSuccessAt: null, messages: 0, bytes: 0 }] });
    const text = await run(['status', '--data-dir', D]);
    expect(text.out).toContain('ada-example-org (ada@example.org): Not backed up yet');
    expect(text.out).toContain('Relay not running');
    const off = await run(['schedule', 'ada-example-org', 'off', '--data-dir', D]);
    expect(off.code).toBe(0);
    expect(JSON.parse((await run(['status', '--json', '--data-dir', D])).out).accounts[0]).toMatchObject({ status: 'Deactivated', nextRunAt: null });
    const rm = await run(['account', 'remove', 'ada-example-org', '--data-dir', D]);
    expect(rm.code, rm.err).toBe(0);
    const none = await run(['status', '--data-dir', D]);
    expect(none.code).toBe(1);
    expect(none.out).toContain('No accounts.');
    for (const r of [add, list, sched, status, text, off, rm, none]) expect(r.out + r.err).not.toContain(PASSWORD);
    expect(fs.existsSync(path.join(D, 'relay.lock'))).toBe(false); // released after each command
  });

  it('refuses what cannot work with a stable code: no password, a duplicate, an unknown account, a bad schedule', async () => {
    const D = dataDir();
    const noPw = await run(['account', 'add', '--host', 'h', '--user', 'u', '--data-dir', D]);
    expect(noPw).toMatchObject({ code: 2, err: expect.stringMatching(/^error INVALID_INPUT: no password: set MAILKEEP_PASSWORD/) });
    expect((await run(['account', 'add', '--host', 'h', '--user', 'u', '--data-dir', D], { MAILKEEP_PASSWORD: 'x' })).code).toBe(0);
    const dup = await run(['account', 'add', '--host', 'h2', '--user', 'u', '--data-dir', D], { MAILKEEP_PASSWORD: 'x' });
    expect(dup).toMatchObject({ code: 2, err: expect.stringMatching(/^error INVALID_INPUT: an account u exists already/) });
    const unknown = await run(['schedule', 'nobody', 'every', '6h', '--data-dir', D]);
    expect(unknown).toMatchObject({ code: 1, err: expect.stringMatching(/^error NOT_FOUND: no account nobody/) });
    for (const words of [['every', '0h'], ['every', '200h'], ['daily', '25:00'], ['weekly'], []]) {
      const bad = await run(['schedule', 'u', ...words, '--data-dir', D]);
      expect(bad.code, words.join(' ')).toBe(2);
      expect(bad.err).toMatch(/^error INVALID_INPUT: /);
    }
    const badPort = await run(['account', 'add', '--host', 'h', '--user', 'v', '--port', '70000', '--data-dir', D], { MAILKEEP_PASSWORD: 'x' });
    expect(badPort.code).toBe(2);
    const noAccount = await run(['backup', '--account', 'nobody', '--data-dir', D]);
    expect(noAccount).toMatchObject({ code: 1, err: expect.stringMatching(/^error NOT_FOUND: /) });
  });

  it('two commands at once on one data dir take turns: neither change is lost', async () => {
    const D = dataDir();
    const [a, b] = await Promise.all([
      run(['account', 'add', '--host', 'h', '--user', 'first@example.org', '--data-dir', D], { MAILKEEP_PASSWORD: 'x' }),
      run(['account', 'add', '--host', 'h', '--user', 'second@example.org', '--data-dir', D], { MAILKEEP_PASSWORD: 'y' }),
    ]);
    expect([a.code, b.code], a.err + b.err).toEqual([0, 0]);
    const list = JSON.parse((await run(['account', 'list', '--json', '--data-dir', D])).out) as { accounts: { id: string; hasPassword: boolean }[] };
    expect(list.accounts.map((x) => x.id).sort()).toEqual(['first-example-org', 'second-example-org']);
    expect(list.accounts.every((x) => x.hasPassword)).toBe(true);
  });

  it('waits for a data dir another process holds for a moment, then does its work', async () => {
    const D = dataDir();
    const held = acquireInstanceLock(D); // as a command (or a relay starting) holds it
    setTimeout(() => held.release(), 600);
    const status = await run(['status', '--json', '--data-dir', D]);
    expect(status.err).toBe('');
    expect(JSON.parse(status.out)).toMatchObject({ kind: 'status', accounts: [] });
  });

  it('keeps a display name and address given with --name and --email in state.sqlite, lists them, and changes them with account edit', async () => {
    const D = dataDir();
    const add = await run(['account', 'add', '--host', 'imap.example.org', '--user', 'mailkeep', '--name', 'Ada at work', '--email', 'ada@work.example', '--data-dir', D], { MAILKEEP_PASSWORD: PASSWORD });
    expect(add.code, add.err).toBe(0);
    const list = await run(['account', 'list', '--json', '--data-dir', D]);
    expect(JSON.parse(list.out).accounts).toEqual([expect.objectContaining({ id: 'mailkeep', user: 'mailkeep', name: 'Ada at work', email: 'ada@work.example' })]);
    expect((await run(['account', 'list', '--data-dir', D])).out).toContain('mailkeep  Ada at work <ada@work.example>  imap.example.org:993');
    const edit = await run(['account', 'edit', 'mailkeep', '--name', 'Ada (old job)', '--data-dir', D]);
    expect(edit.code, edit.err).toBe(0);
    expect(JSON.parse((await run(['account', 'list', '--json', '--data-dir', D])).out).accounts[0]).toMatchObject({ name: 'Ada (old job)', email: 'ada@work.example', user: 'mailkeep' });
    // Named by the address the pages show (not its login), the schedule quoted as one word as
    // --schedule takes it: found, and set.
    const byAddress = await run(['schedule', 'ADA@work.example', 'every 6h', '--data-dir', D]);
    expect(byAddress.code, byAddress.err).toBe(0);
    expect(JSON.parse((await run(['account', 'list', '--json', '--data-dir', D])).out).accounts[0]).toMatchObject({ id: 'mailkeep', schedule: { kind: 'every', hours: 6 } });
    const bad = await run(['account', 'edit', 'mailkeep', '--name', ' ', '--data-dir', D]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('--name');
  });

  it('makes a file-safe id from an e-mail address', () => {
    expect(idFromUser('Ada.Lovelace+mail@Example.org')).toBe('ada-lovelace-mail-example-org');
    expect(idFromUser('@@@')).toBe('account');
    expect(idFromUser('x'.repeat(100))).toHaveLength(64);
  });
});
