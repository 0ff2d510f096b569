/**
 * A hostile tester's findings on the archive (issue 9): damage a user's life brings (a journal cut
 * short by a bad copy or a disk, an index and journal both lost after a killed run), with the real
 * CLI and a real Dovecot. Every message the archive once held must survive repair and the next
 * backup byte-identical, and verify must not cry damage where nothing is lost.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordHeader } from '../../relay/archive/pack-file.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { archiveState, countRows, sha256 } from '../support/mailbox-state.ts';
import { runCli } from '../support/run-cli.ts';

const USERS = ['hilde', 'ivo', 'jana', 'kurt', 'lena', 'mira', 'nils'].map((name) => ({ name, password: `${name}-Secret-pw` }));
type User = (typeof USERS)[number];

/** The maildir file (cur/ or new/) of the message with this Message-ID. */
function maildirFileOf(maildir: string, raw: Buffer): string {
  const id = /^Message-ID: (<[^>]+>)/im.exec(raw.toString('latin1'))![1]!;
  for (const sub of ['cur', 'new']) {
    const d = path.join(maildir, sub);
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) if (fs.readFileSync(path.join(d, f), 'latin1').includes(`Message-ID: ${id}`)) return path.join(d, f);
  }
  throw new Error('message file not found');
}

/** SHA-256 of every .eml in an eml-zip export, read by Python's zipfile (an independent reader). */
function zipHashes(zip: string): string[] {
  const r = spawnSync('python3', ['-c', 'import sys,zipfile,hashlib,json; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps(sorted(hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist() if n.endswith(".eml"))))', zip], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[];
}

describe.skipIf(!dovecotAvailable())('an archive damaged the way a user damages it, with the real CLI and a real Dovecot', () => {
  let dc: Dovecot;
  const tmp: string[] = [];
  const mk = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-hostile-'));
    tmp.push(d);
    return d;
  };
  beforeAll(async () => {
    dc = await startDovecot({ users: USERS });
  });
  afterAll(async () => {
    await dc?.stop();
    for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  const backup = (dir: string, u: User, extra: string[] = []) =>
    runCli(['backup', '--archive', dir, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', u.name, '--password-env', 'MK_PW', '--json', ...extra], { MK_PW: u.password });
  const exportAll = async (dir: string, u: User): Promise<string[]> => {
    const out = path.join(mk(), 'all.zip');
    const r = await runCli(['export', '--archive', dir, '--source', `${u.name}@127.0.0.1:${dc.port}`, '--format', 'eml-zip', '--out', out, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return zipHashes(out);
  };
  const pack1 = (dir: string): string => path.join(dir, 'packs', 'pack-00000001.mkp');
  const journal = (dir: string): string => path.join(dir, 'journal', 'journal-00000001.mkj');

  /** 120 messages in three runs of small groups, then all of them deleted on the server: from then on only the archive has them. */
  async function archivedThenDeleted(u: User, seed: number): Promise<{ dir: string; hashes: string[] }> {
    const dir = mk();
    const msgs = generatedMessages(120, seed);
    const c = await dc.client(u.name, u.password);
    for (const m of msgs.slice(0, 60)) await c.append('INBOX', m, ['\\Seen', '$Work'], new Date(Date.UTC(2019, 2, 3, 4, 5, 6)));
    expect((await backup(dir, u, ['--commit-every', '10'])).code).toBe(0);
    for (const m of msgs.slice(60)) await c.append('INBOX', m, ['\\Flagged']);
    expect((await backup(dir, u, ['--commit-every', '10'])).code).toBe(0);
    await c.mailboxOpen('INBOX');
    await c.messageDelete('1:*', { uid: true });
    await c.logout();
    const third = await backup(dir, u);
    expect(third.json).toMatchObject({ status: 'Completed', disappeared: 120 });
    const hashes = await exportAll(dir, u);
    expect(hashes).toEqual(msgs.map((m) => sha256(m)).sort());
    return { dir, hashes };
  }

  it('a journal cut short (its last committed records lost) beside a sound index: repair keeps every message and membership, and the next backup cuts no pack byte', async () => {
    const u = USERS[0]!;
    const { dir, hashes } = await archivedThenDeleted(u, 901);
    const packBefore = fs.readFileSync(pack1(dir));
    const rowsBefore = archiveState(dir);
    fs.truncateSync(journal(dir), Math.floor(fs.statSync(journal(dir)).size * 0.3));

    const refused = await backup(dir, u);
    expect(refused.code).toBe(6);
    expect(refused.json).toMatchObject({ errorCode: 'ARCHIVE_DAMAGED' });
    const repaired = await runCli(['repair', '--archive', dir, '--json']);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.json).toMatchObject({ ok: true, blobs: 120, blobsMissing: 0 });
    expect(countRows(dir, 'SELECT COUNT(*) FROM messages')).toBe(120);

    const next = await backup(dir, u);
    expect(next.json).toMatchObject({ status: 'Completed', disappeared: 0 });
    expect(fs.readFileSync(pack1(dir)).equals(packBefore)).toBe(true);
    expect(archiveState(dir)).toEqual(rowsBefore);
    expect((await runCli(['verify', '--archive', dir, '--json'])).json).toMatchObject({ ok: true, blobs: 120 });
    expect(await exportAll(dir, u)).toEqual(hashes);
  }, 120_000);

  it('a journal cut short and the index lost too: repair keeps every message still whole in the packs, and the next backup cuts none of them', async () => {
    const u = USERS[1]!;
    const { dir, hashes } = await archivedThenDeleted(u, 902);
    const packBefore = fs.readFileSync(pack1(dir));
    fs.truncateSync(journal(dir), Math.floor(fs.statSync(journal(dir)).size * 0.3));
    for (const f of ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm']) fs.rmSync(path.join(dir, f), { force: true });

    const repaired = await runCli(['repair', '--archive', dir, '--json']);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.json).toMatchObject({ ok: true, blobs: 120, blobsMissing: 0 });
    expect((await backup(dir, u)).code).toBe(0);
    expect(fs.readFileSync(pack1(dir)).equals(packBefore)).toBe(true);
    expect((await runCli(['verify', '--archive', dir, '--json'])).json).toMatchObject({ ok: true, blobs: 120 });
    // Every message's bytes are still there, each under its own SHA-256 (the memberships the lost
    // journal records held are gone with them; the adopted blobs are listed by repair).
    const adopted = (repaired.json!.blobsAdopted as { hash: string }[]).map((b) => b.hash);
    const named = new Set(hashes);
    for (const h of adopted) expect(named.has(h)).toBe(true);
    expect(countRows(dir, 'SELECT COUNT(*) FROM blobs')).toBe(120);
  }, 120_000);

  it('a killed write left half a record at the end of a pack, then index and journal were both lost: after repair and the next backup verify finds no damage and nothing is lost', async () => {
    const u = USERS[2]!;
    const dir = mk();
    const c = await dc.client(u.name, u.password);
    for (const m of generatedMessages(40, 903)) await c.append('INBOX', m, []);
    expect((await backup(dir, u)).code).toBe(0);
    // A killed write: the header of one more message, announcing its whole length, and part of it.
    const cut = generatedMessages(1, 906)[0]!;
    fs.appendFileSync(pack1(dir), Buffer.concat([recordHeader(cut.length, sha256(cut)), cut.subarray(0, cut.length >> 1)]));
    fs.rmSync(path.join(dir, 'journal'), { recursive: true });
    for (const f of ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm']) fs.rmSync(path.join(dir, f), { force: true });
    const repaired = await runCli(['repair', '--archive', dir, '--json']);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.json).toMatchObject({ ok: true, blobs: 40 });

    for (const m of generatedMessages(10, 904)) await c.append('INBOX', m, []);
    await c.logout();
    expect((await backup(dir, u)).json).toMatchObject({ status: 'Completed' });
    const v = await runCli(['verify', '--archive', dir, '--json']);
    expect(v.json).toMatchObject({ ok: true, blobs: 50, problems: [] });
    expect(await exportAll(dir, u)).toHaveLength(50);
  }, 120_000);

  it('journal damage before the point a sound index has applied: repair keeps every membership, flag and INTERNALDATE the index holds', async () => {
    const u = USERS[3]!;
    const { dir, hashes } = await archivedThenDeleted(u, 905);
    const rowsBefore = archiveState(dir);
    const fd = fs.openSync(journal(dir), 'r+');
    fs.writeSync(fd, Buffer.from('garbage!'), 0, 8, 2000); // inside an early record
    fs.closeSync(fd);
    const repaired = await runCli(['repair', '--archive', dir, '--json']);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.json).toMatchObject({ ok: true, blobs: 120, messages: 120 });
    expect(archiveState(dir)).toEqual(rowsBefore);
    expect((await backup(dir, u)).json).toMatchObject({ status: 'Completed', disappeared: 0 });
    expect(await exportAll(dir, u)).toEqual(hashes);

    // The same at the very end of the journal: a record the index has applied, overwritten, looks
    // like a torn tail but holds committed facts.
    const size = fs.statSync(journal(dir)).size;
    const fd2 = fs.openSync(journal(dir), 'r+');
    fs.writeSync(fd2, Buffer.alloc(16, 0x21), 0, 16, size - 16);
    fs.closeSync(fd2);
    const again = await runCli(['repair', '--archive', dir, '--json']);
    expect(again.json).toMatchObject({ ok: true, blobs: 120, messages: 120, journalTailCut: 0 });
    expect(archiveState(dir)).toEqual(rowsBefore);
    expect((await backup(dir, u)).json).toMatchObject({ status: 'Completed', disappeared: 0 });
  }, 120_000);

  it('while one message stays unreadable, flag changes of the messages stored after it still reach the archive', async () => {
    const u = USERS[4]!;
    const dir = mk();
    const msgs = generatedMessages(6, 907);
    const c = await dc.client(u.name, u.password);
    for (const m of msgs) await c.append('INBOX', m, []);
    await c.mailboxOpen('INBOX'); // moves new/ to cur/ now, not later under our feet
    const bad = maildirFileOf(dc.maildir(u.name), msgs[1]!);
    fs.chmodSync(bad, 0o000);
    try {
      const first = await backup(dir, u);
      expect(first.json).toMatchObject({ status: 'Partially Completed', errorCode: 'MESSAGE_UNREADABLE' });
      await c.messageFlagsAdd('5', ['\\Seen', '$Paid'], { uid: true });
      await c.messageFlagsAdd('1', ['\\Flagged'], { uid: true });
      const second = await backup(dir, u);
      expect(second.json).toMatchObject({ status: 'Partially Completed', flagsUpdated: 2 });
      const held = new Map(archiveState(dir).get('INBOX')!.map((m) => [m.uid, m.flags]));
      expect(held.get(1)).toEqual(['\\Flagged']);
      expect(held.get(5)).toEqual(['$Paid', '\\Seen']);
    } finally {
      fs.chmodSync(bad, 0o600);
      await c.logout();
    }
  }, 120_000);

  it('a repair that finds mail or facts lost says so: exit 1 and ARCHIVE_DAMAGED, not ok', async () => {
    const u = USERS[0]!;
    const dir = mk();
    const c = await dc.client(u.name, u.password);
    await c.mailboxCreate('Lost');
    for (const m of generatedMessages(30, 908)) await c.append('Lost', m, ['\\Seen']);
    await c.logout();
    expect((await backup(dir, u, ['--commit-every', '5'])).code).toBe(0);
    const fd = fs.openSync(journal(dir), 'r+');
    fs.writeSync(fd, Buffer.from('garbage!'), 0, 8, 2000); // a record in the middle
    fs.closeSync(fd);
    for (const f of ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm']) fs.rmSync(path.join(dir, f), { force: true });
    const repaired = await runCli(['repair', '--archive', dir, '--json']);
    expect(repaired.code).toBe(1);
    expect(repaired.json).toMatchObject({ kind: 'repair', ok: false, errorCode: 'ARCHIVE_DAMAGED', journalDamage: [expect.objectContaining({ from: expect.any(Number) })] });
    const human = await runCli(['repair', '--archive', dir]);
    expect(human.code).toBe(0); // a second repair starts from the rebuilt, sound index: nothing more is lost
  }, 120_000);

  // A real full disk: a tiny tmpfs (root may mount one; CI runs as root).
  it.skipIf(process.getuid?.() !== 0 && !process.env.CI)('a disk that fills up during a backup: the result counts only what the archive holds; once space is freed the next run completes and loses nothing', async () => {
    const u = USERS[5]!;
    const mnt = mk();
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1500k', 'tmpfs', mnt]);
    expect(mounted.status, String(mounted.stderr)).toBe(0);
    try {
      const dir = path.join(mnt, 'archive');
      const msgs = generatedMessages(1500, 909);
      dc.writeMaildir(u.name, '.Full', msgs.map((raw) => ({ raw, flags: 'S' })));
      dc.settle(u.name);
      const full = await backup(dir, u, ['--commit-every', '50']);
      expect(full.code).toBe(6);
      expect(full.json).toMatchObject({ errorCode: 'DISK_FULL' });
      const held = countRows(dir, 'SELECT COUNT(*) FROM messages');
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThan(1500);
      expect(full.json!.messages).toBe(held);
      expect((await runCli(['verify', '--archive', dir, '--json'])).json).toMatchObject({ ok: true, blobs: held });

      expect(spawnSync('mount', ['-o', 'remount,size=20m', mnt]).status).toBe(0);
      const next = await backup(dir, u);
      expect(next.json).toMatchObject({ status: 'Completed' }); // what the journal held beyond the index is rolled forward, not fetched again
      expect((await runCli(['verify', '--archive', dir, '--json'])).json).toMatchObject({ ok: true, blobs: 1500, messages: 1500 });
      expect(await exportAll(dir, u)).toEqual(msgs.map((m) => sha256(m)).sort());
    } finally {
      spawnSync('umount', [mnt]);
    }
  }, 120_000);

  it('two deliveries with one Message-ID, size and INTERNALDATE but different bytes (aliases of equal length) are each stored as the server has them', async () => {
    const u = USERS[6]!;
    const dir = mk();
    const c = await dc.client(u.name, u.password);
    await c.append('INBOX', generatedMessages(1, 910)[0]!, []);
    expect((await backup(dir, u)).code).toBe(0); // the account has mail: the next run matches envelopes
    await c.mailboxCreate('Lists');
    const when = new Date(Date.UTC(2024, 5, 6, 7, 8, 9));
    const delivery = (alias: string): Buffer => Buffer.from(`Delivered-To: ${alias}@example.org\r\nFrom: a@example.net\r\nMessage-ID: <twice@example.net>\r\nSubject: hi\r\n\r\nsame body\r\n`);
    await c.append('INBOX', delivery('alice'), [], when);
    await c.append('Lists', delivery('bobby'), [], when);
    await c.logout();
    expect((await backup(dir, u)).json).toMatchObject({ status: 'Completed', messages: 2 });
    const held = archiveState(dir);
    expect(held.get('Lists')!.map((m) => m.hash)).toEqual([sha256(delivery('bobby'))]);
    expect(held.get('INBOX')!.map((m) => m.hash)).toContain(sha256(delivery('alice')));
  }, 120_000);
});
