import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import { ArchiveWriter, type MessageMeta } from '../../relay/archive/archive-writer.ts';
import { encodeRecord, JournalAppender, journalFile } from '../../relay/archive/journal.ts';
import { PackAppender, recordHeader } from '../../relay/archive/pack-file.ts';
import { repairArchive } from '../../relay/archive/repair.ts';
import { verifyArchive } from '../../relay/archive/verify.ts';
import { BlobReader } from '../../relay/jobs/restore-blob.ts';
import { dumpIndex } from '../support/index-dump.ts';
import { sha256 } from '../support/mailbox-state.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-repair-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const meta = (uid: number, extra: Partial<MessageMeta> = {}): MessageMeta => ({
  uid,
  uidvalidity: 7,
  flags: ['\\Seen', '$Work'],
  internalDate: new Date(Date.UTC(2023, 0, 2, 3, 4, uid % 60)),
  size: 0,
  messageId: `<m${uid}@x>`,
  modseq: String(100 + uid),
  ...extra,
});
const body = (tag: string): Buffer => Buffer.from(`Message-ID: <${tag}@x>\r\nSubject: ${tag}\r\n\r\nbody of ${tag}\r\n`);
const folder = (name: string) => ({ rawName: name, name, delimiter: '/', specialUse: null });

const dump = dumpIndex;

const packHashes = (dir: string): Record<string, string> =>
  Object.fromEntries(fs.readdirSync(path.join(dir, 'packs')).map((f) => [f, sha256(fs.readFileSync(path.join(dir, 'packs', f)))]));

/** Two accounts, several runs: every kind of fact the journal must carry. */
async function history(dir: string): Promise<{ bodies: Buffer[] }> {
  const bodies = Array.from({ length: 8 }, (_, i) => body(`m${i}`));
  let w = ArchiveWriter.open(dir, { groupCommitMessages: 3 });
  const alice = w.ensureAccount('imap.example.org', 993, 'alice');
  const run1 = w.beginRun(alice);
  const inbox = w.upsertFolder(alice, run1, folder('INBOX'));
  const arch = w.upsertFolder(alice, run1, { rawName: 'Entw&APw-rfe', name: 'Entwürfe', delimiter: '.', specialUse: '\\Drafts' });
  await w.resetCheckpoint(inbox, 7);
  await w.resetCheckpoint(arch, 7);
  for (let i = 0; i < 5; i++) {
    w.addBuffer(inbox, run1, meta(i + 1), bodies[i]!);
    await w.maybeCommit();
  }
  w.addBuffer(arch, run1, meta(1), bodies[0]!); // one blob, two memberships
  async function* chunks(): AsyncGenerator<Buffer> {
    yield bodies[5]!.subarray(0, 10);
    yield bodies[5]!.subarray(10);
  }
  await w.addStream(arch, run1, meta(2), chunks());
  w.advanceCursor(inbox, 7, 5);
  w.advanceCursor(arch, 7, 2);
  await w.completeFolder(inbox, run1, { uidvalidity: 7, uidnext: 6, messages: 5, highestModseq: '105' });
  w.recordRunFolder(run1, inbox, 'synced', { messages: 5, uidvalidity: 7, uidnext: 6 });
  w.recordRunFolder(run1, arch, 'synced', { messages: 2, uidvalidity: 7, uidnext: 3 });
  await w.finishRun(run1, 'completed', null);
  await w.close();

  w = ArchiveWriter.open(dir);
  const run2 = w.beginRun(alice);
  w.upsertFolder(alice, run2, folder('INBOX'));
  await w.markGone(inbox, 7, [1, 3, 5], run2); // 2 and 4 deleted on the server
  await w.updateFlags(inbox, 7, [{ uid: 1, flags: ['\\Flagged'], modseq: '200' }, { uid: 3, flags: ['\\Seen', '$Work'], modseq: null }]);
  await w.markMissingFolders(alice, new Set([inbox]), run2); // Entwürfe gone from the server
  await w.resetCheckpoint(inbox, 8); // UIDVALIDITY change
  w.addKnown(inbox, run2, meta(1, { uidvalidity: 8 }), sha256(bodies[0]!));
  w.recordRunFolder(run2, inbox, 'skipped');
  await w.finishRun(run2, 'partially_completed', 'MESSAGE_UNREADABLE');
  const bob = w.ensureAccount('imap.example.org', 993, 'bob');
  const run3 = w.beginRun(bob);
  const bobInbox = w.upsertFolder(bob, run3, folder('INBOX'));
  await w.resetCheckpoint(bobInbox, 1);
  w.addBuffer(bobInbox, run3, meta(1, { uidvalidity: 1, internalDate: null, messageId: null, modseq: null }), bodies[6]!);
  w.addBuffer(bobInbox, run3, meta(2, { uidvalidity: 1, flags: [] }), bodies[7]!);
  await w.finishRun(run3, 'completed', null);
  await w.close();
  return { bodies };
}

async function readBlob(dir: string, hash: string): Promise<Buffer> {
  const db = openArchiveForReading(dir);
  const r = new BlobReader(db, dir);
  try {
    return r.read(hash);
  } finally {
    r.close();
    db.close();
  }
}

describe('an archive whose index is lost or damaged', () => {
  it('rebuilds from the journal an index equal to the live one: same rows in every table, same ids', async () => {
    const dir = tmp();
    await history(dir);
    const live = dump(path.join(dir, 'index.sqlite'));
    expect(live.messages!.length).toBe(10);
    fs.rmSync(path.join(dir, 'index.sqlite'));
    const r = await repairArchive(dir);
    expect(r).toMatchObject({ blobsAdopted: [], packsAdopted: [], journalDamage: [], blobsMissing: 0, blobs: 8, messages: 10, previousIndexKeptAs: null });
    expect(dump(path.join(dir, 'index.sqlite'))).toEqual(live);
    expect((await verifyArchive(dir)).ok).toBe(true);
  });

  it('repair never lets the WAL of a deleted index into the new one: it is kept aside with it', async () => {
    const dir = tmp();
    await history(dir);
    const index = path.join(dir, 'index.sqlite');
    const live = dump(index);
    // A killed writer leaves index.sqlite-wal beside the index; then only index.sqlite is deleted.
    const w = ArchiveWriter.open(dir);
    const acc = w.ensureAccount('imap.example.org', 993, 'alice');
    w.beginRun(acc);
    await w.flush();
    const wal = fs.readFileSync(`${index}-wal`);
    expect(wal.length).toBeGreaterThan(0);
    await w.close();
    const withRun = dump(index);
    fs.rmSync(index);
    fs.writeFileSync(`${index}-wal`, wal);
    expect(() => ArchiveWriter.open(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_INDEX_MISSING' }));
    const r = await repairArchive(dir);
    expect(r.previousIndexKeptAs).toBe('index.sqlite.damaged-1');
    expect(fs.readFileSync(`${index}.damaged-1-wal`)).toEqual(wal);
    expect(fs.existsSync(`${index}-wal`) && fs.statSync(`${index}-wal`).size > 0).toBe(false);
    expect(dump(index)).toEqual(withRun);
    expect(withRun.runs!.length).toBe(live.runs!.length + 1);
  });

  it('a writer that finds packs but no index refuses with ARCHIVE_INDEX_MISSING naming repair, and changes no pack byte', async () => {
    const dir = tmp();
    await history(dir);
    const packs = packHashes(dir);
    fs.rmSync(path.join(dir, 'index.sqlite'));
    expect(() => ArchiveWriter.open(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_INDEX_MISSING', message: expect.stringContaining(`mailkeep repair --archive ${dir}`) }));
    expect(fs.existsSync(path.join(dir, 'index.sqlite'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'archive.lock'))).toBe(false);
    expect(packHashes(dir)).toEqual(packs);
    // A journal alone (packs moved away) is refused too: it is the rest of the archive.
    fs.renameSync(path.join(dir, 'packs'), path.join(dir, 'packs-away'));
    expect(() => ArchiveWriter.open(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_INDEX_MISSING' }));
  });

  it('a writer refuses a damaged index with ARCHIVE_DAMAGED naming repair; repair keeps the damaged file and loses nothing', async () => {
    const dir = tmp();
    const { bodies } = await history(dir);
    const index = path.join(dir, 'index.sqlite');
    const live = dump(index);
    const bytes = fs.readFileSync(index);
    const page = bytes.readUInt16BE(16);
    expect(bytes.length / page).toBeGreaterThan(4);
    for (const p of [2, 3, 4]) bytes.fill(0xa5, p * page, (p + 1) * page); // overwrite whole pages, as a bad sector would
    fs.writeFileSync(index, bytes);
    const packs = packHashes(dir);
    expect(() => ArchiveWriter.open(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_DAMAGED', message: expect.stringContaining('mailkeep repair --archive') }));
    expect(packHashes(dir)).toEqual(packs);
    const r = await repairArchive(dir);
    expect(r.previousIndexKeptAs).toBe('index.sqlite.damaged-1');
    expect(fs.readFileSync(path.join(dir, 'index.sqlite.damaged-1'))).toEqual(bytes);
    expect(dump(index)).toEqual(live);
    for (const b of bodies) expect(await readBlob(dir, sha256(b))).toEqual(b);
    await ArchiveWriter.open(dir).close(); // writable again
  });

  it('rolls forward journal records the index never applied (killed between journal fsync and index commit)', async () => {
    const dir = tmp();
    await history(dir);
    const index = path.join(dir, 'index.sqlite');
    const before = dump(index);
    // What a killed writer leaves: pack bytes made durable, their journal record durable, no index commit.
    const extra = body('late');
    const packId = Number(/(\d+)/.exec(fs.readdirSync(path.join(dir, 'packs')).sort().at(-1)!)![1]);
    const end = fs.statSync(path.join(dir, 'packs', fs.readdirSync(path.join(dir, 'packs')).sort().at(-1)!)).size;
    const pack = new PackAppender(path.join(dir, 'packs'), packId, end);
    const offset = pack.append(extra, sha256(extra));
    await pack.syncAsync();
    await pack.close();
    const j = new JournalAppender(journalFile(dir), fs.statSync(journalFile(dir)).size);
    j.append([
      { op: 'run', id: 99, account: 1, at: '2024-05-06T07:08:09.000Z' },
      { op: 'blob', h: sha256(extra), p: packId, o: offset, l: extra.length },
      { op: 'msg', f: 1, v: 8, u: 2, h: sha256(extra), fl: ['\\Answered'], d: null, s: extra.length, mid: '<late@x>', ms: null, r: 99 },
      { op: 'cursor', f: 1, v: 8, last: 2, at: '2024-05-06T07:08:10.000Z' },
      { op: 'packEnd', id: packId, end: offset + extra.length },
    ]);
    j.close();
    expect(dump(index)).toEqual(before);
    await ArchiveWriter.open(dir).close();
    const db = openArchiveForReading(dir);
    expect(db.prepare('SELECT uid, flags FROM messages WHERE blob_hash = ?').get(sha256(extra))).toEqual({ uid: 2, flags: '["\\\\Answered"]' });
    expect(db.prepare('SELECT last_uid FROM checkpoints WHERE folder_id = 1').pluck().get()).toBe(2);
    db.close();
    expect(await readBlob(dir, sha256(extra))).toEqual(extra);
    expect((await verifyArchive(dir)).ok).toBe(true);
    // And a repair reaches the very same index.
    const rolled = dump(index);
    await repairArchive(dir);
    expect(dump(index)).toEqual(rolled);
  });

  it('cuts a torn journal tail and the pack bytes of that uncommitted group, and nothing before them', async () => {
    const dir = tmp();
    const { bodies } = await history(dir);
    const jfile = journalFile(dir);
    const journalSize = fs.statSync(jfile).size;
    const packFile = path.join(dir, 'packs', fs.readdirSync(path.join(dir, 'packs')).sort().at(-1)!);
    const packSize = fs.statSync(packFile).size;
    const lost = body('never committed');
    fs.appendFileSync(packFile, Buffer.concat([recordHeader(lost.length, sha256(lost)), lost]));
    const rec = encodeRecord([{ op: 'blob', h: sha256(lost), p: 1, o: packSize + 44, l: lost.length }]);
    fs.appendFileSync(jfile, rec.subarray(0, rec.length - 5)); // the write was cut short
    const before = dump(path.join(dir, 'index.sqlite'));
    await ArchiveWriter.open(dir).close();
    expect(fs.statSync(jfile).size).toBe(journalSize);
    expect(fs.statSync(packFile).size).toBe(packSize);
    expect(dump(path.join(dir, 'index.sqlite'))).toEqual(before);
    for (const b of bodies) expect(await readBlob(dir, sha256(b))).toEqual(b);
    // A CRC failure at the tail is cut the same way.
    const bad = Buffer.from(rec);
    bad[bad.length - 3] = bad[bad.length - 3]! ^ 0xff;
    fs.appendFileSync(jfile, bad);
    await ArchiveWriter.open(dir).close();
    expect(fs.statSync(jfile).size).toBe(journalSize);
  });

  it('keeps a pack the journal never named, never writes into it, and repair adopts its records as blobs', async () => {
    const dir = tmp();
    await history(dir);
    const stray = [body('stray one'), body('stray two')];
    const strayFile = path.join(dir, 'packs', 'pack-00000040.mkp');
    fs.writeFileSync(strayFile, Buffer.concat(stray.flatMap((b) => [recordHeader(b.length, sha256(b)), b])));
    fs.appendFileSync(strayFile, 'torn record of some crash');
    const strayBytes = fs.readFileSync(strayFile);
    const w = ArchiveWriter.open(dir);
    const acc = w.ensureAccount('imap.example.org', 993, 'carol');
    const run = w.beginRun(acc);
    const f = w.upsertFolder(acc, run, folder('INBOX'));
    await w.resetCheckpoint(f, 1);
    w.addBuffer(f, run, meta(1, { uidvalidity: 1 }), body('carol one')); // appended to the last pack the journal knows
    await w.close();
    expect(fs.readFileSync(strayFile)).toEqual(strayBytes);
    expect(await readBlob(dir, sha256(body('carol one')))).toEqual(body('carol one'));
    const r = await repairArchive(dir);
    expect(r.packsAdopted).toEqual(['pack-00000040.mkp']);
    expect(r.blobsAdopted.map((b) => b.hash).sort()).toEqual(stray.map(sha256).sort());
    expect(fs.readFileSync(strayFile)).toEqual(strayBytes);
    for (const b of stray) expect(await readBlob(dir, sha256(b))).toEqual(b);
    // Adopted once, known from then on: the journal names them, a second repair adopts nothing new.
    const again = await repairArchive(dir);
    expect(again).toMatchObject({ blobsAdopted: [], blobsMissing: 0 });
    expect(again.previousIndexKeptAs).toBe('index.sqlite.replaced-2');
    // Once adopted it is the last known pack: a writer appends after its torn bytes, never over them.
    const w2 = ArchiveWriter.open(dir);
    const run2 = w2.beginRun(acc);
    w2.addBuffer(f, run2, meta(2, { uidvalidity: 1 }), body('carol two'));
    await w2.finishRun(run2, 'completed', null);
    await w2.close();
    expect(fs.readFileSync(strayFile).subarray(0, strayBytes.length)).toEqual(strayBytes);
    const third = await repairArchive(dir);
    expect(third).toMatchObject({ blobsAdopted: [], blobsMissing: 0, recordsDamaged: [] });
    expect(await readBlob(dir, sha256(body('carol two')))).toEqual(body('carol two'));
  });

  it('a writer refuses damage inside journal records the index has not applied yet (not a torn tail) with ARCHIVE_DAMAGED', async () => {
    const dir = tmp();
    await history(dir);
    const jfile = journalFile(dir);
    const at = fs.statSync(jfile).size;
    const j = new JournalAppender(jfile, at);
    j.append([{ op: 'run', id: 50, account: 1, at: '2024-01-01T00:00:00.000Z' }]);
    j.append([{ op: 'runEnd', id: 50, at: '2024-01-01T00:00:01.000Z', status: 'completed', code: null }]);
    j.close();
    const bytes = fs.readFileSync(jfile);
    bytes[at + 14] = bytes[at + 14]! ^ 0xff; // inside the first unapplied record; the second stays valid
    fs.writeFileSync(jfile, bytes);
    expect(() => ArchiveWriter.open(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_DAMAGED', message: expect.stringContaining('mailkeep repair --archive') }));
    expect(fs.readFileSync(jfile)).toEqual(bytes); // nothing cut: it is not the tail
    const r = await repairArchive(dir);
    expect(r.journalDamage).toEqual([expect.objectContaining({ from: at, reason: 'CRC mismatch' })]);
    await ArchiveWriter.open(dir).close();
  });

  it('reads a journal larger than its read window record by record, and resumes after damage far into it', async () => {
    const dir = tmp();
    await history(dir);
    const jfile = journalFile(dir);
    const j = new JournalAppender(jfile, fs.statSync(jfile).size);
    const pad = 'x'.repeat(2000);
    const starts: number[] = [];
    for (let i = 0; i < 3000; i++) {
      starts.push(j.size);
      j.append([{ op: 'runFolder', run: 1, f: 1, state: 'synced', n: i, v: 7, next: null }, { op: 'account', id: 1, host: pad, port: 1, user: 'u', at: 'x' }]);
    }
    j.close();
    const bytes = fs.readFileSync(jfile);
    const hit = starts[2500]!; // past the first 4 MiB window
    expect(hit).toBeGreaterThan(4 * 1024 * 1024);
    bytes[hit + 100] = bytes[hit + 100]! ^ 0xff;
    fs.writeFileSync(jfile, bytes);
    fs.rmSync(path.join(dir, 'index.sqlite'));
    const r = await repairArchive(dir);
    expect(r.journalDamage).toEqual([{ from: hit, to: starts[2501], reason: 'CRC mismatch' }]);
    expect(r.blobsMissing).toBe(0);
    const db = openArchiveForReading(dir);
    expect(db.prepare('SELECT messages FROM run_folders WHERE run_id = 1 AND folder_id = 1').pluck().get()).toBe(2999);
    db.close();
  });

  it('repair refuses while a backup holds the archive, and names a missing archive', async () => {
    const dir = tmp();
    await history(dir);
    const w = ArchiveWriter.open(dir);
    await expect(repairArchive(dir)).rejects.toMatchObject({ code: 'ARCHIVE_LOCKED' });
    await w.close();
    await expect(repairArchive(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('repair reports journal damage mid-file and keeps every blob its lost records named', async () => {
    const dir = tmp();
    const { bodies } = await history(dir);
    const jfile = journalFile(dir);
    const j = fs.readFileSync(jfile);
    // Damage the first record (account, run, folders): later records stay readable.
    j[20] = j[20]! ^ 0xff;
    fs.writeFileSync(jfile, j);
    fs.rmSync(path.join(dir, 'index.sqlite'));
    const r = await repairArchive(dir);
    expect(r.journalDamage).toEqual([expect.objectContaining({ from: 0, reason: 'CRC mismatch' })]);
    expect(r.journalRecords).toBeGreaterThan(3);
    for (const b of bodies) expect(await readBlob(dir, sha256(b))).toEqual(b);
    // The damaged journal is kept byte for byte beside the one rewritten from the rebuilt index.
    expect(fs.readFileSync(`${jfile}.damaged-1`)).toEqual(j);
    expect(r.previousJournalKeptAs).toBe(`${path.basename(jfile)}.damaged-1`);
    const again = await repairArchive(dir);
    expect(again.journalDamage).toEqual([]);
    expect(again.messages).toBe(r.messages);
  });
});

/** The version-1 schema as Mailkeep 1 wrote it (index, packs, no journal). */
const V1_DDL = `
CREATE TABLE accounts (id INTEGER PRIMARY KEY, host TEXT NOT NULL, port INTEGER NOT NULL, user TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (host, port, user));
CREATE TABLE runs (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), started_at TEXT NOT NULL, finished_at TEXT, status TEXT, error_code TEXT, new_messages INTEGER NOT NULL DEFAULT 0, new_bytes INTEGER NOT NULL DEFAULT 0);
CREATE TABLE folders (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id), raw_name TEXT NOT NULL, name TEXT NOT NULL, delimiter TEXT, special_use TEXT, added_run INTEGER NOT NULL, gone_run INTEGER, UNIQUE (account_id, raw_name));
CREATE TABLE checkpoints (folder_id INTEGER PRIMARY KEY REFERENCES folders(id), uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL DEFAULT 0, highestmodseq TEXT, uidnext INTEGER, messages INTEGER, complete_run INTEGER, updated_at TEXT NOT NULL);
CREATE TABLE packs (id INTEGER PRIMARY KEY, file TEXT NOT NULL UNIQUE);
CREATE TABLE blobs (hash TEXT PRIMARY KEY, pack_id INTEGER NOT NULL REFERENCES packs(id), offset INTEGER NOT NULL, length INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE messages (id INTEGER PRIMARY KEY, folder_id INTEGER NOT NULL REFERENCES folders(id), uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL, blob_hash TEXT NOT NULL REFERENCES blobs(hash), flags TEXT NOT NULL, keywords TEXT NOT NULL, internaldate TEXT, size INTEGER NOT NULL, message_id TEXT, modseq TEXT, added_run INTEGER NOT NULL, gone_run INTEGER, UNIQUE (folder_id, uidvalidity, uid));
CREATE INDEX messages_by_blob ON messages(blob_hash);
CREATE INDEX messages_by_msgid ON messages(message_id, size);
CREATE INDEX messages_gone ON messages(gone_run) WHERE gone_run IS NOT NULL;
CREATE TABLE run_folders (run_id INTEGER NOT NULL REFERENCES runs(id), folder_id INTEGER NOT NULL REFERENCES folders(id), state TEXT NOT NULL, messages INTEGER, uidvalidity INTEGER, uidnext INTEGER, PRIMARY KEY (run_id, folder_id)) WITHOUT ROWID;
PRAGMA user_version = 1;
`;

function version1Archive(dir: string, bodies: Buffer[]): void {
  fs.mkdirSync(path.join(dir, 'packs'));
  let at = 0;
  const locs: { hash: string; offset: number; length: number }[] = [];
  const pack = Buffer.concat(
    bodies.flatMap((b) => {
      locs.push({ hash: sha256(b), offset: at + 44, length: b.length });
      at += 44 + b.length;
      return [recordHeader(b.length, sha256(b)), b];
    }),
  );
  fs.writeFileSync(path.join(dir, 'packs', 'pack-00000001.mkp'), pack, { mode: 0o600 });
  const db = new Database(path.join(dir, 'index.sqlite'));
  db.exec(V1_DDL);
  db.prepare("INSERT INTO accounts VALUES (1, 'imap.example.org', 993, 'old', '2022-01-01T00:00:00.000Z')").run();
  db.prepare("INSERT INTO runs VALUES (1, 1, '2022-01-01T00:00:00.000Z', '2022-01-01T00:01:00.000Z', 'completed', NULL, ?, ?)").run(bodies.length, pack.length);
  db.prepare("INSERT INTO runs VALUES (2, 1, '2022-02-01T00:00:00.000Z', '2022-02-01T00:01:00.000Z', 'completed', NULL, 0, 0)").run();
  db.prepare("INSERT INTO folders VALUES (1, 1, 'INBOX', 'INBOX', '/', NULL, 1, NULL)").run();
  db.prepare("INSERT INTO checkpoints VALUES (1, 5, ?, '9', ?, ?, 2, '2022-02-01T00:01:00.000Z')").run(bodies.length, bodies.length + 1, bodies.length - 1);
  db.prepare("INSERT INTO packs VALUES (1, 'pack-00000001.mkp')").run();
  locs.forEach((l, i) => {
    db.prepare('INSERT INTO blobs VALUES (?, 1, ?, ?)').run(l.hash, l.offset, l.length);
    db.prepare(`INSERT INTO messages (folder_id, uidvalidity, uid, blob_hash, flags, keywords, internaldate, size, message_id, modseq, added_run, gone_run)
      VALUES (1, 5, ?, ?, '["\\\\Seen"]', '["$Old"]', '2021-12-31T23:59:59.000Z', ?, ?, NULL, 1, ?)`).run(i + 1, l.hash, l.length, `<v1-${i}@x>`, i === 0 ? 2 : null);
  });
  db.prepare("INSERT INTO run_folders VALUES (2, 1, 'synced', ?, 5, ?)").run(bodies.length - 1, bodies.length + 1);
  db.close();
  fs.chmodSync(path.join(dir, 'index.sqlite'), 0o644); // as version 1 left it
}

describe('a version-1 archive (index and packs, no journal)', () => {
  it('is upgraded with a bootstrap journal on first open by a writer, then survives losing its index', async () => {
    const dir = tmp();
    const bodies = [body('v1 a'), body('v1 b'), body('v1 c')];
    version1Archive(dir, bodies);
    const oldPack = fs.readFileSync(path.join(dir, 'packs', 'pack-00000001.mkp'));
    // Readers do not upgrade: only a writer writes the journal, before anything else.
    openArchiveForReading(dir).close();
    expect(fs.existsSync(journalFile(dir))).toBe(false);
    const w = ArchiveWriter.open(dir);
    expect(fs.statSync(journalFile(dir)).size).toBeGreaterThan(0);
    const run = w.beginRun(1);
    w.upsertFolder(1, run, folder('INBOX'));
    w.addBuffer(1, run, meta(4, { uidvalidity: 5 }), body('v2 d'));
    await w.finishRun(run, 'completed', null);
    await w.close();
    expect(fs.statSync(path.join(dir, 'index.sqlite')).mode & 0o777).toBe(0o600);
    const upgraded = dump(path.join(dir, 'index.sqlite'));
    expect(upgraded.messages!.length).toBe(4);
    // Appended to, never rewritten: the old pack is a prefix of the new one.
    expect(fs.readFileSync(path.join(dir, 'packs', 'pack-00000001.mkp')).subarray(0, oldPack.length)).toEqual(oldPack);
    fs.rmSync(path.join(dir, 'index.sqlite'));
    const r = await repairArchive(dir);
    expect(r).toMatchObject({ blobsAdopted: [], blobsMissing: 0, messages: 4 });
    expect(dump(path.join(dir, 'index.sqlite'))).toEqual(upgraded);
    for (const b of [...bodies, body('v2 d')]) expect(await readBlob(dir, sha256(b))).toEqual(b);
  });

  it('repair run on it before any backup keeps every row of its index (it writes the bootstrap journal first)', async () => {
    const dir = tmp();
    version1Archive(dir, [body('v1 a'), body('v1 b')]);
    const r = await repairArchive(dir);
    expect(r).toMatchObject({ blobsAdopted: [], blobsMissing: 0, blobs: 2, messages: 2, previousIndexKeptAs: 'index.sqlite.replaced-1', previousIndexSound: true });
    const db = openArchiveForReading(dir);
    expect(db.prepare('SELECT uid, flags, keywords, gone_run FROM messages ORDER BY uid').all()).toEqual([
      { uid: 1, flags: '["\\\\Seen"]', keywords: '["$Old"]', gone_run: 2 },
      { uid: 2, flags: '["\\\\Seen"]', keywords: '["$Old"]', gone_run: null },
    ]);
    db.close();
  });

  it('repair of a version-1 archive that lost its index keeps every blob from the packs (its folders were only in that index)', async () => {
    const dir = tmp();
    const bodies = [body('v1 a'), body('v1 b')];
    version1Archive(dir, bodies);
    fs.rmSync(path.join(dir, 'index.sqlite'));
    expect(() => ArchiveWriter.open(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_INDEX_MISSING' }));
    const r = await repairArchive(dir);
    expect(r.blobsAdopted.map((b) => b.hash).sort()).toEqual(bodies.map(sha256).sort());
    expect(r.packsAdopted).toEqual(['pack-00000001.mkp']);
    for (const b of bodies) expect(await readBlob(dir, sha256(b))).toEqual(b);
  });
});

describe('archive permissions', () => {
  it('creates a new archive directory 0700, its index (with -wal and -shm) and journal 0600', async () => {
    const dir = path.join(tmp(), 'new', 'archive');
    const w = ArchiveWriter.open(dir);
    const acc = w.ensureAccount('h', 1, 'u');
    const run = w.beginRun(acc);
    const f = w.upsertFolder(acc, run, folder('INBOX'));
    await w.resetCheckpoint(f, 1);
    w.addBuffer(f, run, meta(1), body('private'));
    await w.flush();
    const mode = (p: string): number => fs.statSync(path.join(dir, p)).mode & 0o777;
    expect(mode('.')).toBe(0o700);
    expect(mode('packs')).toBe(0o700);
    expect(mode('journal')).toBe(0o700);
    expect(mode('index.sqlite')).toBe(0o600);
    expect(mode('index.sqlite-wal')).toBe(0o600);
    expect(mode('index.sqlite-shm')).toBe(0o600);
    expect(mode(path.relative(dir, journalFile(dir)))).toBe(0o600);
    expect(mode('packs/pack-00000001.mkp')).toBe(0o600);
    await w.close();
    await repairArchive(dir);
    expect(mode('index.sqlite')).toBe(0o600);
  });
});
