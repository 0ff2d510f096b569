import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import { openArchiveIndex } from './archive-reader.ts';
import { isIndexCorruption, repairCommand } from './index-damage.ts';
import { checkJournal, type JournalCheck, type JournalDamage, type RowMismatch } from './index-journal-compare.ts';
import { JOURNAL_FILE_NO, journalFile } from './journal.ts';
import { packFiles } from './journal-recovery.ts';
import type { IndexOpenMode } from './open-index-readonly.ts';
import { HEADER_BYTES, RECORD_MAGIC, packFileName } from './pack-file.ts';
import { journalPosition, type Db } from './schema.ts';

/**
 * Checks everything restore, export and repair depend on, in both directions (design.md I4;
 * docs/archive-format.md, "Verify"):
 * - the SQLite index itself (`PRAGMA integrity_check`, foreign keys, memberships without a blob);
 * - every blob row against its pack record (header magic, length, hash) and its bytes' SHA-256;
 * - every pack record against the index within the pack's committed end (`packs.end_offset`, set
 *   by the journal's packEnd records): a record no row points at is `unindexed`; bytes past the
 *   committed end are an uncommitted tail (a write whose group never committed), not damage;
 * - the journal: every record's framing and CRC, and the index against a replay of the journal up
 *   to the index's recorded position (index-journal-compare.ts): rows that differ are
 *   `index_journal_mismatch`, with what repair would do to each.
 * Everything is read from one index snapshot, so verify can run beside a backup: what the backup
 * does after the snapshot is a pack tail or journal records past the position, never a mismatch.
 * When the index cannot be read, the packs are still walked record by record and each record's
 * bytes checked against its header, and the journal's framing is checked, since the packs and the
 * journal are what `repair` rebuilds the index from. Blobs are read in 1 MiB chunks and the journal
 * through a bounded window: memory does not grow with message or archive size.
 */
export const PROBLEM_KINDS = [
  'index_damaged',
  'broken_reference',
  'dangling_row',
  'missing',
  'truncated',
  'hash_mismatch',
  'header_mismatch',
  'misplaced_row',
  'unindexed',
  'unreadable_region',
  'pack_short',
  'journal_damaged',
  'journal_missing',
  'index_journal_mismatch',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

/** What `mailkeep repair` (rebuilding the index from the packs and the journal) does about each kind. */
export const REPAIR_EFFECT: Readonly<Record<ProblemKind, string>> = {
  index_damaged: 'repair rebuilds the index from the packs and the journal; the mail in the packs is not affected',
  broken_reference: 'repair rebuilds the index from the journal and the packs: rows get back what they point at when the journal has it',
  dangling_row: 'a membership whose blob row is missing: repair restores the blob row from the journal or adopts its pack record; if neither has it (see missing or unindexed), its bytes cannot be brought back',
  missing: 'the message bytes are gone from the pack: repair cannot bring them back, and a later backup into this archive does not fetch it again (the archive counts it as stored); while the server still has it, a backup into a new, empty archive folder keeps a good copy',
  truncated: 'the pack was cut short inside this message: repair cannot bring the lost bytes back, and a later backup into this archive does not fetch it again (the archive counts it as stored); while the server still has it, a backup into a new, empty archive folder keeps a good copy',
  hash_mismatch: 'the stored bytes are damaged: repair cannot recover them, and a later backup into this archive does not fetch it again (the archive counts it as stored); while the server still has it, a backup into a new, empty archive folder keeps a good copy',
  header_mismatch: 'the message bytes are intact but the record header before them is damaged: repair keeps the blob row the journal names (restore checks the bytes by their hash), but would not adopt this record if the journal lost it',
  misplaced_row: 'the row points at another message’s record: repair rebuilds the index from the journal, which points it at its own record again',
  unindexed: 'a whole committed record the index does not know: repair indexes it again (from the journal when it names it, else adopted without a folder)',
  unreadable_region: 'bytes inside the committed part of a pack that form no record: repair skips them; a message they held cannot be recovered',
  pack_short: 'the pack is shorter than the end the journal committed: the bytes past its end are gone and repair cannot bring them back, and a later backup into this archive does not fetch those messages again (the archive counts them as stored); while the server still has them, a backup into a new, empty archive folder keeps good copies',
  journal_damaged:
    'repair rebuilds the index from the journal without these bytes: the facts they held (memberships, flags, runs; the index rows listed as index_journal_mismatch) are lost, while the message bytes stay in the packs and repair adopts their sound records without a folder',
  journal_missing: 'the journal is gone, so the index is the only record of folders, flags and runs: repair (or the next backup) writes a new journal from this index; nothing is lost while the index is sound',
  index_journal_mismatch: 'repair rebuilds the index from the journal: each listed row becomes what the journal says (the journal, written before every index commit, is the record of truth)',
};

export interface VerifyProblem {
  kind: ProblemKind;
  hash: string | null;
  pack: string | null;
  /** Offset of the message data (record start + 44), or of the region. */
  offset: number | null;
  bytes: number | null;
  detail: string | null;
  repair: string;
  messages: { account: string; folder: string; uidvalidity: number; uid: number }[];
  /** index_journal_mismatch: the row that differs (table, key, both sides). */
  row?: { table: string; key: Record<string, unknown>; index: Record<string, unknown> | null; journal: Record<string, unknown> | null };
}

/** Bytes after the last record the index covers: a write that never committed (not damage). */
export interface UncommittedTail {
  kind: 'uncommitted_tail';
  pack: string;
  offset: number;
  bytes: number;
  /** Whole records in it (a group whose index commit never happened). */
  records: number;
  /** Their hashes (at most 100): a record appended by something else than a backup shows here. */
  hashes: string[];
}

export interface VerifyReport {
  ok: boolean;
  blobs: number;
  messages: number;
  /** Message bytes hashed. */
  bytes: number;
  index: { integrity: 'ok' | 'damaged' | 'missing'; mode: IndexOpenMode | null; detail: string[] };
  packs: { files: number; records: number; bytes: number };
  uncommittedTails: UncommittedTail[];
  journal: Omit<JournalCheck, 'packsAhead' | 'notes' | 'mismatches' | 'damage'> & { damage: JournalDamage[] };
  /** Facts that are no damage: the journal ahead of the index, a torn journal tail, a version-1 archive. */
  notes: string[];
  warnings: string[];
  problems: VerifyProblem[];
  /** The command to run when `ok` is false (every problem says what it can do). */
  repair: string | null;
}

export type VerifyProgress = { blobs: number; total: number; bytes: number };

interface BlobRow {
  hash: string;
  offset: number;
  length: number;
}

const isDamage = (err: unknown): boolean => errorCodeOf(err) === 'ARCHIVE_DAMAGED' || isIndexCorruption(err);
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
/** The SQLite reason of an ARCHIVE_DAMAGED error (its cause), else its message. */
const sqliteReason = (err: unknown): string => messageOf((err as { cause?: unknown })?.cause ?? err);

export async function verifyArchive(
  dir: string,
  opts: { signal?: AbortSignal; onProgress?: (p: VerifyProgress) => void; immutable?: boolean } = {},
): Promise<VerifyReport> {
  const report: VerifyReport = {
    ok: true,
    blobs: 0,
    messages: 0,
    bytes: 0,
    index: { integrity: 'ok', mode: null, detail: [] },
    packs: { files: 0, records: 0, bytes: 0 },
    uncommittedTails: [],
    journal: { file: null, bytes: 0, records: 0, indexPosition: null, ahead: { records: 0, bytes: 0 }, tornTail: null, damage: [], compared: false, mismatchCount: 0 },
    notes: [],
    warnings: [],
    problems: [],
    repair: null,
  };
  const packDir = path.join(dir, 'packs');
  const indexFile = path.join(dir, 'index.sqlite');
  const problem = (kind: ProblemKind, p: Partial<Omit<VerifyProblem, 'kind'>>): void => {
    report.problems.push({ kind, hash: null, pack: null, offset: null, bytes: null, detail: null, messages: [], ...p, repair: p.repair ?? REPAIR_EFFECT[kind] });
  };
  const indexDamaged = (detail: string[]): void => {
    report.index.integrity = 'damaged';
    report.index.detail.push(...detail);
    if (!report.problems.some((p) => p.kind === 'index_damaged')) problem('index_damaged', { detail: detail.join('; ') });
  };

  let db: Db | null = null;
  if (!fs.existsSync(indexFile)) {
    // No index but packs: the mail is there, only the index is lost (repair's case). Neither: no archive.
    if (!listPackFiles(dir).length && !fs.existsSync(journalFile(dir))) openArchiveIndex(dir); // throws NOT_FOUND
    report.index.integrity = 'missing';
    problem('index_damaged', { detail: `${indexFile} is missing` });
  } else {
    try {
      const opened = openArchiveIndex(dir, { immutable: opts.immutable, onWarning: (w) => report.warnings.push(w) });
      db = opened.db;
      report.index.mode = opened.mode;
    } catch (err) {
      if (!isDamage(err)) throw err;
      indexDamaged([sqliteReason(err)]);
    }
  }
  const scanner = new PackScanner(opts.signal);
  try {
    let indexed = db !== null;
    // One read snapshot for the whole check, taken before any pack is opened: beside a running
    // backup, every row it shows points at bytes already in the pack (packs are fsynced before the
    // rows commit), and what the backup appends meanwhile is only a tail past them.
    if (db)
      try {
        db.exec('BEGIN');
      } catch (err) {
        if (!isDamage(err)) throw err;
        indexDamaged([sqliteReason(err)]);
      }
    if (db) checkIndex(db, indexDamaged, problem, report);
    // What the snapshot says about the journal and the packs' committed ends; then the pack files
    // on disk, then the journal: a pack a backup creates after the snapshot is named in the
    // journal (durably, before its first byte) by the time the journal is read.
    let snap: Snapshot | null = null;
    if (db)
      try {
        snap = snapshotFacts(db);
      } catch (err) {
        if (!isDamage(err)) throw err;
        indexDamaged([sqliteReason(err)]);
      }
    const files = listPackFiles(dir);
    const sound = report.index.integrity === 'ok' && snap !== null;
    const journal = checkJournalFor(dir, sound ? db : null, snap, report, problem, opts.signal);
    if (db && indexed && snap) {
      try {
        if (journal.mismatches.length) describeMismatches(db, journal.mismatches, problem);
        await walkIndexed(db, packDir, files, snap, journal.packsAhead, scanner, problem, report, opts.onProgress);
      } catch (err) {
        if (!isDamage(err)) throw err;
        // Rows stopped being readable half way: start over from the packs alone.
        indexDamaged([sqliteReason(err)]);
        indexed = false;
        report.problems = report.problems.filter((p) => !PACK_WALK_KINDS.has(p.kind));
        report.uncommittedTails = [];
        report.packs = { files: 0, records: 0, bytes: 0 };
        report.bytes = 0;
      }
    } else indexed = false;
    if (!indexed) await walkPacksAlone(packDir, scanner, problem, report);
    if (db && indexed) fillHolders(db, report.problems);
  } finally {
    scanner.close();
    db?.close();
  }
  report.ok = report.problems.length === 0;
  report.notes.push(...journalNotes(report));
  report.repair = report.ok ? null : repairCommand(dir);
  return report;
}

/**
 * integrity_check, foreign keys, memberships without a blob, counts. Each step on its own: a damaged
 * page of a secondary index fails integrity_check (it may even throw) while the tables verify
 * cross-checks stay readable. Throws only what is not damage.
 */
function checkIndex(
  db: Db,
  indexDamaged: (detail: string[]) => void,
  problem: (kind: ProblemKind, p: Partial<VerifyProblem>) => void,
  report: VerifyReport,
): void {
  const step = (run: () => void): void => {
    try {
      run();
    } catch (err) {
      if (!isDamage(err)) throw err;
      indexDamaged([sqliteReason(err)]);
    }
  };
  step(() => {
    const lines = (db.pragma('integrity_check(20)') as { integrity_check: string }[]).map((r) => r.integrity_check);
    if (!(lines.length === 1 && lines[0] === 'ok')) indexDamaged(lines);
  });
  step(() => {
    const fks = db.prepare<[], { table: string; parent: string; n: number }>(
      `SELECT "table", parent, COUNT(*) AS n FROM pragma_foreign_key_check GROUP BY "table", parent ORDER BY "table", parent`,
    ).all();
    for (const fk of fks)
      if (!(fk.table === 'messages' && fk.parent === 'blobs')) problem('broken_reference', { detail: `${fk.n} row(s) of ${fk.table} point at a missing ${fk.parent} row` });
  });
  step(() => {
    for (const hash of db.prepare<[], string>('SELECT DISTINCT m.blob_hash FROM messages m LEFT JOIN blobs b ON b.hash = m.blob_hash WHERE b.hash IS NULL').pluck().all())
      problem('dangling_row', { hash });
  });
  step(() => {
    report.messages = db.prepare<[], number>('SELECT COUNT(*) FROM messages').pluck().get() ?? 0;
  });
  step(() => {
    report.blobs = db.prepare<[], number>('SELECT COUNT(*) FROM blobs').pluck().get() ?? 0;
  });
}

/** Every pack the index or the disk knows, in pack order: [id or null, file name]. */
function packList(db: Db, files: string[]): { id: number | null; file: string }[] {
  const byFile = new Map<string, number | null>();
  const named = new Map(db.prepare<[], { id: number; file: string }>('SELECT id, file FROM packs').all().map((p) => [p.id, p.file]));
  for (const id of db.prepare<[], number>('SELECT DISTINCT pack_id FROM blobs').pluck().all()) byFile.set(named.get(id) ?? packFileName(id), id);
  for (const [id, file] of named) byFile.set(file, id);
  for (const file of files) if (!byFile.has(file)) byFile.set(file, null);
  return [...byFile].map(([file, id]) => ({ id, file })).sort((a, b) => a.file.localeCompare(b.file));
}

/** The pack files on disk, by the writer's own naming rule; none when `packs/` cannot be listed. */
function listPackFiles(dir: string): string[] {
  try {
    return packFiles(dir).map((p) => p.file);
  } catch {
    return [];
  }
}

async function walkIndexed(
  db: Db,
  packDir: string,
  files: string[],
  snap: Snapshot,
  packsAhead: Set<number>,
  scanner: PackScanner,
  problem: (kind: ProblemKind, p: Partial<VerifyProblem>) => void,
  report: VerifyReport,
  onProgress?: (p: VerifyProgress) => void,
): Promise<void> {
  const rowsOf = db.prepare<[number], BlobRow>('SELECT hash, offset, length FROM blobs WHERE pack_id = ? ORDER BY offset, hash');
  let done = 0;
  for (const { id, file } of packList(db, files)) {
    const pack = scanner.open(path.join(packDir, file));
    if (pack) {
      report.packs.files++;
      report.packs.bytes += pack.size;
    }
    let pos = 0;
    let rowPastEnd = false;
    for (const row of id === null ? [] : rowsOf.iterate(id)) {
      done++;
      const start = row.offset - HEADER_BYTES;
      if (!pack) {
        problem('missing', { hash: row.hash, pack: file, offset: row.offset, bytes: row.length, detail: 'the pack file is missing' });
        continue;
      }
      // Whole records between the last row's end and this row's record are unknown to the index.
      const gapEnd = Math.min(start, pack.size);
      if (gapEnd > pos) await walkGap(pack, file, pos, gapEnd, problem, report);
      pos = Math.max(pos, gapEnd);
      if (row.offset + row.length > pack.size) rowPastEnd = true;
      pos = Math.max(pos, await checkRow(pack, file, row, problem, report));
      if (done % 1000 === 0) {
        onProgress?.({ blobs: done, total: report.blobs, bytes: report.bytes });
        await new Promise((r) => setImmediate(r)); // let a signal or a server share the thread
      }
    }
    if (!pack) continue;
    // The committed end: what the journal's packEnd records say (version 2). A pack the snapshot
    // does not know is a backup's newer pack when the journal past the snapshot names it (all of
    // it is a tail), else a stray: its leading whole records are what repair adopts (unindexed),
    // whatever follows them is left alone like a tail (never cut, since no journal names it).
    // A version-1 index records no end: the last indexed record's end stands in for it.
    const byName = Number(/(\d+)/.exec(file)?.[1] ?? NaN);
    const end = snap.ends === null ? pos : id === null ? (packsAhead.has(byName) ? 0 : wholeRecordsEnd(pack)) : (snap.ends.get(id) ?? pos);
    const committed = Math.min(end, pack.size);
    if (committed > pos) await walkGap(pack, file, pos, committed, problem, report);
    pos = Math.max(pos, committed);
    if (end > pack.size && !rowPastEnd)
      problem('pack_short', { pack: file, offset: pack.size, bytes: end - pack.size, detail: `the pack ends at byte ${pack.size}, before its committed end ${end}` });
    if (pos < pack.size) report.uncommittedTails.push(await walkTail(pack, file, pos, report));
  }
  onProgress?.({ blobs: done, total: report.blobs, bytes: report.bytes });
}

/** Checks one blob row against its record; returns the end of what it covers in the pack. */
async function checkRow(pack: OpenPack, file: string, row: BlobRow, problem: (kind: ProblemKind, p: Partial<VerifyProblem>) => void, report: VerifyReport): Promise<number> {
  const where = { hash: row.hash, pack: file, offset: row.offset, bytes: row.length };
  const start = row.offset - HEADER_BYTES;
  if (start < 0 || row.length < 0) {
    problem('header_mismatch', { ...where, detail: `impossible offset ${row.offset} or length ${row.length} in the index` });
    return 0;
  }
  if (row.offset + row.length > pack.size) {
    problem(row.offset >= pack.size ? 'missing' : 'truncated', { ...where, detail: `the pack ends at byte ${pack.size}, the message at ${row.offset + row.length}` });
    return pack.size;
  }
  const header = pack.header(start);
  report.packs.records++;
  if (header?.magicOk && header.hash !== row.hash && row.offset + header.length <= pack.size) {
    // A sound record of another message at this offset: the row, not the pack, is wrong.
    const actual = await pack.hash(row.offset, header.length);
    report.bytes += header.length;
    if (actual === header.hash) {
      problem('misplaced_row', { ...where, detail: `the record at this offset holds message ${header.hash.slice(0, 16)}…` });
      return row.offset + header.length;
    }
  }
  const actual = await pack.hash(row.offset, row.length);
  report.bytes += row.length;
  if (actual !== row.hash) problem('hash_mismatch', { ...where, detail: `the bytes hash to ${actual.slice(0, 16)}…` });
  else if (!header?.magicOk || header.length !== row.length || header.hash !== row.hash)
    problem('header_mismatch', { ...where, detail: header?.magicOk ? 'the record header disagrees with the index' : 'no record header (magic MKP1) before the message' });
  return row.offset + row.length;
}

/** Records inside the committed range that no row covers: each whole record is unindexed, anything else unreadable. */
async function walkGap(pack: OpenPack, file: string, from: number, to: number, problem: (kind: ProblemKind, p: Partial<VerifyProblem>) => void, report: VerifyReport): Promise<void> {
  let pos = from;
  while (pos < to) {
    const h = pack.header(pos);
    if (!h?.magicOk || pos + HEADER_BYTES + h.length > to) {
      problem('unreadable_region', { pack: file, offset: pos, bytes: to - pos, detail: 'bytes inside the committed part of the pack that form no whole record' });
      return;
    }
    const actual = await pack.hash(pos + HEADER_BYTES, h.length);
    report.packs.records++;
    report.bytes += h.length;
    problem('unindexed', {
      hash: h.hash,
      pack: file,
      offset: pos + HEADER_BYTES,
      bytes: h.length,
      detail: actual === h.hash ? 'a sound record no blob row points at' : `a record no blob row points at, and its bytes do not match its header (they hash to ${actual.slice(0, 16)}…)`,
    });
    pos += HEADER_BYTES + h.length;
  }
}

/** Where the leading run of whole records (valid headers, lengths within the file) of a pack ends. */
function wholeRecordsEnd(pack: OpenPack): number {
  let pos = 0;
  for (;;) {
    const h = pack.header(pos);
    if (!h?.magicOk || pos + HEADER_BYTES + h.length > pack.size) return pos;
    pos += HEADER_BYTES + h.length;
  }
}

/** Counts the whole records of a tail (bytes past the committed end); their bytes are not hashed. */
async function walkTail(pack: OpenPack, file: string, from: number, report: VerifyReport): Promise<UncommittedTail> {
  let pos = from;
  let records = 0;
  const hashes: string[] = [];
  for (;;) {
    const h = pack.header(pos);
    if (!h?.magicOk || pos + HEADER_BYTES + h.length > pack.size) break;
    records++;
    if (hashes.length < 100) hashes.push(h.hash);
    pos += HEADER_BYTES + h.length;
  }
  report.packs.records += records;
  return { kind: 'uncommitted_tail', pack: file, offset: from, bytes: pack.size - from, records, hashes };
}

/** No readable index: every pack record's bytes against its own header, then the tail. */
async function walkPacksAlone(packDir: string, scanner: PackScanner, problem: (kind: ProblemKind, p: Partial<VerifyProblem>) => void, report: VerifyReport): Promise<void> {
  for (const file of listPackFiles(path.dirname(packDir))) {
    const pack = scanner.open(path.join(packDir, file));
    if (!pack) continue;
    report.packs.files++;
    report.packs.bytes += pack.size;
    let pos = 0;
    for (;;) {
      const h = pack.header(pos);
      if (!h?.magicOk || pos + HEADER_BYTES + h.length > pack.size) break;
      const actual = await pack.hash(pos + HEADER_BYTES, h.length);
      report.packs.records++;
      report.bytes += h.length;
      if (actual !== h.hash) problem('hash_mismatch', { hash: h.hash, pack: file, offset: pos + HEADER_BYTES, bytes: h.length, detail: `the bytes hash to ${actual.slice(0, 16)}…` });
      pos += HEADER_BYTES + h.length;
      await new Promise((r) => setImmediate(r));
    }
    if (pos < pack.size) report.uncommittedTails.push({ kind: 'uncommitted_tail', pack: file, offset: pos, bytes: pack.size - pos, records: 0, hashes: [] });
  }
}

/** Every account, folder and UID holding each problem's message, for the user to know what is hit. */
function fillHolders(db: Db, problems: VerifyProblem[]): void {
  const holders = db.prepare<[string], VerifyProblem['messages'][number]>(
    `SELECT a.user || '@' || a.host || ':' || a.port AS account, f.name AS folder, m.uidvalidity, m.uid
     FROM messages m JOIN folders f ON f.id = m.folder_id JOIN accounts a ON a.id = f.account_id WHERE m.blob_hash = ? ORDER BY f.name, m.uid`,
  );
  for (const p of problems) {
    if (!p.hash || p.kind === 'unindexed') continue;
    try {
      p.messages = holders.all(p.hash);
    } catch (err) {
      if (!isDamage(err)) throw err; // integrity_check already reported it; the rest is still useful
    }
  }
}

interface OpenPack {
  size: number;
  header(at: number): { magicOk: boolean; length: number; hash: string } | null;
  /** SHA-256 (hex) of `length` bytes at `at`, read in fixed chunks. */
  hash(at: number, length: number): Promise<string>;
}

/** One pack open at a time, one 1 MiB buffer for every read. */
class PackScanner {
  private fd = -1;
  private readonly buf = Buffer.alloc(RELAY_LIMITS.verifyReadChunkBytes);
  private readonly head = Buffer.alloc(HEADER_BYTES);

  constructor(private readonly signal?: AbortSignal) {}

  open(file: string): OpenPack | null {
    this.close();
    try {
      this.fd = fs.openSync(file, 'r');
    } catch {
      return null;
    }
    const fd = this.fd;
    const size = fs.fstatSync(fd).size;
    return {
      size,
      header: (at) => {
        if (at < 0 || at + HEADER_BYTES > size) return null;
        if (fs.readSync(fd, this.head, 0, HEADER_BYTES, at) < HEADER_BYTES) return null;
        const length = this.head.readBigUInt64BE(4);
        return {
          magicOk: this.head.subarray(0, 4).equals(RECORD_MAGIC) && length <= BigInt(Number.MAX_SAFE_INTEGER),
          length: Number(length),
          hash: this.head.subarray(12, 44).toString('hex'),
        };
      },
      hash: async (at, length) => {
        const h = crypto.createHash('sha256');
        let chunks = 0;
        for (let done = 0; done < length; ) {
          this.signal?.throwIfAborted();
          const n = fs.readSync(fd, this.buf, 0, Math.min(this.buf.length, length - done), at + done);
          if (n <= 0) break;
          h.update(this.buf.subarray(0, n));
          done += n;
          // A 100 MB message must not hold the thread (or a cancel) for its whole read.
          if (++chunks % 16 === 0) await new Promise((r) => setImmediate(r));
        }
        return h.digest('hex');
      },
    };
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Kinds found by walking the packs with the index (dropped when the walk restarts from the packs alone). */
const PACK_WALK_KINDS = new Set<ProblemKind>(['missing', 'truncated', 'hash_mismatch', 'header_mismatch', 'misplaced_row', 'unindexed', 'unreadable_region', 'pack_short']);

/** What the index snapshot records: its schema version, journal position and each pack's committed end. */
interface Snapshot {
  version: number;
  position: { file: number; offset: number } | null;
  /** Committed end of every pack the index knows; null for a version-1 index (no end recorded). */
  ends: Map<number, number> | null;
}

function snapshotFacts(db: Db): Snapshot {
  const version = db.pragma('user_version', { simple: true }) as number;
  const hasEnd = db.prepare<[], string>("SELECT name FROM pragma_table_info('packs')").pluck().all().includes('end_offset');
  const hasMeta = db.prepare<[], number>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'").pluck().get() === 1;
  return {
    version,
    position: hasMeta ? journalPosition(db) : null,
    ends: hasEnd ? new Map(db.prepare<[], { id: number; end_offset: number }>('SELECT id, end_offset FROM packs').all().map((r) => [r.id, r.end_offset])) : null,
  };
}

/** The journal check, turned into problems (damage, a missing journal, rows that differ) and the report's journal part. */
function checkJournalFor(
  dir: string,
  db: Db | null,
  snap: Snapshot | null,
  report: VerifyReport,
  problem: (kind: ProblemKind, p: Partial<VerifyProblem>) => void,
  signal?: AbortSignal,
): JournalCheck {
  const position = snap?.position && snap.position.file === JOURNAL_FILE_NO ? snap.position : null;
  const j = checkJournal(dir, db, position, { signal });
  const { packsAhead: _a, notes: _n, mismatches: _m, ...rest } = j;
  report.journal = rest;
  if (j.file === null) {
    if (db && snap && snap.version >= 2 && snap.position !== null)
      problem('journal_missing', { detail: `the index records journal position ${snap.position.offset}, but ${path.join('journal', 'journal-00000001.mkj')} is missing` });
    return j;
  }
  for (const d of j.damage)
    problem('journal_damaged', {
      offset: d.from,
      bytes: d.to - d.from,
      detail: `journal bytes ${d.from}-${d.to} are no valid record (${d.reason})${d.held ? `; they still show ${d.held}` : ''}${
        d.applied ? '' : '; they lie past the index’s position, so a backup refuses to start until repair'
      }`,
      ...(d.applied && j.compared && j.mismatchCount === 0
        ? {
            repair:
              'the index already equals the journal without these bytes (a repair ran, or later records superseded what they held): a rebuild loses nothing more; the bytes stay in the journal (repair never cuts them), so this stays reported',
          }
        : {}),
    });
  if (j.mismatchCount > j.mismatches.length)
    problem('index_journal_mismatch', { detail: `${j.mismatchCount - j.mismatches.length} more row(s) differ between the index and the journal (not listed)` });
  return j;
}

/** One problem per differing row, naming the folder and UID of a membership. */
function describeMismatches(db: Db, rows: RowMismatch[], problem: (kind: ProblemKind, p: Partial<VerifyProblem>) => void): void {
  const holder = db.prepare<[number], { account: string; folder: string }>(
    `SELECT a.user || '@' || a.host || ':' || a.port AS account, f.name AS folder FROM folders f JOIN accounts a ON a.id = f.account_id WHERE f.id = ?`,
  );
  const show = (r: Record<string, unknown> | null): string => (r ? JSON.stringify(r) : 'no row');
  for (const m of rows) {
    const keyText = Object.entries(m.key).map(([k, v]) => `${k}=${String(v)}`).join(' ');
    const messages: VerifyProblem['messages'] = [];
    if (m.table === 'messages') {
      const h = holder.get(m.key.folder_id as number);
      messages.push({ account: h?.account ?? '?', folder: h?.folder ?? `folder ${String(m.key.folder_id)}`, uidvalidity: m.key.uidvalidity as number, uid: m.key.uid as number });
    }
    problem('index_journal_mismatch', {
      detail: `${m.table} ${keyText}: the index has ${show(m.index)}, the journal says ${show(m.journal)}`,
      repair: m.repair,
      messages,
      row: { table: m.table, key: m.key, index: m.index, journal: m.journal },
    });
  }
}

/** Notes on the journal that are no damage. */
function journalNotes(report: VerifyReport): string[] {
  const j = report.journal;
  const notes: string[] = [];
  if (j.file === null) {
    if (report.index.integrity === 'ok') notes.push('the archive has no journal yet (written by an older Mailkeep, or a writer stopped before writing it): the next backup writes it from the index');
    return notes;
  }
  if (j.indexPosition === null && report.index.integrity === 'ok') notes.push('the index records no journal position: the next backup writes the journal from the index');
  else if (j.ahead.records > 0)
    notes.push(
      `the journal holds ${j.ahead.records} record(s) (${j.ahead.bytes} bytes) past the index's position ${j.indexPosition}: a running backup is applying them, or the next backup rolls them forward into the index (nothing is lost)`,
    );
  if (j.tornTail) notes.push(`the journal ends in ${j.tornTail.bytes} byte(s) that form no whole record (a group commit that never completed): the next backup cuts them`);
  return notes;
}
