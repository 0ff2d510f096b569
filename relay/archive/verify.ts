import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import { openArchiveIndex } from './archive-reader.ts';
import { isIndexCorruption, repairCommand } from './index-damage.ts';
import type { IndexOpenMode } from './open-index-readonly.ts';
import { HEADER_BYTES, RECORD_MAGIC, packFileName } from './pack-file.ts';
import type { Db } from './schema.ts';

/**
 * Checks everything restore and export depend on, in both directions (design.md I4):
 * - the SQLite index itself (`PRAGMA integrity_check`, foreign keys, memberships without a blob);
 * - every blob row against its pack record (header magic, length, hash) and its bytes' SHA-256;
 * - every pack record against the index: a record no row points at is `unindexed`; bytes after the
 *   last record the index covers are an uncommitted tail (an interrupted write), not damage.
 * When the index cannot be read, the packs are still walked record by record and each record's
 * bytes checked against its header, since the packs are what `repair` rebuilds the index from.
 * Blobs are read in 1 MiB chunks: memory does not grow with message size.
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
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

/** What `mailkeep repair` (rebuilding the index from the packs and the journal) does about each kind. */
export const REPAIR_EFFECT: Readonly<Record<ProblemKind, string>> = {
  index_damaged: 'repair rebuilds the index from the packs and the journal; the mail in the packs is not affected',
  broken_reference: 'repair rebuilds the index from the packs and the journal, which drops rows pointing at nothing',
  dangling_row: 'the message is in no pack: repair cannot bring its bytes back (back it up again while the server still has it)',
  missing: 'the message bytes are gone from the pack: repair cannot bring them back (back it up again while the server still has it)',
  truncated: 'the pack was cut short inside this message: repair cannot bring the lost bytes back (back it up again while the server still has it)',
  hash_mismatch: 'the stored bytes are damaged: repair cannot recover them (back the message up again while the server still has it)',
  header_mismatch: 'the message bytes are intact, but its pack record header is damaged, so a rebuild from the packs would miss it: keep this index',
  misplaced_row: 'the row points at another message’s record: repair rebuilds the index from the packs, which points it at its own record again',
  unindexed: 'a whole record the index does not know: repair rebuilds the index from the packs and indexes it again',
  unreadable_region: 'bytes between records that form no record: repair skips them; a message they held cannot be recovered',
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
    warnings: [],
    problems: [],
    repair: null,
  };
  const packDir = path.join(dir, 'packs');
  const indexFile = path.join(dir, 'index.sqlite');
  const problem = (kind: ProblemKind, p: Partial<Omit<VerifyProblem, 'kind' | 'repair'>>): void => {
    report.problems.push({ kind, hash: null, pack: null, offset: null, bytes: null, detail: null, messages: [], ...p, repair: REPAIR_EFFECT[kind] });
  };
  const indexDamaged = (detail: string[]): void => {
    report.index.integrity = 'damaged';
    report.index.detail.push(...detail);
    if (!report.problems.some((p) => p.kind === 'index_damaged')) problem('index_damaged', { detail: detail.join('; ') });
  };

  let db: Db | null = null;
  if (!fs.existsSync(indexFile)) {
    // No index but packs: the mail is there, only the index is lost (repair's case). Neither: no archive.
    if (!listPackFiles(packDir).length) openArchiveIndex(dir); // throws NOT_FOUND
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
    if (db && indexed) {
      try {
        await walkIndexed(db, packDir, scanner, problem, report, opts.onProgress);
      } catch (err) {
        if (!isDamage(err)) throw err;
        // Rows stopped being readable half way: start over from the packs alone.
        indexDamaged([sqliteReason(err)]);
        indexed = false;
        report.problems = report.problems.filter((p) => p.kind === 'index_damaged' || p.kind === 'broken_reference' || p.kind === 'dangling_row');
        report.uncommittedTails = [];
        report.packs = { files: 0, records: 0, bytes: 0 };
        report.bytes = 0;
      }
    }
    if (!indexed) await walkPacksAlone(packDir, scanner, problem, report);
    if (db && indexed) fillHolders(db, report.problems);
  } finally {
    scanner.close();
    db?.close();
  }
  report.ok = report.problems.length === 0;
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
function packList(db: Db, packDir: string): { id: number | null; file: string }[] {
  const byFile = new Map<string, number | null>();
  const named = new Map(db.prepare<[], { id: number; file: string }>('SELECT id, file FROM packs').all().map((p) => [p.id, p.file]));
  for (const id of db.prepare<[], number>('SELECT DISTINCT pack_id FROM blobs').pluck().all()) byFile.set(named.get(id) ?? packFileName(id), id);
  for (const [id, file] of named) byFile.set(file, id);
  for (const file of listPackFiles(packDir)) if (!byFile.has(file)) byFile.set(file, null);
  return [...byFile].map(([file, id]) => ({ id, file })).sort((a, b) => a.file.localeCompare(b.file));
}

function listPackFiles(packDir: string): string[] {
  try {
    return fs.readdirSync(packDir).filter((f) => /^pack-\d+\.mkp$/.test(f)).sort();
  } catch {
    return [];
  }
}

async function walkIndexed(
  db: Db,
  packDir: string,
  scanner: PackScanner,
  problem: (kind: ProblemKind, p: Partial<VerifyProblem>) => void,
  report: VerifyReport,
  onProgress?: (p: VerifyProgress) => void,
): Promise<void> {
  const rowsOf = db.prepare<[number], BlobRow>('SELECT hash, offset, length FROM blobs WHERE pack_id = ? ORDER BY offset, hash');
  let done = 0;
  for (const { id, file } of packList(db, packDir)) {
    const pack = scanner.open(path.join(packDir, file));
    if (pack) {
      report.packs.files++;
      report.packs.bytes += pack.size;
    }
    let pos = 0;
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
      pos = Math.max(pos, await checkRow(pack, file, row, problem, report));
      if (done % 1000 === 0) {
        onProgress?.({ blobs: done, total: report.blobs, bytes: report.bytes });
        await new Promise((r) => setImmediate(r)); // let a signal or a server share the thread
      }
    }
    if (pack && pos < pack.size) report.uncommittedTails.push(await walkTail(pack, file, pos, report));
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

/** Records between two indexed ones: each whole record is unindexed, anything else unreadable. */
async function walkGap(pack: OpenPack, file: string, from: number, to: number, problem: (kind: ProblemKind, p: Partial<VerifyProblem>) => void, report: VerifyReport): Promise<void> {
  let pos = from;
  while (pos < to) {
    const h = pack.header(pos);
    if (!h?.magicOk || pos + HEADER_BYTES + h.length > to) {
      problem('unreadable_region', { pack: file, offset: pos, bytes: to - pos, detail: 'bytes before an indexed record that form no whole record' });
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

/** Counts the whole records of a tail (bytes past the last committed record); their bytes are not hashed. */
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
  for (const file of listPackFiles(packDir)) {
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
