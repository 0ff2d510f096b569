import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from './sqlite.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { lockArchive } from '../lock/lock-file.ts';
import { archivePathError, archivePathInvalid } from './archive-path-error.ts';
import { chunked, JournalAppender, JOURNAL_FILE_NO, journalDir, journalFile, readJournalFile, writeJournalFile } from './journal.ts';
import { applyBatch, indexAsOps, type JournalOp } from './journal-ops.ts';
import { asideName, makeIndexPrivate, openIndexForWriting, packFiles } from './journal-recovery.ts';
import { fsyncDir, HEADER_BYTES, readAt, RECORD_MAGIC } from './pack-file.ts';
import { journalPosition, openIndex, setJournalPosition, type Db } from './schema.ts';

/**
 * `mailkeep repair`: rebuilds index.sqlite from the journal and the packs (docs/archive-format.md,
 * "Repair"). The new index is built in a temporary file and then swapped in; the old one is kept
 * as index.sqlite.damaged-<n>. Pack bytes are only read; the journal only gains a record naming
 * blobs found in packs it did not know (so the next repair finds them too) and loses only a torn
 * tail. Nothing is deleted.
 */

export interface AdoptedBlob {
  hash: string;
  pack: string;
  offset: number;
  length: number;
}

export interface RepairReport {
  journalRecords: number;
  opsReplayed: number;
  /** Journal bytes that are no valid record, with valid records after them: their facts are lost. */
  journalDamage: { from: number; to: number; reason: string }[];
  /** Journal records whose ops could not be applied (e.g. they named a folder lost in damage). */
  batchesRejected: { at: number; reason: string }[];
  /** Bytes cut off a torn journal tail (a group that never committed). */
  journalTailCut: number;
  packs: number;
  /** Records found in the packs whose blob the journal names. */
  blobsInPacks: number;
  /** Valid records in packs that no journal record names: kept, added to the index and listed. */
  blobsAdopted: AdoptedBlob[];
  /** Packs the journal never named (their records are adopted). */
  packsAdopted: string[];
  /** Known packs holding sound records past their journal-recorded end (a journal cut short): the end is raised over them, so no writer cuts them. */
  packEndsRaised: { pack: string; from: number; to: number }[];
  /** Blob rows of the journal whose record is not (wholly) in its pack. */
  blobsMissing: number;
  /** Records in packs whose bytes do not match their hash: not adopted. */
  recordsDamaged: { pack: string; offset: number }[];
  messages: number;
  blobs: number;
  /** The journal had lost records the sound index still held: it was rewritten from the index; the old one's name. */
  journalRewrittenFromIndex: string | null;
  /** Where the index that was replaced now is, or null when there was none. */
  previousIndexKeptAs: string | null;
  /** Whether that previous index passed `PRAGMA quick_check` (kept as `.replaced-N`) or not
   * (`.damaged-N`: unreadable, damaged, or only its WAL left). Null when there was none. */
  previousIndexSound: boolean | null;
  /** A journal damaged inside (not only a torn tail) is rewritten from the rebuilt index; the
   * damaged one is kept under this name. Null when the journal was sound. */
  previousJournalKeptAs: string | null;
}

export async function repairArchive(dir: string): Promise<RepairReport> {
  // A file as the folder, or a folder where the index file belongs, is not Mailkeep's to move.
  const invalid = archivePathInvalid(dir);
  if (invalid) throw invalid;
  if (!fs.existsSync(dir)) throw mailkeepError('NOT_FOUND', `no Mailkeep archive at ${dir}`);
  const lock = lockArchive(dir);
  try {
    const rewritten = salvageJournal(dir);
    const report = rebuild(dir);
    report.journalRewrittenFromIndex = rewritten;
    return report;
  } catch (err) {
    throw archivePathError(dir, err) ?? err;
  } finally {
    lock.release();
  }
}

/**
 * Before the rebuild, make the journal hold every fact the index still knows:
 * - an archive without a journal (version 1, or a journal that was removed) whose index is still
 *   readable gets its bootstrap journal first, as a writer would;
 * - a journal that lost records the index had applied (cut short, or damaged before the index's
 *   position) while the index itself is sound: the index is then the better record of everything
 *   up to its position, so the journal is rewritten as the index's bootstrap followed by the valid
 *   records past that position; the old journal is kept aside (`….superseded-<n>`).
 * Either way the rebuild keeps every folder, flag and run the index knows instead of only the
 * blobs the packs hold.
 */
function salvageJournal(dir: string): string | null {
  const jfile = journalFile(dir);
  const indexFile = path.join(dir, 'index.sqlite');
  if (!fs.existsSync(indexFile)) return null;
  if (!fs.existsSync(jfile) || fs.statSync(jfile).size === 0) {
    try {
      openIndexForWriting(dir).db.close();
    } catch {
      /* unreadable: the rebuild works from the packs alone and says so */
    }
    return null;
  }
  let db: Db | undefined;
  try {
    db = openIndex(indexFile);
    if (db.pragma('quick_check(1)', { simple: true }) !== 'ok') return null;
    const pos = journalPosition(db);
    if (pos === null) return null;
    const jsize = fs.statSync(jfile).size;
    let lost = jsize < pos.offset;
    const after: JournalOp[][] = [];
    for (const item of readJournalFile(jfile)) {
      if (item.kind === 'damage') {
        if (item.at < pos.offset) lost = true; // also a "torn tail" the index had already applied: committed facts
      } else if (item.at >= pos.offset) after.push(item.ops);
    }
    if (!lost) return null;
    // Kept aside by a hard link, then replaced atomically: a crash in between leaves the old
    // journal where it was (a rename first would leave no journal and lose the records past pos).
    const aside = asideName(jfile, 'superseded');
    try {
      fs.linkSync(jfile, aside);
    } catch {
      fs.copyFileSync(jfile, aside, fs.constants.COPYFILE_EXCL); // a filesystem without hard links
    }
    writeJournalFile(jfile, (function* () {
      yield* chunked(indexAsOps(db!), RELAY_LIMITS.journalBootstrapOpsPerRecord);
      yield* after;
    })());
    return path.basename(aside);
  } catch {
    /* unreadable index: the rebuild works from the journal and the packs alone */
    return null;
  } finally {
    db?.close();
  }
}

function rebuild(dir: string): RepairReport {
  const indexFile = path.join(dir, 'index.sqlite');
  const tmp = path.join(dir, 'index.sqlite.repair-tmp');
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) fs.rmSync(f, { force: true }); // our own unfinished attempt
  const db = openIndex(tmp);
  let rewritten: string | null = null;
  // Orphans (a message whose folder op was in a damaged record) are kept rather than refused.
  db.pragma('foreign_keys = OFF');
  const report: RepairReport = {
    journalRecords: 0, opsReplayed: 0, journalDamage: [], batchesRejected: [], journalTailCut: 0, packs: 0,
    blobsInPacks: 0, blobsAdopted: [], packsAdopted: [], packEndsRaised: [], blobsMissing: 0, recordsDamaged: [], messages: 0, blobs: 0, previousIndexKeptAs: null, previousIndexSound: null, journalRewrittenFromIndex: null, previousJournalKeptAs: null,
  };
  try {
    const jfile = journalFile(dir);
    const journalSize = replayJournal(db, jfile, report);
    const adopt = scanPacks(dir, db, report);
    if (adopt.length) {
      const journal = new JournalAppender(jfile, journalSize);
      try {
        applyBatch(db, adopt, { file: JOURNAL_FILE_NO, offset: journal.append(adopt) });
      } finally {
        journal.close();
      }
    }
    report.messages = db.prepare<[], number>('SELECT COUNT(*) FROM messages').pluck().get()!;
    report.blobs = db.prepare<[], number>('SELECT COUNT(*) FROM blobs').pluck().get()!;
    // Damage inside the journal would stay there and be found by every later verify: write a
    // sound journal holding exactly the rebuilt index (as a bootstrap does) to put in its place.
    if (report.journalDamage.length > 0 || report.batchesRejected.length > 0) {
      rewritten = `${jfile}.rewrite`;
      const size = writeJournalFile(rewritten, chunked(indexAsOps(db), RELAY_LIMITS.journalBootstrapOpsPerRecord));
      db.transaction(() => setJournalPosition(db, { file: JOURNAL_FILE_NO, offset: size }))();
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  const fd = fs.openSync(tmp, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  if (rewritten) {
    // The damaged journal keeps its bytes under another name (a hard link), then the new one
    // replaces it in one rename: at every moment there is a whole journal at its path. The journal
    // moves before the index, so a crash in between leaves a journal a second repair rebuilds from.
    const jfile = journalFile(dir);
    const aside = asideName(jfile, 'damaged');
    fs.linkSync(jfile, aside);
    fs.renameSync(rewritten, jfile);
    fsyncDir(journalDir(dir));
    report.previousJournalKeptAs = path.basename(aside);
  }
  // The old index is named by what happened to it: `.replaced-N` when it passed quick_check (the
  // user asked for a rebuild of a sound index), `.damaged-N` when it did not (or only a WAL was left).
  const previousSound = fs.existsSync(indexFile) && passesQuickCheck(indexFile);
  // The WAL moves with its database, also when the database itself was deleted: left behind, a
  // stale WAL would be replayed into the new index.
  const present = ['', '-wal', '-shm'].filter((suffix) => fs.existsSync(indexFile + suffix));
  const walHasData = fs.existsSync(`${indexFile}-wal`) && fs.statSync(`${indexFile}-wal`).size > 0;
  if (fs.existsSync(indexFile) || walHasData) {
    const aside = asideName(indexFile, previousSound ? 'replaced' : 'damaged');
    for (const suffix of present) fs.renameSync(indexFile + suffix, aside + suffix);
    report.previousIndexKeptAs = path.basename(aside);
    report.previousIndexSound = previousSound;
  } else for (const suffix of present) fs.rmSync(indexFile + suffix); // an empty WAL and its shared-memory file: no data
  fs.renameSync(tmp, indexFile);
  fsyncDir(dir);
  makeIndexPrivate(indexFile);
  return report;
}

/** True when `file` opens (read-only, nothing written into it) and passes `PRAGMA quick_check`. */
function passesQuickCheck(file: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    return db.pragma('quick_check(1)', { simple: true }) === 'ok';
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/** Applies every valid record; skips damage (reported); cuts a torn tail. Returns the journal's size. */
function replayJournal(db: Db, jfile: string, report: RepairReport): number {
  if (!fs.existsSync(jfile)) {
    db.transaction(() => setJournalPosition(db, { file: JOURNAL_FILE_NO, offset: 0 }))();
    return 0;
  }
  let size = fs.statSync(jfile).size;
  for (const item of readJournalFile(jfile)) {
    if (item.kind === 'damage') {
      if (item.resumedAt !== null) {
        report.journalDamage.push({ from: item.at, to: item.resumedAt, reason: item.reason });
        continue;
      }
      // Nothing valid follows: the record of a group that never committed (its pack bytes lie
      // past that pack's recorded end and are cut by the next writer).
      fs.truncateSync(jfile, item.at);
      const fd = fs.openSync(jfile, 'r+');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      report.journalTailCut = size - item.at;
      size = item.at;
      break;
    }
    try {
      applyBatch(db, item.ops, { file: JOURNAL_FILE_NO, offset: item.end });
      report.journalRecords++;
      report.opsReplayed += item.ops.length;
    } catch (err) {
      report.batchesRejected.push({ at: item.at, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  db.transaction(() => setJournalPosition(db, { file: JOURNAL_FILE_NO, offset: size }))();
  return size;
}

function hashOf(fd: number, at: number, length: number): string {
  const h = crypto.createHash('sha256');
  const chunk = 1024 * 1024;
  for (let done = 0; done < length; ) {
    const b = readAt(fd, Math.min(chunk, length - done), at + done);
    if (b.length === 0) break;
    h.update(b);
    done += b.length;
  }
  return h.digest('hex');
}

/** The next offset in [from, limit) where a record header could start (its magic), or null. */
function nextMagic(fd: number, from: number, limit: number): number | null {
  const step = 1024 * 1024;
  for (let pos = from; pos < limit; pos += step - (RECORD_MAGIC.length - 1)) {
    const chunk = readAt(fd, Math.min(step, limit - pos), pos);
    const i = chunk.indexOf(RECORD_MAGIC);
    if (i !== -1) return pos + i;
    if (chunk.length < step) break;
  }
  return null;
}

/**
 * Walks every pack's records to the end of the file. Up to the journal's committed end of a known
 * pack, a record whose blob the journal names is trusted (checked later at its place); every other
 * record is adopted when its bytes match its hash. Past that end (bytes the journal never recorded
 * as committed: a torn journal, or the group of an interrupted run) and in a pack the journal never
 * named, every record is hash-checked, and the pack's committed end is raised over the last sound
 * one: the next writer cuts only what lies past it, never a whole message. After bytes that are no
 * record the walk resumes at the next record magic. Then every blob the journal names is checked at
 * its place. Returns the ops that record the adoption.
 */
function scanPacks(dir: string, db: Db, report: RepairReport): JournalOp[] {
  const known = new Map(db.prepare<[], { id: number; end_offset: number }>('SELECT id, end_offset FROM packs').all().map((r) => [r.id, r.end_offset]));
  const blobAt = db.prepare<[string], { pack_id: number; offset: number; length: number }>('SELECT pack_id, offset, length FROM blobs WHERE hash = ?');
  const ops: JournalOp[] = [];
  const adoptedHashes = new Set<string>();
  const files = packFiles(dir);
  for (const { id, file } of files) {
    report.packs++;
    const full = path.join(dir, 'packs', file);
    const size = fs.statSync(full).size;
    const end = known.get(id);
    const trusted = end === undefined ? 0 : Math.min(end, size);
    if (end === undefined) {
      report.packsAdopted.push(file);
      ops.push({ op: 'pack', id, file });
    }
    /** End of the last sound record, and where the bytes after it that form no record begin. */
    let soundEnd = trusted;
    let torn: number | null = null;
    const fd = fs.openSync(full, 'r');
    try {
      for (let at = 0; at + HEADER_BYTES <= size; ) {
        const head = readAt(fd, HEADER_BYTES, at);
        const length = head.subarray(0, 4).equals(RECORD_MAGIC) ? Number(head.readBigUInt64BE(4)) : -1;
        const dataAt = at + HEADER_BYTES;
        if (length < 0 || dataAt + length > size) {
          torn ??= at;
          const next = nextMagic(fd, at + 1, size);
          if (next === null) break;
          at = next;
          continue;
        }
        const hash = head.subarray(12, 44).toString('hex');
        const named = blobAt.get(hash);
        const inTrusted = dataAt + length <= trusted;
        if (!(inTrusted && named) && !(adoptedHashes.has(hash) && inTrusted)) {
          if (hashOf(fd, dataAt, length) !== hash) {
            if (!named && !adoptedHashes.has(hash)) report.recordsDamaged.push({ pack: file, offset: at });
            torn ??= at;
            const next = nextMagic(fd, at + 1, size);
            if (next === null) break;
            at = next;
            continue;
          }
          if (!named && !adoptedHashes.has(hash)) {
            adoptedHashes.add(hash);
            ops.push({ op: 'blob', h: hash, p: id, o: dataAt, l: length });
            report.blobsAdopted.push({ hash, pack: file, offset: dataAt, length });
          }
        }
        at = dataAt + length;
        if (at > soundEnd) soundEnd = at;
        torn = null;
      }
    } finally {
      fs.closeSync(fd);
    }
    if (size - soundEnd > 0 && size - soundEnd < HEADER_BYTES && torn === null) torn = soundEnd;
    if (end === undefined) {
      // A pack the journal never named keeps every byte, unless what follows its last sound record
      // is only the start of one more (a torn write): that alone may be cut, so that new records
      // do not follow unreadable bytes.
      const newEnd = torn !== null && torn === soundEnd && tornRecordAt(full, soundEnd, size) ? soundEnd : size;
      ops.push({ op: 'packEnd', id, end: newEnd });
    } else if (soundEnd > end) {
      ops.push({ op: 'packEnd', id, end: soundEnd });
      report.packEndsRaised.push({ pack: file, from: end, to: soundEnd });
    }
  }
  countNamedBlobs(dir, db, report);
  return ops;
}

/** The bytes from `at` to the end of the file are the beginning of one record that was never finished. */
function tornRecordAt(full: string, at: number, size: number): boolean {
  const fd = fs.openSync(full, 'r');
  try {
    const head = readAt(fd, Math.min(HEADER_BYTES, size - at), at);
    if (head.length < HEADER_BYTES) return RECORD_MAGIC.subarray(0, Math.min(4, head.length)).equals(head.subarray(0, Math.min(4, head.length)));
    return head.subarray(0, 4).equals(RECORD_MAGIC) && at + HEADER_BYTES + Number(head.readBigUInt64BE(4)) > size;
  } finally {
    fs.closeSync(fd);
  }
}

/** Every blob the journal names: is its record header where the journal says (magic, length, hash)? */
function countNamedBlobs(dir: string, db: Db, report: RepairReport): void {
  const fds = new Map<number, { fd: number; size: number } | null>();
  const open = (packId: number, file: string) => {
    if (!fds.has(packId)) {
      const full = path.join(dir, 'packs', file);
      fds.set(packId, fs.existsSync(full) ? { fd: fs.openSync(full, 'r'), size: fs.statSync(full).size } : null);
    }
    return fds.get(packId)!;
  };
  try {
    for (const b of db
      .prepare<[], { hash: string; pack_id: number; offset: number; length: number; file: string | null }>(
        'SELECT b.hash, b.pack_id, b.offset, b.length, p.file FROM blobs b LEFT JOIN packs p ON p.id = b.pack_id',
      )
      .iterate()) {
      const f = b.file === null ? null : open(b.pack_id, b.file);
      const head = f && b.offset >= HEADER_BYTES && b.offset + b.length <= f.size ? readAt(f.fd, HEADER_BYTES, b.offset - HEADER_BYTES) : null;
      const ok = !!head && head.subarray(0, 4).equals(RECORD_MAGIC) && Number(head.readBigUInt64BE(4)) === b.length && head.subarray(12, 44).toString('hex') === b.hash;
      if (ok) report.blobsInPacks++;
      else report.blobsMissing++;
    }
  } finally {
    for (const f of fds.values()) if (f) fs.closeSync(f.fd);
  }
}
