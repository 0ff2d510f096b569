import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import { applyBatch, type JournalOp } from '../../relay/archive/journal-ops.ts';
import { JournalAppender, JOURNAL_FILE_NO, journalFile } from '../../relay/archive/journal.ts';
import { HEADER_BYTES, recordHeader } from '../../relay/archive/pack-file.ts';
import { openIndex } from '../../relay/archive/schema.ts';
import { verifyArchive, type VerifyReport } from '../../relay/archive/verify.ts';
import { classifyImapError } from '../../relay/imap/classify-error.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { ERROR_HINTS } from '../../lib/status/error-hints.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { bigMessage, cliPeakRssMb } from '../support/large-message.ts';
import { runCli, startCli } from '../support/run-cli.ts';
import { startSlowProxy } from '../support/slow-proxy.ts';

const PW = 'vera-Secret-pw';

describe('a damaged archive index is ARCHIVE_DAMAGED wherever it is met', () => {
  it('classifies SQLite corruption as ARCHIVE_DAMAGED, never UNKNOWN or a connection error', () => {
    const sqlite = (code: string, message: string): Error => Object.assign(new Error(message), { code });
    expect(classifyImapError(sqlite('SQLITE_CORRUPT', 'database disk image is malformed'))).toBe('ARCHIVE_DAMAGED');
    expect(classifyImapError(sqlite('SQLITE_CORRUPT_INDEX', 'database disk image is malformed'))).toBe('ARCHIVE_DAMAGED');
    expect(classifyImapError(sqlite('SQLITE_NOTADB', 'file is not a database'))).toBe('ARCHIVE_DAMAGED');
    expect(classifyImapError(new Error('database disk image is malformed'))).toBe('ARCHIVE_DAMAGED');
    expect(classifyImapError(sqlite('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed'))).toBe('UNKNOWN');
    expect(ERROR_HINTS.ARCHIVE_DAMAGED).toMatch(/archive is damaged.*mailkeep repair --archive DIR/);
  });

  it('each archive and state-file code names one cause: damaged message bytes, a damaged archive, a missing index, the job list, the saved passwords', () => {
    expect(ERROR_HINTS.ARCHIVE_CORRUPT).toMatch(/messages are damaged.*restore skips them and restores the others; an export stops.*mailkeep verify --archive DIR/);
    expect(ERROR_HINTS.ARCHIVE_CORRUPT).not.toMatch(/report the problem|archive check found/);
    expect(ERROR_HINTS.ARCHIVE_INDEX_MISSING).toMatch(/mailkeep repair --archive DIR/);
    expect(ERROR_HINTS.JOBS_FILE_UNREADABLE).toMatch(/jobs\.json.*did not start; nothing was changed/);
    expect(ERROR_HINTS.CREDENTIALS_UNREADABLE).toMatch(/saved passwords.*did not start; nothing was changed/);
  });
});

describe.skipIf(!dovecotAvailable())('verify and every reader on a damaged archive of real mail', () => {
  let dc: Dovecot;
  let work: string;
  let pristine: string;
  let blobCount: number;
  let n = 0;

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ name: 'vera', password: PW }, { name: 'dst', password: PW }] });
    const msgs = generatedMessages(360, 11, { prefix: 'vd' });
    dc.writeMaildir('vera', '', msgs.slice(0, 300).map((raw, i) => ({ raw, flags: i % 2 ? 'S' : 'FS', date: new Date(Date.UTC(2021, 0, 1) + i * 60_000) })));
    dc.writeMaildir('vera', '.Work', msgs.slice(300).map((raw) => ({ raw, flags: 'S', date: new Date(Date.UTC(2022, 5, 1)) })));
    dc.settle('vera');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-verify-damage-'));
    pristine = path.join(work, 'pristine');
    const b = await runBackup({ archiveDir: pristine, account: { host: '127.0.0.1', port: dc.port, security: 'none', user: 'vera', password: PW } });
    expect(b.status).toBe('completed');
    const v = await verifyArchive(pristine);
    expect(v).toMatchObject({ ok: true, blobs: 360, messages: 360, problems: [], uncommittedTails: [], index: { integrity: 'ok' } });
    expect(v.packs.records).toBe(360);
    blobCount = v.blobs;
  }, 120_000);

  afterAll(async () => {
    await dc?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** A fresh copy of the sound archive to damage. */
  const copy = (): string => {
    const dir = path.join(work, `copy-${++n}`);
    fs.cpSync(pristine, dir, { recursive: true });
    return dir;
  };
  const packOf = (dir: string): string => path.join(dir, 'packs', fs.readdirSync(path.join(dir, 'packs')).filter((f) => f.endsWith('.mkp'))[0]!);
  /** Rows of the index, read (and changed) the way a bug or a hand would: plain SQLite. */
  const rawDb = (dir: string): Database.Database => {
    const db = new Database(path.join(dir, 'index.sqlite'));
    db.pragma('foreign_keys = OFF'); // better-sqlite3 turns them on; a bug or a hand would not ask
    return db;
  };
  const blobRows = (dir: string): { hash: string; offset: number; length: number }[] => {
    const db = rawDb(dir);
    try {
      return db.prepare('SELECT hash, offset, length FROM blobs ORDER BY offset').all() as { hash: string; offset: number; length: number }[];
    } finally {
      db.close();
    }
  };
  const kinds = (r: VerifyReport): string[] => r.problems.map((p) => p.kind).sort();
  const target = (...extra: string[]): string[] => ['--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', 'dst', '--password-env', 'MK_PW', ...extra];

  /** Overwrites the middle leaf page of `name` (the `messages` table) with garbage, as a bad sector or a stray write would. */
  function overwriteMiddlePage(dir: string, name = 'messages'): number {
    const file = path.join(dir, 'index.sqlite');
    const db = new Database(file);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.prepare("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno").pluck().all(name) as number[];
    db.close(); // checkpoints: the page is in the main file now
    expect(pages.length).toBeGreaterThan(1);
    const page = pages[Math.floor(pages.length / 2)]!;
    const garbage = Buffer.alloc(pageSize);
    for (let at = 0; at < pageSize; at += 32) crypto.createHash('sha256').update(`page ${at}`).digest().copy(garbage, at);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, garbage, 0, pageSize, (page - 1) * pageSize);
    fs.closeSync(fd);
    return page;
  }

  it('one overwritten SQLite page: verify, archive-info, export, restore (and its dry run) and backup all say ARCHIVE_DAMAGED and name repair', async () => {
    const dir = copy();
    overwriteMiddlePage(dir);
    const repair = `mailkeep repair --archive ${dir}`;

    const v = await runCli(['verify', '--archive', dir, '--json']);
    expect(v.code, v.stderr).toBe(1);
    expect(v.json).toMatchObject({ kind: 'verify', ok: false, errorCode: 'ARCHIVE_DAMAGED', index: { integrity: 'damaged' }, repair });
    const problems = v.json!.problems as VerifyReport['problems'];
    expect(problems[0]).toMatchObject({ kind: 'index_damaged', repair: expect.stringContaining('rebuilds the index from the packs') });
    // The packs were still scanned, record by record, and every message in them is sound.
    expect(v.json!.packs).toMatchObject({ files: 1, records: blobCount });
    expect(problems.filter((p) => p.kind !== 'index_damaged')).toEqual([]);
    const human = await runCli(['verify', '--archive', dir]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('ARCHIVE_DAMAGED index_damaged');
    expect(human.stdout).toContain(`Run "${repair}"`);
    expect(human.stdout).toMatch(new RegExp(`DAMAGED: index damaged; the packs alone: ${blobCount} record\\(s\\) in 1 pack\\(s\\)`));
    expect(human.stderr).not.toMatch(/SqliteError|at .*\.ts:\d+/);

    const info = await runCli(['archive-info', '--archive', dir]);
    expect(info.code).toBe(1);
    expect(info.stderr).toMatch(/^error ARCHIVE_DAMAGED: the archive's index is damaged \(database disk image is malformed\): run "mailkeep repair --archive /);
    const infoJson = await runCli(['archive-info', '--archive', dir, '--json']);
    expect(infoJson.json).toMatchObject({ kind: 'archive-info', errorCode: 'ARCHIVE_DAMAGED' });

    const out = path.join(work, `damaged-${n}.zip`);
    const ex = await runCli(['export', '--archive', dir, '--format', 'eml-zip', '--out', out, '--json']);
    expect(ex.code).toBe(6);
    expect(ex.json).toMatchObject({ statusId: 'failed', errorCode: 'ARCHIVE_DAMAGED', message: expect.stringContaining(repair) });
    expect(fs.existsSync(out)).toBe(false);

    for (const dry of [['--dry-run'], []]) {
      const r = await runCli(['restore', '--archive', dir, ...target('--json', '--max-attempts', '1', ...dry)], { MK_PW: PW });
      expect(r.code, r.stdout).toBe(6);
      expect(r.json).toMatchObject({ errorCode: 'ARCHIVE_DAMAGED', message: expect.stringContaining(repair) });
    }
    const c = await dc.client('dst', PW);
    expect(await c.status('INBOX', { messages: true })).toMatchObject({ messages: 0 }); // nothing half-restored
    await c.logout();

    // New mail makes the backup read the folder's rows (an unchanged folder is not even opened).
    const v2 = await dc.client('vera', PW);
    await v2.append('INBOX', Buffer.from('Subject: after the damage\r\nMessage-ID: <after@example.org>\r\n\r\nnew\r\n'));
    await v2.logout();
    const backup = ['backup', '--archive', dir, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', 'vera', '--password-env', 'MK_PW', '--max-attempts', '1'];
    const b = await runCli([...backup, '--json'], { MK_PW: PW });
    expect(b.json).toMatchObject({ errorCode: 'ARCHIVE_DAMAGED', failed: true });
    expect(b.json!.status).not.toBe('Connection Error');
    expect(b.code).toBe(6);
    const bh = await runCli(backup, { MK_PW: PW });
    expect(bh.stderr).toMatch(/error ARCHIVE_DAMAGED: [^]*nothing was changed[^]*mailkeep repair --archive /);
  }, 120_000);

  it('a damaged page of a secondary SQLite index only: index_damaged, and every row and record is still cross-checked', async () => {
    const dir = copy();
    overwriteMiddlePage(dir, 'messages_by_msgid');
    const r = await verifyArchive(dir);
    expect(r).toMatchObject({ ok: false, blobs: blobCount, messages: blobCount, index: { integrity: 'damaged' }, packs: { records: blobCount }, uncommittedTails: [] });
    expect(r.index.detail.join('\n')).toMatch(/messages_by_msgid|malformed|Page/i);
    expect(kinds(r)).toEqual(['index_damaged']);
  });

  it('a file that is not a database at all (its first page overwritten): verify scans the packs and says so, readers say ARCHIVE_DAMAGED', async () => {
    const dir = copy();
    const fd = fs.openSync(path.join(dir, 'index.sqlite'), 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 0);
    fs.closeSync(fd);
    const r = await verifyArchive(dir);
    expect(r).toMatchObject({ ok: false, index: { integrity: 'damaged' }, packs: { files: 1, records: blobCount } });
    expect(kinds(r)).toEqual(['index_damaged']);
    expect(() => openArchiveForReading(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_DAMAGED', message: expect.stringContaining('mailkeep repair --archive') }));
  });

  it('a missing index beside the packs: index_damaged (missing), and the packs are scanned', async () => {
    const dir = copy();
    fs.rmSync(path.join(dir, 'index.sqlite'));
    const r = await verifyArchive(dir);
    expect(r).toMatchObject({ ok: false, index: { integrity: 'missing' }, packs: { records: blobCount }, repair: `mailkeep repair --archive ${dir}` });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'index_damaged', detail: expect.stringContaining('is missing') })]);
  });

  it('one flipped byte in a message: hash_mismatch, naming its folder and UID', async () => {
    const dir = copy();
    const victim = blobRows(dir)[100]!;
    const fd = fs.openSync(packOf(dir), 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, victim.offset + 10);
    b[0] = b[0]! ^ 0x01;
    fs.writeSync(fd, b, 0, 1, victim.offset + 10);
    fs.closeSync(fd);
    const r = await verifyArchive(dir);
    expect(r.problems).toEqual([
      expect.objectContaining({ kind: 'hash_mismatch', hash: victim.hash, offset: victim.offset, messages: [expect.objectContaining({ folder: 'INBOX' })], repair: expect.stringContaining('cannot recover') }),
    ]);
    expect(r.index.integrity).toBe('ok');
  });

  it('a pack cut short inside a message: that message truncated, every later one missing, and no tail is mistaken for uncommitted', async () => {
    const dir = copy();
    const rows = blobRows(dir);
    const cut = rows[rows.length - 3]!;
    fs.truncateSync(packOf(dir), cut.offset + Math.floor(cut.length / 2));
    const r = await verifyArchive(dir);
    expect(kinds(r)).toEqual(['missing', 'missing', 'truncated']);
    expect(r.problems.find((p) => p.kind === 'truncated')).toMatchObject({ hash: cut.hash });
    expect(r.uncommittedTails).toEqual([]);
  });

  it('a whole record the index lost between two indexed ones: unindexed (repair re-indexes it), its membership dangling, and the journal still names it', async () => {
    const dir = copy();
    const victim = blobRows(dir)[50]!;
    const db = rawDb(dir);
    db.prepare('DELETE FROM blobs WHERE hash = ?').run(victim.hash);
    db.close();
    const r = await verifyArchive(dir);
    expect(kinds(r)).toEqual(['dangling_row', 'index_journal_mismatch', 'unindexed']);
    expect(r.problems.find((p) => p.kind === 'index_journal_mismatch')).toMatchObject({ row: { table: 'blobs', key: { hash: victim.hash } }, repair: 'repair restores this row from the journal' });
    expect(r.problems.find((p) => p.kind === 'unindexed')).toMatchObject({ hash: victim.hash, offset: victim.offset, bytes: victim.length, repair: expect.stringContaining('indexes it again') });
    expect(r.problems.find((p) => p.kind === 'dangling_row')).toMatchObject({ hash: victim.hash, messages: [expect.objectContaining({ folder: expect.any(String) })] });
  });

  it('an extra whole record appended to a pack: reported as an uncommitted tail naming it, not as damage of committed mail', async () => {
    const dir = copy();
    const extra = Buffer.from('Subject: appended\r\n\r\nnot from any backup\r\n');
    const hash = crypto.createHash('sha256').update(extra).digest('hex');
    const pack = packOf(dir);
    const end = fs.statSync(pack).size;
    fs.appendFileSync(pack, Buffer.concat([recordHeader(extra.length, hash), extra, Buffer.from('MKP1\0\0')]));
    const r = await verifyArchive(dir);
    expect(r.ok).toBe(true);
    expect(r.uncommittedTails).toEqual([{ kind: 'uncommitted_tail', pack: path.basename(pack), offset: end, bytes: HEADER_BYTES + extra.length + 6, records: 1, hashes: [hash] }]);
    const human = await runCli(['verify', '--archive', dir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`1 whole record(s)) after its committed end`);
  });

  it('a blob row pointing at the wrong offset: misplaced_row, and the record it should point at is unindexed', async () => {
    const dir = copy();
    const rows = blobRows(dir);
    const moved = rows[10]!;
    const other = rows[200]!;
    const db = rawDb(dir);
    db.prepare('UPDATE blobs SET offset = ? WHERE hash = ?').run(other.offset, moved.hash);
    db.close();
    const r = await verifyArchive(dir);
    expect(kinds(r)).toEqual(['index_journal_mismatch', 'misplaced_row', 'unindexed']);
    expect(r.problems.find((p) => p.kind === 'index_journal_mismatch')).toMatchObject({ row: { table: 'blobs', key: { hash: moved.hash } }, repair: "repair sets offset to the journal's value" });
    expect(r.problems.find((p) => p.kind === 'misplaced_row')).toMatchObject({ hash: moved.hash, offset: other.offset, detail: expect.stringContaining(other.hash.slice(0, 16)) });
    expect(r.problems.find((p) => p.kind === 'unindexed')).toMatchObject({ hash: moved.hash, offset: moved.offset });
  });

  it('a damaged record header before intact bytes: header_mismatch (the message itself is sound)', async () => {
    const dir = copy();
    const victim = blobRows(dir)[5]!;
    const fd = fs.openSync(packOf(dir), 'r+');
    fs.writeSync(fd, Buffer.from('XXXX'), 0, 4, victim.offset - HEADER_BYTES);
    fs.closeSync(fd);
    const r = await verifyArchive(dir);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'header_mismatch', hash: victim.hash, repair: expect.stringContaining('intact') })]);
  });

  it('rows pointing at a folder the index lost: broken_reference, counted per table', async () => {
    const dir = copy();
    const db = rawDb(dir);
    const work = db.prepare("SELECT id FROM folders WHERE name = 'Work'").pluck().get();
    db.prepare('DELETE FROM folders WHERE id = ?').run(work);
    db.close();
    const r = await verifyArchive(dir);
    expect(r.problems.map((p) => [p.kind, p.detail])).toEqual(
      expect.arrayContaining([
        ['broken_reference', '60 row(s) of messages point at a missing folders row'],
        ['broken_reference', '1 row(s) of checkpoints point at a missing folders row'],
      ]),
    );
    expect(new Set(kinds(r))).toEqual(new Set(['broken_reference', 'index_journal_mismatch']));
    expect(r.problems.filter((p) => p.kind === 'index_journal_mismatch')).toEqual([
      expect.objectContaining({ row: expect.objectContaining({ table: 'folders', key: { id: work } }), repair: 'repair restores this row from the journal' }),
    ]);
  });

  it('a pack file gone: every message it held is missing', async () => {
    const dir = copy();
    fs.rmSync(packOf(dir));
    const r = await verifyArchive(dir);
    expect(r.problems.length).toBe(blobCount);
    expect(new Set(kinds(r))).toEqual(new Set(['missing']));
  });

  it('garbage between two indexed records, where a lost record was overwritten: unreadable_region', async () => {
    const dir = copy();
    const victim = blobRows(dir)[70]!;
    const db = rawDb(dir);
    db.prepare('DELETE FROM blobs WHERE hash = ?').run(victim.hash);
    db.prepare('DELETE FROM messages WHERE blob_hash = ?').run(victim.hash);
    db.close();
    const fd = fs.openSync(packOf(dir), 'r+');
    fs.writeSync(fd, Buffer.alloc(HEADER_BYTES, 0xee), 0, HEADER_BYTES, victim.offset - HEADER_BYTES);
    fs.closeSync(fd);
    const r = await verifyArchive(dir);
    expect(r.problems.filter((p) => p.kind !== 'index_journal_mismatch')).toEqual([
      expect.objectContaining({ kind: 'unreadable_region', offset: victim.offset - HEADER_BYTES, bytes: HEADER_BYTES + victim.length }),
    ]);
    // The rows deleted by hand are still in the journal: repair brings them back (the bytes are lost).
    expect(r.problems.filter((p) => p.kind === 'index_journal_mismatch').map((p) => p.row!.table).sort()).toEqual(['blobs', 'messages']);
  });

  it('streams: verifying a 100 MB message raises peak RSS by far less than its size', async () => {
    const BIG_MB = 100;
    const small = copy();
    const big = copy();
    const msg = bigMessage('Subject: big\r\nMessage-ID: <big@example.org>\r\n\r\n', BIG_MB);
    const hash = crypto.createHash('sha256').update(msg).digest('hex');
    const pack = packOf(big);
    const offset = fs.statSync(pack).size + HEADER_BYTES;
    fs.appendFileSync(pack, Buffer.concat([recordHeader(msg.length, hash), msg]));
    // Committed as a writer commits: journal record first, then the index transaction applying it.
    const raw = rawDb(big);
    const packId = raw.prepare('SELECT id FROM packs WHERE file = ?').pluck().get(path.basename(pack)) as number;
    raw.close();
    const ops: JournalOp[] = [{ op: 'blob', h: hash, p: packId, o: offset, l: msg.length }, { op: 'packEnd', id: packId, end: offset + msg.length }];
    const j = new JournalAppender(journalFile(big), fs.statSync(journalFile(big)).size);
    const end = j.append(ops);
    j.close();
    const db = openIndex(path.join(big, 'index.sqlite'));
    applyBatch(db, ops, { file: JOURNAL_FILE_NO, offset: end });
    db.close();
    const s = await cliPeakRssMb(['verify', '--archive', small, '--json']);
    const l = await cliPeakRssMb(['verify', '--archive', big, '--json']);
    expect(s.json).toMatchObject({ ok: true });
    expect(l.json).toMatchObject({ ok: true, blobs: blobCount + 1 });
    expect(l.json!.bytes as number).toBeGreaterThan(msg.length);
    console.log(`verify peak RSS: small archive ${s.peak.toFixed(0)} MB, with the ${BIG_MB} MB message ${l.peak.toFixed(0)} MB`);
    expect(l.peak - s.peak, `small ${s.peak.toFixed(0)} MB, large ${l.peak.toFixed(0)} MB`).toBeLessThan(BIG_MB / 3);
  }, 120_000);

  it('beside a running backup (another process, committing every 20 messages), verify never reports damage', async () => {
    const proxy = await startSlowProxy(dc.port);
    proxy.throttle(16 * 1024); // ~0.5 MB/s: the backup is still running while verify reads
    const dir = path.join(work, 'live');
    try {
      const { done } = startCli(
        ['backup', '--archive', dir, '--host', '127.0.0.1', '--port', String(proxy.port), '--security', 'none', '--user', 'vera', '--password-env', 'MK_PW', '--json', '--commit-every', '20'],
        { MK_PW: PW },
      );
      let finished = false;
      void done.then(() => (finished = true));
      const seen: number[] = [];
      while (!finished) {
        if (fs.existsSync(path.join(dir, 'index.sqlite'))) {
          const r = await verifyArchive(dir);
          expect(r.problems, JSON.stringify(r.problems.slice(0, 3))).toEqual([]);
          if (r.journal.compared) seen.push(r.blobs);
        }
        await new Promise((res) => setTimeout(res, 10));
      }
      expect((await done).json).toMatchObject({ statusId: 'completed' });
      const final = await verifyArchive(dir);
      expect(final).toMatchObject({ ok: true, uncommittedTails: [], notes: [], journal: { compared: true, mismatchCount: 0, ahead: { records: 0 } } });
      expect(final.blobs).toBeGreaterThanOrEqual(blobCount);
      // Some checks really ran half way through the backup, each comparing its snapshot with the journal.
      expect(seen.some((b) => b > 0 && b < final.blobs), `blobs seen: ${seen.join(',')}`).toBe(true);
    } finally {
      proxy.close();
    }
  }, 120_000);
});
