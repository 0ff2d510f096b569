import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBatch, type JournalOp } from '../../relay/archive/journal-ops.ts';
import { JournalAppender, JOURNAL_FILE_NO, journalFile, readJournalFile } from '../../relay/archive/journal.ts';
import { HEADER_BYTES, PackAppender, recordHeader } from '../../relay/archive/pack-file.ts';
import { openIndex } from '../../relay/archive/schema.ts';
import { verifyArchive, type VerifyReport } from '../../relay/archive/verify.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { runCli } from '../support/run-cli.ts';

const PW = 'jo-Secret-pw';
const isRoot = process.getuid?.() === 0;

describe.skipIf(!dovecotAvailable())('verify checks the journal and the committed pack ends on archives of real backups', () => {
  let dc: Dovecot;
  let work: string;
  let pristine: string;
  let n = 0;
  const account = () => ({ host: '127.0.0.1', port: dc.port, security: 'none' as const, user: 'jo', password: PW });

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ name: 'jo', password: PW }] });
    const msgs = generatedMessages(70, 31, { prefix: 'vj' });
    const c = await dc.client('jo', PW);
    for (const f of ['Work', 'Old']) await c.mailboxCreate(f);
    for (let i = 0; i < 40; i++) await c.append('INBOX', msgs[i]!, i % 3 ? ['\\Seen'] : [], new Date(Date.UTC(2022, 1, 1 + i)));
    for (let i = 40; i < 55; i++) await c.append('Work', msgs[i]!, ['\\Seen'], new Date(Date.UTC(2022, 6, 1)));
    for (let i = 55; i < 62; i++) await c.append('Old', msgs[i]!, ['\\Seen'], new Date(Date.UTC(2021, 6, 1)));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-verify-journal-'));
    pristine = path.join(work, 'pristine');
    const run = async (): Promise<void> => expect((await runBackup({ archiveDir: pristine, account: account(), groupCommitMessages: 10 })).status).toBe('completed');
    await run();
    // Run 2: flags change, messages deleted on the server (gone marks), new mail.
    await c.mailboxOpen('INBOX');
    await c.messageFlagsAdd('1:5', ['\\Flagged', '$Project'], { uid: true });
    await c.messageFlagsRemove('2:3', ['\\Seen'], { uid: true });
    await c.messageDelete('6:8', { uid: true });
    for (let i = 62; i < 66; i++) await c.append('INBOX', msgs[i]!, [], new Date(Date.UTC(2023, 0, i)));
    await run();
    // Run 3: Work recreated with the same mail (UIDVALIDITY change), Old gone from the server.
    await c.mailboxClose();
    await c.mailboxDelete('Work');
    await new Promise((r) => setTimeout(r, 1100)); // Dovecot's UIDVALIDITY is a timestamp in seconds
    await c.mailboxCreate('Work');
    for (let i = 40; i < 55; i++) await c.append('Work', msgs[i]!, ['\\Seen'], new Date(Date.UTC(2022, 6, 1)));
    await c.mailboxDelete('Old');
    await run();
    // Run 4: nothing changed.
    await run();
    await c.logout();
  }, 120_000);

  afterAll(async () => {
    await dc?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const copy = (): string => {
    const dir = path.join(work, `copy-${++n}`);
    fs.cpSync(pristine, dir, { recursive: true });
    return dir;
  };
  const lastPack = (dir: string): string => path.join(dir, 'packs', fs.readdirSync(path.join(dir, 'packs')).filter((f) => f.endsWith('.mkp')).sort().at(-1)!);
  const packId = (file: string): number => Number(/(\d+)\.mkp$/.exec(file)![1]);
  /** The index as a bug or a hand would change it: plain SQLite, no foreign keys. */
  const rawDb = (dir: string): Database.Database => {
    const db = new Database(path.join(dir, 'index.sqlite'));
    db.pragma('foreign_keys = OFF');
    return db;
  };
  const kinds = (r: VerifyReport): string[] => [...new Set(r.problems.map((p) => p.kind))].sort();
  const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');
  /** Appends one whole record to the archive's last pack, as a writer would; returns its data offset. */
  const appendRecord = async (dir: string, data: Buffer): Promise<{ id: number; offset: number }> => {
    const file = lastPack(dir);
    const pack = new PackAppender(path.dirname(file), packId(file), fs.statSync(file).size);
    const offset = pack.append(data, sha(data));
    await pack.syncAsync();
    await pack.close();
    return { id: packId(file), offset };
  };
  /** Journals `ops` durably; with `apply`, also applies them to the index (a whole commit), else not (a writer killed in between). */
  const journal = (dir: string, ops: JournalOp[], apply: boolean): void => {
    const j = new JournalAppender(journalFile(dir), fs.statSync(journalFile(dir)).size);
    const end = j.append(ops);
    j.close();
    if (!apply) return;
    const db = openIndex(path.join(dir, 'index.sqlite'));
    applyBatch(db, ops, { file: JOURNAL_FILE_NO, offset: end });
    db.close();
  };

  it('a clean archive after several runs (flag changes, gone marks, a UIDVALIDITY change, a folder gone): verify is clean and the index equals the journal replay', async () => {
    const db = rawDb(pristine);
    // The history really holds each kind of fact.
    expect(db.prepare('SELECT COUNT(*) FROM messages WHERE gone_run IS NOT NULL').pluck().get()).toBeGreaterThanOrEqual(3 + 7 + 15);
    expect(db.prepare(`SELECT COUNT(*) FROM messages WHERE flags LIKE '%Flagged%' AND keywords LIKE '%$Project%'`).pluck().get()).toBe(5);
    expect(db.prepare(`SELECT COUNT(DISTINCT m.uidvalidity) FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.name = 'Work'`).pluck().get()).toBe(2);
    expect(db.prepare(`SELECT gone_run FROM folders WHERE name = 'Old'`).pluck().get()).not.toBeNull();
    db.close();
    const r = await verifyArchive(pristine);
    expect(r).toMatchObject({ ok: true, problems: [], uncommittedTails: [], notes: [], journal: { compared: true, mismatchCount: 0, damage: [], tornTail: null, ahead: { records: 0 } } });
    expect(r.journal.records).toBeGreaterThan(4);
    expect(r.journal.indexPosition).toBe(fs.statSync(journalFile(pristine)).size);
    const cli = await runCli(['verify', '--archive', pristine]);
    expect(cli.code, cli.stdout).toBe(0);
    expect(cli.stdout).toMatch(/^OK: index ok, .*journal \d+ record\(s\), index = journal replay, 0 problem\(s\)$/m);
  });

  it('a whole record past the committed end of its pack: an uncommitted tail (the next writer cuts it), not damage', async () => {
    const dir = copy();
    const extra = Buffer.from('Subject: past the end\r\n\r\nnever committed\r\n');
    const end = fs.statSync(lastPack(dir)).size;
    await appendRecord(dir, extra);
    const r = await verifyArchive(dir);
    expect(r).toMatchObject({ ok: true, problems: [] });
    expect(r.uncommittedTails).toEqual([expect.objectContaining({ offset: end, records: 1, hashes: [sha(extra)] })]);
    const cli = await runCli(['verify', '--archive', dir]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('1 whole record(s)) after its committed end');
  });

  it('a whole record inside the committed range that no blob row points at: unindexed damage, and repair adopts it', async () => {
    const dir = copy();
    const extra = Buffer.from('Subject: committed, unindexed\r\n\r\nno row\r\n');
    const { id, offset } = await appendRecord(dir, extra);
    journal(dir, [{ op: 'packEnd', id, end: offset + extra.length }], true); // the end moves past it; no blob op names it
    const r = await verifyArchive(dir);
    expect(kinds(r)).toEqual(['unindexed']);
    expect(r.problems[0]).toMatchObject({ hash: sha(extra), offset, bytes: extra.length });
    expect(r.uncommittedTails).toEqual([]);
    expect(r.journal).toMatchObject({ compared: true, mismatchCount: 0 });
    const rep = await runCli(['repair', '--archive', dir, '--json']);
    expect(rep.json).toMatchObject({ ok: true, blobsAdopted: [expect.objectContaining({ hash: sha(extra), offset })] });
    expect(await verifyArchive(dir)).toMatchObject({ ok: true, problems: [] });
  });

  it('a journal record damaged mid-file: journal_damaged with what it held and the index rows only it held, exit 1; repair rewrites the journal from the sound index and verify is clean', async () => {
    const dir = copy();
    const jfile = journalFile(dir);
    const records = [...readJournalFile(jfile)].filter((i) => i.kind === 'record');
    // The record of run 2's flag changes (not the last record: damage with valid records after it).
    const victim = records.find((i) => i.ops.some((o) => o.op === 'flags'))!;
    expect(victim).toBeDefined();
    expect(victim.end).toBeLessThan(fs.statSync(jfile).size);
    const bytes = fs.readFileSync(jfile);
    // One flipped bit in a UID's digit: the CRC fails, the JSON still parses (what it held is shown).
    const payload = bytes.subarray(victim.at + 12, victim.end).toString('latin1');
    expect(payload).toContain('"u":');
    const at = victim.at + 12 + payload.indexOf('"u":') + 4;
    bytes[at] = bytes[at]! ^ 0x01;
    fs.writeFileSync(jfile, bytes);
    const damagedBytes = bytes.subarray(victim.at, victim.end);

    const v = await runCli(['verify', '--archive', dir, '--json']);
    expect(v.code, v.stdout).toBe(1);
    expect(v.json).toMatchObject({ ok: false, errorCode: 'ARCHIVE_DAMAGED' });
    const problems = v.json!.problems as VerifyReport['problems'];
    expect(problems.filter((p) => p.kind === 'journal_damaged')).toEqual([
      expect.objectContaining({ offset: victim.at, bytes: victim.end - victim.at, detail: expect.stringMatching(/CRC mismatch.*still show \d+ op\(s\): .*flags/) }),
    ]);
    // The flags the damaged record set are in the index only: listed, with what repair does.
    const flagRows = problems.filter((p) => p.kind === 'index_journal_mismatch' && p.row?.table === 'messages' && String(p.row.index?.flags).includes('Flagged'));
    expect(flagRows.length).toBeGreaterThan(0);
    expect(flagRows[0]).toMatchObject({ repair: expect.stringMatching(/^repair sets flags, keywords.* to the journal's value$/), messages: [expect.objectContaining({ folder: 'INBOX' })] });
    expect(new Set(problems.map((p) => p.kind))).toEqual(new Set(['journal_damaged', 'index_journal_mismatch']));
    const human = await runCli(['verify', '--archive', dir]);
    expect(human.stdout).toMatch(/ARCHIVE_DAMAGED journal_damaged: journal bytes \d+-\d+ are no valid record \(CRC mismatch\)/);
    expect(human.stdout).toMatch(/ARCHIVE_DAMAGED index_journal_mismatch: messages folder_id=\d+ uidvalidity=\d+ uid=\d+: .*INBOX UID \d+ -> repair sets flags/);

    const rep = await runCli(['repair', '--archive', dir]);
    expect(rep.code, rep.stderr).toBe(0);
    // The index is sound and still holds what the damaged record said: repair rewrites the journal
    // from it (nothing is lost) and keeps the damaged journal beside it, byte for byte.
    expect(rep.stdout).toContain('the journal had lost records the index still held: rewritten from the index (the old journal is kept as journal-00000001.mkj.superseded-1)');
    expect(fs.readFileSync(path.join(dir, 'journal', 'journal-00000001.mkj.superseded-1')).subarray(victim.at, victim.end)).toEqual(damagedBytes);
    const after = await verifyArchive(dir);
    expect(after.problems).toEqual([]);
    expect(after.journal.mismatchCount).toBe(0);
  });

  for (const [what, edit, check] of [
    [
      'a flag changed',
      (db: Database.Database) => db.prepare(`UPDATE messages SET flags = '["\\\\Deleted"]' WHERE id = (SELECT MIN(id) FROM messages)`).run(),
      (r: VerifyReport) => expect(r.problems).toEqual([expect.objectContaining({ kind: 'index_journal_mismatch', repair: expect.stringContaining('repair sets flags to') })]),
    ],
    [
      'a membership deleted',
      (db: Database.Database) => db.prepare(`DELETE FROM messages WHERE id = (SELECT MAX(id) FROM messages)`).run(),
      (r: VerifyReport) => expect(r.problems).toEqual([expect.objectContaining({ kind: 'index_journal_mismatch', repair: 'repair restores this row from the journal' })]),
    ],
    [
      'a blob offset changed',
      (db: Database.Database) => {
        const [a, b] = db.prepare('SELECT hash, offset FROM blobs ORDER BY offset LIMIT 2').all() as { hash: string; offset: number }[];
        db.prepare('UPDATE blobs SET offset = ? WHERE hash = ?').run(b!.offset, a!.hash);
      },
      (r: VerifyReport) => {
        expect(kinds(r)).toEqual(['index_journal_mismatch', 'misplaced_row', 'unindexed']);
        expect(r.problems.find((p) => p.kind === 'index_journal_mismatch')).toMatchObject({ row: { table: 'blobs' }, repair: 'repair sets offset to the journal\'s value' });
      },
    ],
    [
      'a pack’s committed end changed',
      (db: Database.Database) => db.prepare('UPDATE packs SET end_offset = end_offset + 1000').run(),
      (r: VerifyReport) => expect(kinds(r)).toEqual(['index_journal_mismatch', 'pack_short']),
    ],
  ] as const) {
    it(`an index row edited with sqlite (${what}): index_journal_mismatch, exit 1, and after repair verify is clean`, async () => {
      const dir = copy();
      const db = rawDb(dir);
      edit(db);
      db.close();
      const r = await verifyArchive(dir);
      expect(r.ok).toBe(false);
      check(r);
      expect(r.journal.mismatchCount).toBeGreaterThan(0);
      const v = await runCli(['verify', '--archive', dir, '--json']);
      expect(v.code).toBe(1);
      expect(v.json).toMatchObject({ errorCode: 'ARCHIVE_DAMAGED' });
      expect((await runCli(['repair', '--archive', dir])).code).toBe(0);
      const after = await runCli(['verify', '--archive', dir, '--json']);
      expect(after.json, JSON.stringify((after.json?.problems as unknown[])?.slice(0, 3))).toMatchObject({ ok: true, problems: [] });
      expect(after.code).toBe(0);
    });
  }

  it('a journal ahead of the index (a writer killed between journal fsync and index commit): a note, not damage, exit 0', async () => {
    const dir = copy();
    const late = Buffer.from('Message-ID: <late@x>\r\nSubject: late\r\n\r\njournaled, not applied\r\n');
    const { id, offset } = await appendRecord(dir, late);
    const db = rawDb(dir);
    const f = db.prepare(`SELECT c.folder_id AS f, c.uidvalidity AS v FROM checkpoints c JOIN folders fo ON fo.id = c.folder_id WHERE fo.name = 'INBOX'`).get() as { f: number; v: number };
    db.close();
    journal(
      dir,
      [
        { op: 'blob', h: sha(late), p: id, o: offset, l: late.length },
        { op: 'msg', f: f.f, v: f.v, u: 9999, h: sha(late), fl: [], d: null, s: late.length, mid: '<late@x>', ms: null, r: 1 },
        { op: 'packEnd', id, end: offset + late.length },
      ],
      false,
    );
    const r = await verifyArchive(dir);
    expect(r).toMatchObject({ ok: true, problems: [], journal: { ahead: { records: 1 }, mismatchCount: 0 } });
    expect(r.notes).toEqual([expect.stringContaining('the journal holds 1 record(s)')]);
    expect(r.uncommittedTails).toEqual([expect.objectContaining({ records: 1, hashes: [sha(late)] })]); // past the index's committed end
    const cli = await runCli(['verify', '--archive', dir]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/note: the journal holds 1 record\(s\) .* rolls them forward/);
    // A torn journal tail (a commit cut short) is a note too.
    fs.appendFileSync(journalFile(dir), Buffer.from('MKJ1\0\0\0\x40'));
    const torn = await verifyArchive(dir);
    expect(torn).toMatchObject({ ok: true, journal: { tornTail: { bytes: 8 } } });
    expect(torn.notes).toContainEqual(expect.stringContaining('8 byte(s) that form no whole record'));
  });

  it('a pack file no journal record names: its whole records are unindexed (repair adopts them); a new pack a journal record past the index names is a tail', async () => {
    const dir = copy();
    const stray = Buffer.from('Subject: stray\r\n\r\nfrom nowhere\r\n');
    const strayFile = path.join(dir, 'packs', 'pack-00000077.mkp');
    fs.writeFileSync(strayFile, Buffer.concat([recordHeader(stray.length, sha(stray)), stray, Buffer.from('torn rest')]));
    const r = await verifyArchive(dir);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'unindexed', pack: 'pack-00000077.mkp', hash: sha(stray) })]);
    expect(r.uncommittedTails).toEqual([expect.objectContaining({ pack: 'pack-00000077.mkp', bytes: 9, records: 0 })]);
    const rep = await runCli(['repair', '--archive', dir, '--json']);
    expect(rep.json).toMatchObject({ packsAdopted: ['pack-00000077.mkp'], blobsAdopted: [expect.objectContaining({ hash: sha(stray) })] });
    // Adopted whole (its committed end is its size, so nothing of it is ever cut): the torn rest is
    // now inside the committed range, bytes that hold no message.
    const after = await verifyArchive(dir);
    expect(after.problems).toEqual([expect.objectContaining({ kind: 'unreadable_region', pack: 'pack-00000077.mkp', offset: HEADER_BYTES + stray.length, bytes: 9 })]);
    expect(after.journal.mismatchCount).toBe(0);

    // A backup that has just started pack 78: its pack op is in the journal, the index snapshot does not know it yet.
    const dir2 = copy();
    journal(dir2, [{ op: 'pack', id: 78, file: 'pack-00000078.mkp' }], false);
    const fresh = Buffer.from('Subject: new pack\r\n\r\nbeing written\r\n');
    fs.writeFileSync(path.join(dir2, 'packs', 'pack-00000078.mkp'), Buffer.concat([recordHeader(fresh.length, sha(fresh)), fresh]));
    const live = await verifyArchive(dir2);
    expect(live).toMatchObject({ ok: true, problems: [], journal: { ahead: { records: 1 } } });
    expect(live.uncommittedTails).toEqual([expect.objectContaining({ pack: 'pack-00000078.mkp', offset: 0, records: 1, hashes: [sha(fresh)] })]);
  });

  it('a journal file gone beside a sound index: journal_missing (the index is the only record left)', async () => {
    const dir = copy();
    fs.rmSync(journalFile(dir));
    const r = await verifyArchive(dir);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'journal_missing', repair: expect.stringContaining('writes a new journal from this index') })]);
    expect((await runCli(['repair', '--archive', dir])).code).toBe(0);
    expect(await verifyArchive(dir)).toMatchObject({ ok: true, problems: [] });
  });

  it('packs and a journal but no index.sqlite: archive-info, restore --dry-run and export say ARCHIVE_INDEX_MISSING naming repair, not NOT_FOUND', async () => {
    const dir = copy();
    fs.rmSync(path.join(dir, 'index.sqlite'));
    const repair = `mailkeep repair --archive ${dir}`;
    const info = await runCli(['archive-info', '--archive', dir, '--json']);
    expect(info.code).toBe(1);
    expect(info.json).toMatchObject({ errorCode: 'ARCHIVE_INDEX_MISSING' });
    expect(info.stderr).toContain(repair);
    const dry = await runCli(['restore', '--archive', dir, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', 'jo', '--password-env', 'MK_PW', '--dry-run', '--json'], { MK_PW: PW });
    expect(dry.json).toMatchObject({ errorCode: 'ARCHIVE_INDEX_MISSING', message: expect.stringContaining(repair) });
    const out = path.join(work, `no-index-${n}.zip`);
    const ex = await runCli(['export', '--archive', dir, '--format', 'eml-zip', '--out', out, '--json']);
    expect(ex.json).toMatchObject({ errorCode: 'ARCHIVE_INDEX_MISSING', message: expect.stringContaining(repair) });
    expect(fs.existsSync(out)).toBe(false);
    const v = await runCli(['verify', '--archive', dir, '--json']);
    expect(v.code).toBe(1);
    expect(v.json).toMatchObject({ errorCode: 'ARCHIVE_INDEX_MISSING', index: { integrity: 'missing' }, repair });
    // The journal alone (packs moved away) is still an archive that lost its index.
    fs.renameSync(path.join(dir, 'packs'), path.join(work, `packs-away-${n}`));
    expect((await runCli(['archive-info', '--archive', dir, '--json'])).json).toMatchObject({ errorCode: 'ARCHIVE_INDEX_MISSING' });
    // And a directory with neither is no archive at all.
    expect((await runCli(['archive-info', '--archive', path.join(work, 'nothing-here'), '--json'])).json).toMatchObject({ errorCode: 'NOT_FOUND' });
  });

  it(`on a read-only ${isRoot ? 'bind mount' : 'copy'}: verify still compares the index with the journal, finds an edited row, and writes nothing into the archive`, async () => {
    for (const edited of [false, true]) {
      const src = copy();
      if (edited) {
        const db = rawDb(src);
        db.prepare(`UPDATE messages SET flags = '[]' WHERE id = (SELECT MIN(id) FROM messages)`).run();
        db.close();
      }
      const view = path.join(work, `ro-${n}`);
      fs.mkdirSync(view);
      let release: () => void;
      if (isRoot) {
        const m = spawnSync('mount', ['--bind', '-o', 'ro', src, view], { encoding: 'utf8' });
        expect(m.status, m.stderr).toBe(0);
        release = () => void (spawnSync('umount', [view]).status === 0 || spawnSync('umount', ['-l', view]));
      } else {
        fs.rmdirSync(view);
        fs.cpSync(src, view, { recursive: true });
        spawnSync('chmod', ['-R', 'a-w', view]);
        release = () => void spawnSync('chmod', ['-R', 'u+w', view]);
      }
      try {
        const before = spawnSync('ls', ['-laR', '--time-style=full-iso', view], { encoding: 'utf8' }).stdout;
        const v = await runCli(['verify', '--archive', view, '--json']);
        expect(v.json).toMatchObject({ journal: { compared: true }, index: { integrity: 'ok' } });
        if (edited) {
          expect(v.code).toBe(1);
          expect((v.json!.problems as VerifyReport['problems']).map((p) => p.kind)).toEqual(['index_journal_mismatch']);
        } else expect(v.json, v.stdout).toMatchObject({ ok: true, problems: [] });
        expect(spawnSync('ls', ['-laR', '--time-style=full-iso', view], { encoding: 'utf8' }).stdout).toBe(before);
      } finally {
        release();
      }
    }
  });
});
