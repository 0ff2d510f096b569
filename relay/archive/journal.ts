import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fsyncDir } from './pack-file.ts';
import { JournalBatch, type JournalOp } from './journal-ops.ts';

/**
 * The archive's append-only journal (docs/archive-format.md, "Journal"): one record per group
 * commit, holding every fact of the index except the message bytes (those are in the packs).
 * Record: magic "MKJ1", u32 big-endian payload length, u32 CRC-32 of the payload, payload (a JSON
 * array of ops). A record is written and fsynced before the index transaction that applies it.
 */
export const JOURNAL_MAGIC = Buffer.from('MKJ1');
export const JOURNAL_HEADER_BYTES = 12;
/** Only one journal file is written today; the number leaves room for rotation. */
export const JOURNAL_FILE_NO = 1;

export function journalDir(archive: string): string {
  return path.join(archive, 'journal');
}

export function journalFile(archive: string, no = JOURNAL_FILE_NO): string {
  return path.join(journalDir(archive), `journal-${String(no).padStart(8, '0')}.mkj`);
}

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

/** A valid record at `at`, or the reason there is none. The payload must parse as ops too. */
function recordAt(buf: Buffer, at: number): { end: number; ops: JournalOp[] } | string {
  if (buf.length - at < JOURNAL_HEADER_BYTES) return 'short header';
  if (!buf.subarray(at, at + 4).equals(JOURNAL_MAGIC)) return 'no record magic';
  const len = buf.readUInt32BE(at + 4);
  const end = at + JOURNAL_HEADER_BYTES + len;
  if (end > buf.length) return 'record runs past the end of the file';
  const payload = buf.subarray(at + JOURNAL_HEADER_BYTES, end);
  if (zlib.crc32(payload) !== buf.readUInt32BE(at + 8)) return 'CRC mismatch';
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'payload is not JSON';
  }
  const r = JournalBatch.safeParse(parsed);
  return r.success ? { end, ops: r.data } : 'payload is not a list of journal ops';
}

/**
 * Reads the records from `from` on. After damage it looks for the next valid record (by its
 * magic and CRC), so damage mid-file costs only the damaged records and the caller learns whether
 * valid records follow (mid-file damage) or not (a torn, uncommitted tail).
 */
export function* readJournal(buf: Buffer, from = 0): Generator<ReadItem> {
  let at = from;
  while (at < buf.length) {
    const r = recordAt(buf, at);
    if (typeof r !== 'string') {
      yield { kind: 'record', at, end: r.end, ops: r.ops };
      at = r.end;
      continue;
    }
    let next = buf.indexOf(JOURNAL_MAGIC, at + 1);
    while (next !== -1 && typeof recordAt(buf, next) === 'string') next = buf.indexOf(JOURNAL_MAGIC, next + 1);
    yield { kind: 'damage', at, resumedAt: next === -1 ? null : next, reason: r };
    if (next === -1) return;
    at = next;
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
