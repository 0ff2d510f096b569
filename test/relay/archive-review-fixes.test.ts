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
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_HINTS } from '../../lib/status/error-hints.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { runCli, type CliResult } from '../support/run-cli.ts';

const USERS = ['olga', 'paul', 'quinn', 'rita', 'sven', 'tina'].map((name) => ({ name, password: `${name}-Secret-pw` }));
type User = (typeof USERS)[number];
const isRoot = process.getuid?.() === 0;

/** SHA-256 of every .eml in an eml-zip export, read by Python's zipfile (an independent reader). */
function zipHashes(zip: string): string[] {
  const r = spawnSync('python3', ['-c', 'import sys,zipfile,hashlib,json; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps(sorted(hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist() if n.endswith(".eml"))))', zip], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[];
}

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

  it.runIf(isRoot)('on a read-only mount, backup and repair fail with ARCHIVE_NOT_WRITABLE (backup exit 6, repair exit 1), while verify, archive-info, restore --dry-run and export still read it', async () => {
    const u = USERS[1]!;
    const dir = await archiveOf(u, 12, 1202);
    const ro = path.join(mk(), 'ro');
    fs.mkdirSync(ro);
    const m = spawnSync('mount', ['--bind', '-o', 'ro', dir, ro], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    mounts.push(ro);
    const before = snapshot(dir);

    const b = await backup(ro, u);
    expect(b.code).toBe(6);
    expect(b.json).toMatchObject({ failed: true, errorCode: 'ARCHIVE_NOT_WRITABLE' });
    expect(b.stdout + b.stderr).not.toMatch(RAW);
    const plain = await backup(ro, u, false);
    expect(plain.code).toBe(6);
    expect(plain.stderr).toMatch(/^error ARCHIVE_NOT_WRITABLE: .*read-only disk.*verify, archive-info, restore and export still read it/m);

    const newInside = await backup(path.join(ro, 'new-archive'), u); // Node's mkdir says ENOENT here
    expect(newInside.json).toMatchObject({ failed: true, errorCode: 'ARCHIVE_NOT_WRITABLE' });

    const rep = await runCli(['repair', '--archive', ro, '--json']);
    expect(rep.code).toBe(1);
    expect(rep.json).toMatchObject({ ok: false, errorCode: 'ARCHIVE_NOT_WRITABLE' });
    expect(rep.stderr).toMatch(/^error ARCHIVE_NOT_WRITABLE: /m);
    expect(rep.stderr).not.toMatch(RAW);

    // What the hint promises still works on the same mount.
    expect(ERROR_HINTS.ARCHIVE_NOT_WRITABLE).toMatch(/verify, archive-info, restore and export/);
    expect((await runCli(['verify', '--archive', ro])).code).toBe(0);
    expect((await runCli(['archive-info', '--archive', ro])).code).toBe(0);
    const restore = await runCli(['restore', '--archive', ro, '--dry-run', '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', USERS[4]!.name, '--password-env', 'MK_PW', '--json'], { MK_PW: USERS[4]!.password });
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    const out = path.join(mk(), 'all.zip');
    const ex = await runCli(['export', '--archive', ro, '--format', 'mbox', '--out', out]);
    expect(ex.code, ex.stderr).toBe(0);
    expect(fs.statSync(out).size).toBeGreaterThan(0);
    expect(snapshot(dir)).toEqual(before);
  }, 120_000);

  it('a regular file given as --archive (or as a folder above it) is ARCHIVE_PATH_INVALID for backup and repair, and the file is left as it was', async () => {
    const u = USERS[2]!;
    const file = path.join(mk(), 'notes.txt');
    fs.writeFileSync(file, 'my notes\n');
    for (const target of [file, path.join(file, 'archive')]) {
      const b = await backup(target, u);
      expect(b.code).toBe(6);
      expect(b.json).toMatchObject({ failed: true, errorCode: 'ARCHIVE_PATH_INVALID' });
      expect(b.stdout + b.stderr).not.toMatch(RAW);
      const rep = await runCli(['repair', '--archive', target, '--json']);
      expect(rep.code).toBe(1);
      expect(rep.json).toMatchObject({ ok: false, errorCode: 'ARCHIVE_PATH_INVALID' });
      expect(rep.stderr).toMatch(new RegExp(`^error ARCHIVE_PATH_INVALID: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a file, not a folder`, 'm'));
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('my notes\n');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['notes.txt']);
  }, 60_000);

  it('a folder named index.sqlite in the archive is ARCHIVE_PATH_INVALID for backup and repair, and repair does not move it', async () => {
    const u = USERS[2]!;
    const dir = await archiveOf(u, 5, 1203);
    const index = path.join(dir, 'index.sqlite');
    fs.renameSync(index, path.join(mk(), 'elsewhere.sqlite'));
    fs.mkdirSync(index);
    fs.writeFileSync(path.join(index, 'keep-me.txt'), 'mine');
    const before = snapshot(dir);
    const b = await backup(dir, u);
    expect(b.code).toBe(6);
    expect(b.json).toMatchObject({ failed: true, errorCode: 'ARCHIVE_PATH_INVALID' });
    expect(b.stdout + b.stderr).not.toMatch(RAW);
    const rep = await runCli(['repair', '--archive', dir, '--json']);
    expect(rep.code).toBe(1);
    expect(rep.json).toMatchObject({ ok: false, errorCode: 'ARCHIVE_PATH_INVALID' });
    expect(rep.stderr).toMatch(/index\.sqlite is a folder, not the archive's index file/);
    expect(snapshot(dir)).toEqual(before);
  }, 60_000);

  it('repair of an undamaged archive keeps the old index as index.sqlite.replaced-N and says it was sound; a damaged one is kept as .damaged-N', async () => {
    const u = USERS[3]!;
    const dir = await archiveOf(u, 20, 1204);
    const index = path.join(dir, 'index.sqlite');
    const sound = fs.readFileSync(index);

    const plain = await runCli(['repair', '--archive', dir]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/previous index was sound .*kept as index\.sqlite\.replaced-1/);
    expect(plain.stdout).not.toMatch(/damaged/);
    expect(fs.readFileSync(`${index}.replaced-1`)).toEqual(sound);
    const again = await runCli(['repair', '--archive', dir, '--json']);
    expect(again.json).toMatchObject({ ok: true, previousIndexKeptAs: 'index.sqlite.replaced-2', previousIndexSound: true });
    expect(fs.readdirSync(dir).filter((f) => f.includes('damaged'))).toEqual([]);

    // Overwrite whole pages, as a bad sector would: now it is damaged, and named so.
    const bytes = fs.readFileSync(index);
    const page = bytes.readUInt16BE(16);
    for (const p of [1, 2]) bytes.fill(0xa5, p * page, (p + 1) * page);
    fs.writeFileSync(index, bytes);
    const damaged = await runCli(['repair', '--archive', dir]);
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(damaged.stdout).toMatch(/previous index was damaged or unreadable; it is kept as index\.sqlite\.damaged-1/);
    expect(fs.readFileSync(`${index}.damaged-1`)).toEqual(bytes);
    expect((await runCli(['verify', '--archive', dir])).code).toBe(0);
  }, 60_000);

  it('verify\'s advice for a damaged message is what really happens: a later backup into the same archive does not fetch it again, a backup into a new archive folder keeps a good copy', async () => {
    const u = USERS[5]!;
    const msgs = generatedMessages(6, 1205);
    const dir = path.join(mk(), 'archive');
    const c = await dc.client(u.name, u.password);
    for (const m of msgs) await c.append('INBOX', m, ['\\Seen']);
    await c.logout();
    expect((await backup(dir, u)).json).toMatchObject({ status: 'Completed', messages: 6 });
    const db = new Database(path.join(dir, 'index.sqlite'), { readonly: true });
    const victim = db.prepare<[], { hash: string; pack_id: number; offset: number }>('SELECT hash, pack_id, offset FROM blobs ORDER BY offset LIMIT 1 OFFSET 2').get()!;
    db.close();
    const pack = path.join(dir, 'packs', `pack-${String(victim.pack_id).padStart(8, '0')}.mkp`);
    const fd = fs.openSync(pack, 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, victim.offset + 10);
    b[0] = b[0]! ^ 0x01;
    fs.writeSync(fd, b, 0, 1, victim.offset + 10);
    fs.closeSync(fd);

    const advice = async (): Promise<string[]> => {
      const v = await runCli(['verify', '--archive', dir, '--json']);
      const problems = (v.json as { problems: { kind: string; hash: string; repair: string }[] }).problems;
      return problems.filter((p) => p.kind === 'hash_mismatch' && p.hash === victim.hash).map((p) => p.repair);
    };
    const [said] = await advice();
    expect(said).toMatch(/a later backup into this archive does not fetch it again/);
    expect(said).toMatch(/a backup into a new, empty archive folder keeps a good copy/);
    expect(said).not.toMatch(/back (it|the message) up again/);

    // What it says about this archive: repair cannot heal it, and a backup does not fetch it.
    await runCli(['repair', '--archive', dir, '--json']);
    expect((await backup(dir, u)).json).toMatchObject({ status: 'Completed', messages: 0 });
    expect(await advice()).toHaveLength(1);

    // What it says about a new archive folder: the good copy, byte for byte.
    const fresh = path.join(mk(), 'fresh');
    expect((await backup(fresh, u)).json).toMatchObject({ status: 'Completed', messages: 6 });
    const out = path.join(mk(), 'all.zip');
    const ex = await runCli(['export', '--archive', fresh, '--format', 'eml-zip', '--out', out]);
    expect(ex.code, ex.stderr).toBe(0);
    expect(zipHashes(out)).toContain(victim.hash);
    expect(ERROR_HINTS.ARCHIVE_CORRUPT).toMatch(/does not fetch them again.*new, empty archive folder/);
  }, 120_000);
});
