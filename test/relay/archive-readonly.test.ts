import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchiveIndex } from '../../relay/archive/archive-reader.ts';
import { verifyArchive } from '../../relay/archive/verify.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { serverState } from '../support/mailbox-state.ts';
import { runCli } from '../support/run-cli.ts';

const PW = 'rosa-Secret-pw';
const FOLDERS = ['INBOX', 'Projekte/2024', 'Entwürfe'];
const isRoot = process.getuid?.() === 0;

/** Every entry of a zip, read by Python's zipfile (an independent reader): name -> sha256. */
function zipHashes(file: string): string[] {
  const r = spawnSync('python3', ['-c', 'import sys,zipfile,hashlib,json\nz=zipfile.ZipFile(sys.argv[1])\nprint(json.dumps(sorted(hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist())))', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python zip reader failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

/**
 * A read-only view of `src`. As root (permission bits do not bind root) a read-only bind mount, the
 * real thing; otherwise a copy with every write bit removed, which then really is read-only.
 */
function readOnlyView(src: string, into: string): { dir: string; release(): void } {
  fs.mkdirSync(into);
  if (!isRoot) {
    fs.cpSync(src, into, { recursive: true });
    spawnSync('chmod', ['-R', 'a-w', into]);
    return { dir: into, release: () => spawnSync('chmod', ['-R', 'u+w', into]) };
  }
  const m = spawnSync('mount', ['--bind', '-o', 'ro', src, into], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`cannot make a read-only bind mount as root: ${m.stderr}`);
  return {
    dir: into,
    release: () => {
      // A handle still open somewhere (a test that failed half way) must not leave the mount behind.
      if (spawnSync('umount', [into]).status !== 0) spawnSync('umount', ['-l', into]);
    },
  };
}

/** Copies an archive's committed files only: index.sqlite (no -wal/-shm), the journal and the packs. */
function committedCopy(src: string, dest: string): string {
  fs.mkdirSync(path.join(dest, 'packs'), { recursive: true });
  fs.cpSync(path.join(src, 'journal'), path.join(dest, 'journal'), { recursive: true });
  fs.copyFileSync(path.join(src, 'index.sqlite'), path.join(dest, 'index.sqlite'));
  for (const f of fs.readdirSync(path.join(src, 'packs'))) fs.copyFileSync(path.join(src, 'packs', f), path.join(dest, 'packs', f));
  return dest;
}

describe.skipIf(!dovecotAvailable())('a read-only archive (read-only mount or snapshot) is fully readable', () => {
  let dc: Dovecot;
  let work: string;
  let archive: string;
  let source: Map<string, string[]>;
  let infoBefore: Record<string, unknown>;
  const releases: (() => void)[] = [];
  let restores = 0;

  beforeAll(async () => {
    dc = await startDovecot({ users: ['rosa', 'dst1', 'dst2', 'dst3'].map((name) => ({ name, password: PW })) });
    const c = await dc.client('rosa', PW);
    const msgs = generatedMessages(45, 21, { prefix: 'ro' });
    for (const [i, f] of FOLDERS.entries()) {
      if (f !== 'INBOX') await c.mailboxCreate(f);
      for (let k = 0; k < 15; k++) await c.append(f, msgs[i * 15 + k]!, k % 2 ? ['\\Seen'] : ['\\Seen', '\\Flagged'], new Date(Date.UTC(2020, k, 3)));
    }
    source = await contents(c);
    await c.logout();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-readonly-'));
    const written = path.join(work, 'written');
    const b = await runBackup({ archiveDir: written, account: { host: '127.0.0.1', port: dc.port, security: 'none', user: 'rosa', password: PW } });
    expect(b.status).toBe('completed');
    // What a cleanly closed archive holds on disk: no -wal or -shm beside the index.
    expect(fs.readdirSync(written).filter((f) => f.startsWith('index.sqlite-'))).toEqual([]);
    archive = committedCopy(written, path.join(work, 'archive'));
    const info = await runCli(['archive-info', '--archive', written, '--json']);
    expect(info.code, info.stderr).toBe(0);
    infoBefore = info.json!;
  }, 120_000);

  afterAll(async () => {
    for (const r of releases.reverse()) r();
    await dc?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  async function contents(c: Awaited<ReturnType<Dovecot['client']>>): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const [folder, list] of await serverState(c)) if (list.length) out.set(folder, list.map((m) => `${m.hash} ${m.flags.join(',')} ${m.internalDate}`).sort());
    return out;
  }

  /** verify, archive-info, restore --dry-run, restore into Dovecot and export, on `dir`, with `env`. */
  async function readEverything(dir: string, env: Record<string, string>): Promise<void> {
    const v = await runCli(['verify', '--archive', dir, '--json'], env);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json).toMatchObject({ ok: true, blobs: 45, messages: 45, index: { integrity: 'ok', mode: 'immutable' }, problems: [] });
    expect(v.stderr).toBe(''); // no WAL was left out: nothing to warn about

    const info = await runCli(['archive-info', '--archive', dir, '--json'], env);
    expect(info.code, info.stderr).toBe(0);
    expect(info.json).toEqual(infoBefore);

    const user = `dst${++restores}`;
    const restore = ['restore', '--archive', dir, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', user, '--password-env', 'MK_PW', '--json'];
    const dry = await runCli([...restore, '--dry-run'], { ...env, MK_PW: PW });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ dryRun: true, plan: { toAppend: 45 } });
    const r = await runCli(restore, { ...env, MK_PW: PW });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ statusId: 'completed', restored: 45 });
    const c = await dc.client(user, PW);
    expect(await contents(c)).toEqual(source); // byte-identical, with flags and dates
    await c.logout();

    const out = path.join(work, `export-${restores}.zip`);
    const ex = await runCli(['export', '--archive', dir, '--format', 'eml-zip', '--out', out, '--json'], env);
    expect(ex.code, ex.stderr).toBe(0);
    expect(zipHashes(out)).toEqual([...source.values()].flat().map((l) => l.split(' ')[0]!).sort());
  }

  it(`on a ${isRoot ? 'read-only bind mount' : 'copy without write permission'}: verify, archive-info, restore (and --dry-run) and export all work, mail byte-identical`, async () => {
    const view = readOnlyView(committedCopy(archive, path.join(work, 'src-mount')), path.join(work, 'mount'));
    releases.push(view.release);
    expect(() => fs.writeFileSync(path.join(view.dir, 'probe'), 'x')).toThrow(/EROFS|EACCES/);
    await readEverything(view.dir, {});
  }, 120_000);

  it('through the immutable open, forced (MAILKEEP_INDEX_IMMUTABLE=1): the same, mail byte-identical', async () => {
    const dir = committedCopy(archive, path.join(work, 'forced'));
    await readEverything(dir, { MAILKEEP_INDEX_IMMUTABLE: '1' });
    // An immutable open writes nothing, not even -wal/-shm, although the directory is writable.
    expect(fs.readdirSync(dir).sort()).toEqual(['index.sqlite', 'journal', 'packs']);
    const ro = openArchiveIndex(dir, { immutable: true });
    expect(ro.mode).toBe('immutable');
    ro.db.close();
  }, 120_000);

  /** A snapshot taken while a writer had committed rows still in its WAL (not yet checkpointed). */
  function snapshotWithWal(name: string, withShm: boolean): string {
    const live = committedCopy(archive, path.join(work, `${name}-live`));
    const db = new Database(path.join(live, 'index.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.prepare("INSERT INTO accounts (host, port, user, created_at) VALUES ('late.example.org', 993, 'late', '2026-01-01T00:00:00Z')").run();
    const snap = path.join(work, `${name}-snap`);
    fs.mkdirSync(snap);
    for (const f of ['index.sqlite', 'index.sqlite-wal', ...(withShm ? ['index.sqlite-shm'] : []), 'journal', 'packs']) fs.cpSync(path.join(live, f), path.join(snap, f), { recursive: true });
    db.close();
    expect(fs.statSync(path.join(snap, 'index.sqlite-wal')).size).toBeGreaterThan(0);
    return snap;
  }

  it('a snapshot with committed rows still in index.sqlite-wal and no -shm: read as it is, with a warning that the newest rows may be missing', async () => {
    const snap = snapshotWithWal('walonly', false);
    const view = readOnlyView(snap, path.join(work, 'walonly-mount'));
    releases.push(view.release);
    const info = await runCli(['archive-info', '--archive', view.dir, '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stderr).toMatch(/^warning: .*index\.sqlite-wal holds \d+ bytes of committed changes .* the newest rows \(of the last backup\) may be missing/);
    expect(info.json).toEqual(infoBefore); // the older, committed state
    const v = await verifyArchive(view.dir);
    expect(v).toMatchObject({ ok: true, index: { mode: 'immutable' }, warnings: [expect.stringContaining('may be missing')] });
    const human = await runCli(['verify', '--archive', view.dir]);
    expect(human.code).toBe(0);
    expect(human.stderr).toContain('may be missing');
  }, 60_000);

  it('a snapshot with its -wal and -shm on a read-only location: the newest rows are read, no warning', async () => {
    const snap = snapshotWithWal('walshm', true);
    const view = readOnlyView(snap, path.join(work, 'walshm-mount'));
    releases.push(view.release);
    const info = await runCli(['archive-info', '--archive', view.dir, '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stderr).toBe('');
    expect((info.json!.accounts as { user: string }[]).map((a) => a.user)).toEqual(['rosa', 'late']);
  }, 60_000);

  it('a damaged index on a read-only location is ARCHIVE_DAMAGED, not "unable to open database file"', async () => {
    const dir = committedCopy(archive, path.join(work, 'damaged-src'));
    const fd = fs.openSync(path.join(dir, 'index.sqlite'), 'r+');
    fs.writeSync(fd, Buffer.alloc(100, 0x41), 0, 100, 0);
    fs.closeSync(fd);
    const view = readOnlyView(dir, path.join(work, 'damaged-mount'));
    releases.push(view.release);
    const info = await runCli(['archive-info', '--archive', view.dir]);
    expect(info.code).toBe(1);
    expect(info.stderr).toMatch(/^error ARCHIVE_DAMAGED: .*mailkeep repair --archive/);
    const v = await runCli(['verify', '--archive', view.dir, '--json']);
    expect(v.code).toBe(1);
    expect(v.json).toMatchObject({ errorCode: 'ARCHIVE_DAMAGED', index: { integrity: 'damaged' }, packs: { records: 45 } });
  }, 60_000);
});

describe('an index a writer never committed to, read read-only', () => {
  it('reads as an empty archive, by the read-only and by the immutable open alike, and writes nothing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-empty-index-'));
    try {
      // SQLite creates the file empty and writes it at the first commit; a kill before leaves 0 bytes.
      fs.writeFileSync(path.join(dir, 'index.sqlite'), '');
      for (const immutable of [false, true]) {
        const ro = openArchiveIndex(dir, { immutable });
        expect(ro.mode).toBe('empty');
        expect(ro.db.prepare('SELECT COUNT(*) FROM messages').pluck().get()).toBe(0);
        ro.db.close();
      }
      expect(await verifyArchive(dir)).toMatchObject({ ok: true, blobs: 0, problems: [] });
      expect(fs.readdirSync(dir)).toEqual(['index.sqlite']);
      expect(fs.statSync(path.join(dir, 'index.sqlite')).size).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
