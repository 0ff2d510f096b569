import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { JOURNAL_FILE_NO, journalDir, journalFile } from './archive-files.ts';
import { fsyncDir, readAt } from './pack-file.ts';
import { JournalBatch, type JournalOp } from './journal-ops.ts';

/**
 * The archive's append-only journal (docs/archive-format.md, "Journal"): one record per group
 * commit, holding every fact of the index except the message bytes (those are in the packs).
 * Record: magic "MKJ1", u32 big-endian payload length, u32 CRC-32 of the payload, payload (a JSON
 * array of ops). A record is written and fsynced before the index transaction that applies it.
 */
export const JOURNAL_MAGIC = Buffer.from('MKJ1');
export const JOURNAL_HEADER_BYTES = 12;
// Where the journal lies is in archive-files.ts (no zod there, for the archive's readers).
export { JOURNAL_FILE_NO, journalDir, journalFile };

export function encodeRecord(ops: readonly JournalOp[]): Buffer {
  const payload = Buffer.from(JSON.stringify(ops));
  const head = Buffer.alloc(JOURNAL_HEADER_BYTES);
  JOURNAL_MAGIC.copy(head, 0);
  head.writeUInt32BE(payload.length, 4);
  head.writeUInt32BE(zlib.crc32(payload), 8);
  return Buffer.concat([head, payload]);
}

export type ReadItem =
  | { kind: 'record'; at: number; end: number; ops: JournalOp[] }
  /** Bytes that are no record; `resumedAt` is the next valid record, or null: a torn tail. */
  | { kind: 'damage'; at: number; resumedAt: number | null; reason: string };

/** Random access to journal bytes: a whole buffer, or a file read through a bounded window. */
interface Source {
  size: number;
  /** Bytes [at, at + n), fewer only at the end of the source. */
  get(at: number, n: number): Buffer;
}

function fileSource(fd: number): Source {
  const size = fs.fstatSync(fd).size;
  let base = 0;
  let win: Buffer = Buffer.alloc(0);
  return {
    size,
    get(at, n) {
      const want = Math.min(n, size - at);
      if (at < base || at + want > base + win.length) {
        base = at;
        win = readAt(fd, Math.min(Math.max(want, RELAY_LIMITS.journalReadWindowBytes), size - at), at);
      }
      return win.subarray(at - base, at - base + want);
    },
  };
}

/** A valid record at `at`, or the reason there is none. The payload must parse as ops too. */
function recordAt(src: Source, at: number): { end: number; ops: JournalOp[] } | string {
  if (src.size - at < JOURNAL_HEADER_BYTES) return 'short header';
  const head = src.get(at, JOURNAL_HEADER_BYTES);
  if (!head.subarray(0, 4).equals(JOURNAL_MAGIC)) return 'no record magic';
  const len = head.readUInt32BE(4);
  const end = at + JOURNAL_HEADER_BYTES + len;
  if (end > src.size) return 'record runs past the end of the file';
  if (len > RELAY_LIMITS.journalRecordMaxBytes) return 'record longer than any Mailkeep writes';
  const crc = head.readUInt32BE(8);
  const payload = src.get(at + JOURNAL_HEADER_BYTES, len);
  if (zlib.crc32(payload) !== crc) return 'CRC mismatch';
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'payload is not JSON';
  }
  const r = JournalBatch.safeParse(parsed);
  return r.success ? { end, ops: r.data } : 'payload is not a list of journal ops';
}

/** The next offset after `from` where a valid record starts, or null. */
function nextRecord(src: Source, from: number): number | null {
  const step = RELAY_LIMITS.journalReadWindowBytes;
  for (let pos = from; pos < src.size; pos += step - (JOURNAL_MAGIC.length - 1)) {
    const chunk = src.get(pos, step);
    for (let i = chunk.indexOf(JOURNAL_MAGIC); i !== -1; i = chunk.indexOf(JOURNAL_MAGIC, i + 1))
      if (typeof recordAt(src, pos + i) !== 'string') return pos + i;
    if (chunk.length < step) break;
  }
  return null;
}

/**
 * Reads the records from `from` on. After damage it looks for the next valid record (by its
 * magic and CRC), so damage mid-file costs only the damaged records and the caller learns whether
 * valid records follow (mid-file damage) or not (a torn, uncommitted tail).
 */
function* readSource(src: Source, from: number): Generator<ReadItem> {
  let at = from;
  while (at < src.size) {
    const r = recordAt(src, at);
    if (typeof r !== 'string') {
      yield { kind: 'record', at, end: r.end, ops: r.ops };
      at = r.end;
      continue;
    }
    const next = nextRecord(src, at + 1);
    yield { kind: 'damage', at, resumedAt: next, reason: r };
    if (next === null) return;
    at = next;
  }
}

/** Reads a journal file from `from` on, in a bounded window (memory does not grow with the journal). */
export function* readJournalFile(file: string, from = 0): Generator<ReadItem> {
  const fd = fs.openSync(file, 'r');
  try {
    yield* readSource(fileSource(fd), from);
  } finally {
    fs.closeSync(fd);
  }
}

/** The one appender of the journal (the writer holding the archive lock, or repair). */
export class JournalAppender {
  private fd: number;
  private pos: number;

  constructor(
    readonly file: string,
    startAt: number,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const fresh = !fs.existsSync(file);
    this.fd = fs.openSync(file, fresh ? 'w+' : 'r+', 0o600);
    this.pos = startAt;
    if (fresh) fsyncDir(path.dirname(file));
  }

  get size(): number {
    return this.pos;
  }

  /**
   * Appends one record and makes it durable: one write and one fsync per group commit. Sync on
   * purpose: the record's place in the file and its index transaction must follow the same order.
   */
  append(ops: readonly JournalOp[]): number {
    const rec = encodeRecord(ops);
    let done = 0;
    while (done < rec.length) done += fs.writeSync(this.fd, rec, done, rec.length - done, this.pos + done);
    fs.fsyncSync(this.fd);
    this.pos += rec.length;
    return this.pos;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * Writes a whole journal file atomically (temp file, fsync, rename, fsync of the directory): the
 * bootstrap of an index that has no journal yet. A crash leaves either no journal or all of it.
 */
export function writeJournalFile(file: string, batches: Iterable<JournalOp[]>): number {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  let size = 0;
  try {
    for (const ops of batches) {
      const rec = encodeRecord(ops);
      fs.writeSync(fd, rec, 0, rec.length, size);
      size += rec.length;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
  return size;
}

/** Splits a stream of ops into records of at most `n` ops (a bootstrap of a big index). */
export function* chunked(ops: Iterable<JournalOp>, n: number): Generator<JournalOp[]> {
  let cur: JournalOp[] = [];
  for (const o of ops) {
    cur.push(o);
    if (cur.length >= n) {
      yield cur;
      cur = [];
    }
  }
  if (cur.length) yield cur;
}
