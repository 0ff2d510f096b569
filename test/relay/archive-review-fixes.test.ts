/**
 * A hostile reviewer's findings on the archive work of issue 9, each with the real CLI and a real
 * Dovecot: archive-info must count "disappeared" as the backup did; a read-only disk, a file given
 * as the archive folder and a folder where the index belongs are named by a stable code, not raw
 * system text; repair names the index it kept by what happened to it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_HINTS } from '../../lib/status/error-hints.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { runCli, type CliResult } from '../support/run-cli.ts';

const USERS = ['olga', 'paul', 'quinn', 'rita', 'sven'].map((name) => ({ name, password: `${name}-Secret-pw` }));
type User = (typeof USERS)[number];
const isRoot = process.getuid?.() === 0;

/** Raw system or SQLite text a user must never get instead of a code. */
const RAW = /EROFS|ENOTDIR|EEXIST|EISDIR|unable to open database file|read-only file system/;

describe.skipIf(!dovecotAvailable())('archive review fixes, with the real CLI and a real Dovecot', () => {
  let dc: Dovecot;
  const tmp: string[] = [];
  const mounts: string[] = [];
  const mk = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-review-'));
    tmp.push(d);
    return d;
  };
  beforeAll(async () => {
    dc = await startDovecot({ users: USERS });
  });
  afterAll(async () => {
    for (const m of mounts) if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
    await dc?.stop();
    for (const d of tmp) {
      spawnSync('chmod', ['-R', 'u+w', d]);
      fs.rmSync(d, { recursive: true, force: true });
    }
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  const backup = (dir: string, u: User, json = true): Promise<CliResult> =>
    runCli(['backup', '--archive', dir, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', u.name, '--password-env', 'MK_PW', ...(json ? ['--json'] : [])], { MK_PW: u.password });
  const info = async (dir: string): Promise<{ runs: { id: number; disappeared: number }[] }> => {
    const r = await runCli(['archive-info', '--archive', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return (r.json as { accounts: { runs: { id: number; disappeared: number }[] }[] }).accounts[0]!;
  };

  /** A real archive of `n` messages in INBOX. */
  async function archiveOf(u: User, n: number, seed: number): Promise<string> {
    const dir = path.join(mk(), 'archive');
    const c = await dc.client(u.name, u.password);
    for (const m of generatedMessages(n, seed)) await c.append('INBOX', m, ['\\Seen']);
    await c.logout();
    const r = await backup(dir, u);
    expect(r.json, r.stderr).toMatchObject({ status: 'Completed' });
    return dir;
  }

  /** Every file of `dir` (recursively) -> its bytes as hex, to show nothing was changed. */
  function snapshot(dir: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
      const p = path.join(e.parentPath, e.name);
      out.set(path.relative(dir, p), e.isFile() ? fs.readFileSync(p).toString('hex') : e.isDirectory() ? 'dir' : 'other');
    }
    return out;
  }

  it('archive-info counts the messages that disappeared in each run exactly as that backup reported them, also across a UIDVALIDITY change', async () => {
    const u = USERS[0]!;
    const dir = path.join(mk(), 'archive');
    const msgs = generatedMessages(30, 1201);
    const c = await dc.client(u.name, u.password);
    await c.mailboxCreate('Work');
    for (const m of msgs) await c.append('Work', m, ['\\Seen'], new Date(Date.UTC(2021, 4, 6, 7, 8, 9)));
    const reported: number[] = [];
    const run = async (): Promise<void> => {
      const r = await backup(dir, u);
      expect(r.json, r.stderr).toMatchObject({ status: 'Completed' });
      reported.push(r.json!.disappeared as number);
    };
    await run();

    // The folder recreated with the same 30 messages: a new UIDVALIDITY, nothing gone.
    await c.mailboxDelete('Work');
    await new Promise((r) => setTimeout(r, 1100)); // Dovecot's UIDVALIDITY is a timestamp in seconds
    await c.mailboxCreate('Work');
    for (const m of msgs) await c.append('Work', m, ['\\Seen'], new Date(Date.UTC(2021, 4, 6, 7, 8, 9)));
    await run();

    // Recreated again with only 28 of them: two disappeared, under a UIDVALIDITY change.
    await c.mailboxDelete('Work');
    await new Promise((r) => setTimeout(r, 1100));
    await c.mailboxCreate('Work');
    for (const m of msgs.slice(2)) await c.append('Work', m, ['\\Seen'], new Date(Date.UTC(2021, 4, 6, 7, 8, 9)));
    await run();

    // One more deleted the ordinary way (same UIDVALIDITY).
    await c.mailboxOpen('Work');
    await c.messageDelete('1', { uid: true });
    await c.logout();
    await run();

    expect(reported).toEqual([0, 0, 2, 1]);
    expect((await info(dir)).runs.map((r) => r.disappeared)).toEqual(reported);
  }, 120_000);

});
