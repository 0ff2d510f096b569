import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { dumpIndex } from '../support/index-dump.ts';
import { countRows, sha256 } from '../support/mailbox-state.ts';
import { runCli, startCli } from '../support/run-cli.ts';

const ALICE = { name: 'rita', password: 'rita-Secret-pw' };
const CAROL = { name: 'tina', password: 'tina-Secret-pw' };
const BOB = { name: 'sam', password: 'sam-Secret-pw' };

/** SHA-256 of every .eml in an eml-zip export, read by Python's zipfile (an independent reader). */
function exportedHashes(zip: string): string[] {
  const r = spawnSync('python3', ['-c', 'import sys,zipfile,hashlib,json; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps(sorted(hashlib.sha256(z.read(n)).hexdigest() for n in z.namelist() if n.endswith(".eml"))))', zip], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[];
}

const packState = (dir: string): Record<string, string> =>
  Object.fromEntries(fs.readdirSync(path.join(dir, 'packs')).sort().map((f) => [f, sha256(fs.readFileSync(path.join(dir, 'packs', f)))]));
/** Each earlier pack's bytes are still the start of that pack now (packs are only appended to). */
const packsKeep = (dir: string, before: Record<string, Buffer>): boolean =>
  Object.entries(before).every(([f, b]) => fs.readFileSync(path.join(dir, 'packs', f)).subarray(0, b.length).equals(b));

describe.skipIf(!dovecotAvailable())('losing the archive index, with the real CLI and a real Dovecot', () => {
  let dc: Dovecot;
  const tmp: string[] = [];
  const mk = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-repair-dc-'));
    tmp.push(d);
    return d;
  };
  beforeAll(async () => {
    dc = await startDovecot({ users: [ALICE, BOB, CAROL] });
  });
  afterAll(async () => {
    await dc?.stop();
    for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  const backup = (dir: string, user: { name: string; password: string }) =>
    runCli(['backup', '--archive', dir, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', user.name, '--password-env', 'MK_PW', '--json'], { MK_PW: user.password });
  const exportAll = async (dir: string, user: string): Promise<string[]> => {
    const out = path.join(mk(), 'all.zip');
    const r = await runCli(['export', '--archive', dir, '--source', `${user}@127.0.0.1:${dc.port}`, '--format', 'eml-zip', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return exportedHashes(out);
  };

  /** Every message the server ever held for `user`, hashed as served (BODY.PEEK[]). */
  async function serverHashes(user: { name: string; password: string }): Promise<string[]> {
    const c = await dc.client(user.name, user.password);
    const out: string[] = [];
    for (const f of await c.list()) {
      const box = await c.mailboxOpen(f.path, { readOnly: true });
      if (box.exists > 0) for await (const m of c.fetch('1:*', { source: true }, { uid: true })) out.push(sha256(m.source!));
    }
    await c.logout();
    return out;
  }

  it('a deleted index stops the next backup (ARCHIVE_INDEX_MISSING, no pack byte touched); repair brings back every message ever archived, byte-identical', async () => {
    const c = await dc.client(ALICE.name, ALICE.password);
    const msgs = generatedMessages(40, 31);
    await c.mailboxCreate('Projekte');
    for (const m of msgs.slice(0, 30)) await c.append('INBOX', m, ['\\Seen']);
    for (const m of msgs.slice(30)) await c.append('Projekte', m, ['$Label1'], new Date(Date.UTC(2021, 4, 5, 6, 7, 8)));
    await c.logout();
    const dir = mk();
    expect((await backup(dir, ALICE)).code).toBe(0);
    const everything = (await serverHashes(ALICE)).sort();
    expect(everything).toHaveLength(40);

    // Mail deleted on the server: from now on only the archive has it.
    const d = await dc.client(ALICE.name, ALICE.password);
    await d.mailboxOpen('INBOX');
    await d.messageDelete('1:10', { uid: true });
    await d.mailboxDelete('Projekte');
    await d.logout();
    const second = await backup(dir, ALICE);
    expect(second.code).toBe(0);
    expect(second.json).toMatchObject({ disappeared: 20 });

    const packs = packState(dir);
    const packBytes = Object.fromEntries(Object.keys(packs).map((f) => [f, fs.readFileSync(path.join(dir, 'packs', f))]));
    fs.rmSync(path.join(dir, 'index.sqlite'));
    const refused = await backup(dir, ALICE);
    expect(refused.code).toBe(6);
    expect(refused.json).toMatchObject({ errorCode: 'ARCHIVE_INDEX_MISSING' });
    expect(JSON.stringify(refused.json)).toContain(`mailkeep repair --archive ${dir}`);
    expect(packState(dir)).toEqual(packs);
    expect(fs.existsSync(path.join(dir, 'index.sqlite'))).toBe(false);

    const repaired = await runCli(['repair', '--archive', dir, '--json']);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.json).toMatchObject({ kind: 'repair', ok: true, blobs: 40, blobsMissing: 0, blobsAdopted: [], journalDamage: [] });
    expect(packState(dir)).toEqual(packs);
    expect((await runCli(['verify', '--archive', dir, '--json'])).json).toMatchObject({ ok: true, blobs: 40 });
    expect(await exportAll(dir, ALICE.name)).toEqual(everything);

    // Another account into the same directory removes nothing.
    const b = await dc.client(BOB.name, BOB.password);
    for (const m of generatedMessages(5, 32)) await b.append('INBOX', m, []);
    await b.logout();
    expect((await backup(dir, BOB)).code).toBe(0);
    expect(packsKeep(dir, packBytes)).toBe(true);
    expect(await exportAll(dir, ALICE.name)).toEqual(everything);
    expect(countRows(dir, 'SELECT COUNT(*) FROM blobs')).toBe(45);
  }, 120_000);

  it('a damaged index stops the next backup with ARCHIVE_DAMAGED naming repair; repair rebuilds it and nothing is lost', async () => {
    const c = await dc.client(ALICE.name, ALICE.password);
    await c.mailboxCreate('Damage');
    for (const m of generatedMessages(60, 33)) await c.append('Damage', m, []);
    await c.logout();
    const dir = mk();
    expect((await backup(dir, ALICE)).code).toBe(0);
    const before = await exportAll(dir, ALICE.name);
    const index = path.join(dir, 'index.sqlite');
    const bytes = fs.readFileSync(index);
    const page = bytes.readUInt16BE(16);
    bytes.fill(0x5a, 2 * page, 3 * page);
    fs.writeFileSync(index, bytes);
    const packs = packState(dir);
    const refused = await backup(dir, ALICE);
    expect(refused.code).toBe(6);
    expect(refused.json).toMatchObject({ errorCode: 'ARCHIVE_DAMAGED' });
    expect(JSON.stringify(refused.json)).toContain(`mailkeep repair --archive ${dir}`);
    expect(packState(dir)).toEqual(packs);
    const repaired = await runCli(['repair', '--archive', dir]);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain('the previous index was damaged or unreadable; it is kept as index.sqlite.damaged-1');
    expect(fs.existsSync(`${index}.damaged-1`)).toBe(true);
    expect(await exportAll(dir, ALICE.name)).toEqual(before);
    const again = await backup(dir, ALICE);
    expect(again.code).toBe(0);
    expect(again.json).toMatchObject({ messages: 0 });
  }, 120_000);

  it('after backups killed mid-run (SIGKILL), the index repair rebuilds equals the live one, row for row', async () => {
    dc.writeMaildir(CAROL.name, '', generatedMessages(3000, 34).map((raw, i) => ({ raw, flags: i % 3 ? 'S' : 'FS' })));
    dc.settle(CAROL.name);
    const dir = mk();
    const args = ['backup', '--archive', dir, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', CAROL.name, '--password-env', 'MK_PW', '--json', '--commit-every', '100'];
    const committed = (): number => {
      try {
        return countRows(dir, 'SELECT COUNT(*) FROM messages');
      } catch {
        return 0;
      }
    };
    for (const threshold of [200, 1500]) {
      const { child, done } = startCli(args, { MK_PW: CAROL.password });
      let exited = false;
      void done.then(() => (exited = true));
      const deadline = Date.now() + 30_000;
      while (!exited && committed() < threshold && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (!exited && child.pid) child.kill('SIGKILL');
      expect((await done).signal).toBe('SIGKILL');
    }
    const final = await runCli(args, { MK_PW: CAROL.password });
    expect(final.code, final.stderr).toBe(0);
    expect(committed()).toBe(3000);
    const index = path.join(dir, 'index.sqlite');
    const live = dumpIndex(index);
    fs.rmSync(index);
    const repaired = await runCli(['repair', '--archive', dir, '--json']);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.json).toMatchObject({ blobsAdopted: [], blobsMissing: 0, journalDamage: [], blobs: 3000 });
    expect(dumpIndex(index)).toEqual(live);
  }, 120_000);
});
