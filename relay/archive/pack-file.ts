import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { RELAY_LIMITS } from '../../lib/limits.ts';

const fsyncAsync = promisify(fs.fsync);
const writevAsync = promisify(fs.writev);

/**
 * Append-only pack files: the archive's blob storage. A record is a 44-byte header
 * ("MKP1", u64 big-endian length, 32-byte SHA-256) then the message's bytes, untouched. The header
 * makes a pack self-describing (repair finds every blob in it, named by the journal or not); the
 * index stores the offset of the data itself. Nothing is ever rewritten except bytes past the end
 * the journal durably recorded for the pack (an uncommitted group, or a streamed duplicate).
 */
export const RECORD_MAGIC = Buffer.from('MKP1');
export const HEADER_BYTES = 44;

/** Completes a short write (rare, e.g. a signal) of `records` at `at` of which `written` bytes went. */
function completeWrite(fd: number, records: Buffer[], bytes: number, at: number, written: number): void {
  if (written >= bytes) return;
  const all = Buffer.concat(records);
  while (written < all.length) written += fs.writeSync(fd, all, written, all.length - written, at + written);
}

/** writev takes at most IOV_MAX (1024 on Linux) buffers: two per record. */
const MAX_IOVECS = 1000;

export function packFileName(id: number): string {
  return `pack-${String(id).padStart(8, '0')}.mkp`;
}

export function recordHeader(length: number, hashHex: string): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  RECORD_MAGIC.copy(h, 0);
  h.writeBigUInt64BE(BigInt(length), 4);
  Buffer.from(hashHex, 'hex').copy(h, 12);
  return h;
}

/** An open pack being appended to by the one writer holding the archive lock. */
export class PackAppender {
  private fd: number;
  private pos: number;
  private fresh: boolean;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** A failed write (disk full): records already handed out offsets may be missing, so no later
   * sync may succeed and let a group commit point at them. */
  private writeError: unknown = null;
  /** Batches being written in the thread pool, so hashing and parsing go on meanwhile. */
  private inflight = new Set<Promise<void>>();
  private inflightBytes = 0;

  constructor(
    readonly dir: string,
    readonly id: number,
    startAt: number,
  ) {
    const file = path.join(dir, packFileName(id));
    this.fresh = !fs.existsSync(file);
    this.fd = fs.openSync(file, this.fresh ? 'w+' : 'r+', 0o600);
    // Start at the journal-recorded end: bytes past it are a group that never committed.
    fs.ftruncateSync(this.fd, startAt);
    this.pos = startAt;
  }

  get size(): number {
    return this.pos;
  }

  /** Appends a whole message; returns the offset of its data. */
  append(data: Buffer, hashHex: string): number {
    if (this.writeError !== null) throw this.writeError;
    const header = recordHeader(data.length, hashHex);
    // Records are gathered and written with one writev per ~256 KiB (RELAY_LIMITS.packWriteBatchBytes) instead of one syscall per
    // message (20,000 small writes were a measurable share of backup CPU). Nothing reads a pack
    // past its committed end, and every path that syncs, streams or closes writes them first.
    this.pending.push(header, data);
    this.pendingBytes += HEADER_BYTES + data.length;
    const dataAt = this.pos + HEADER_BYTES;
    this.pos += HEADER_BYTES + data.length;
    if (this.pendingBytes >= RELAY_LIMITS.packWriteBatchBytes || this.pending.length >= MAX_IOVECS) {
      // In the thread pool while little is in flight (the main thread keeps hashing and parsing);
      // on the main thread when the disk falls behind, which bounds the memory held for it.
      if (this.inflightBytes < RELAY_LIMITS.packWriteInflightBytes) this.writePendingAsync();
      else this.writePending();
    }
    return dataAt;
  }

  /** Takes the gathered records; they are cleared first: after a failed write (disk full) they are
   * an uncommitted tail that no later sync or close may try to write again. */
  private takePending(): { records: Buffer[]; bytes: number; at: number } {
    const taken = { records: this.pending, bytes: this.pendingBytes, at: this.pos - this.pendingBytes };
    this.pending = [];
    this.pendingBytes = 0;
    return taken;
  }

  /** Writes the gathered records at their place; a short write (rare, e.g. a signal) is completed. */
  private writePending(): void {
    if (this.pending.length === 0) return;
    const { records, bytes, at } = this.takePending();
    try {
      completeWrite(this.fd, records, bytes, at, fs.writevSync(this.fd, records, at));
    } catch (err) {
      this.writeError ??= err;
      throw err;
    }
  }

  private writePendingAsync(): void {
    if (this.pending.length === 0) return;
    const { records, bytes, at } = this.takePending();
    this.inflightBytes += bytes;
    const done: Promise<void> = writevAsync(this.fd, records, at)
      .then((r) => completeWrite(this.fd, records, bytes, at, r.bytesWritten))
      .catch((err: unknown) => {
        this.writeError ??= err;
      })
      .finally(() => {
        this.inflightBytes -= bytes;
        this.inflight.delete(done);
      });
    this.inflight.add(done);
  }

  /** Waits for every batch in the thread pool; rejects with the first write error. */
  private async settle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all(this.inflight);
    if (this.writeError !== null) throw this.writeError;
  }

  /**
   * Streams a message of unknown hash: data first, header patched in at the end. `finish` returns
   * the data offset, or cuts the record off again when the content turned out to be stored already.
   */
  beginStream(): { write(chunk: Buffer): void; finish(keep: (hashHex: string, length: number) => boolean): { hash: string; length: number; offset: number | null }; abort(): void } {
    if (this.writeError !== null) throw this.writeError;
    this.writePending();
    const start = this.pos;
    let at = start + HEADER_BYTES;
    const hasher = crypto.createHash('sha256');
    return {
      write: (chunk: Buffer) => {
        fs.writeSync(this.fd, chunk, 0, chunk.length, at);
        at += chunk.length;
        hasher.update(chunk);
      },
      finish: (keep) => {
        const hash = hasher.digest('hex');
        const length = at - start - HEADER_BYTES;
        if (!keep(hash, length)) {
          fs.ftruncateSync(this.fd, start);
          return { hash, length, offset: null };
        }
        fs.writeSync(this.fd, recordHeader(length, hash), 0, HEADER_BYTES, start);
        this.pos = at;
        return { hash, length, offset: start + HEADER_BYTES };
      },
      abort: () => {
        fs.ftruncateSync(this.fd, start);
      },
    };
  }

  /**
   * Makes every appended byte durable (the first sync of a new file also syncs the directory
   * entry). Runs in the thread pool so the next group can be received meanwhile. Always fsyncs:
   * bytes appended while an earlier sync ran must be covered by this one.
   */
  async syncAsync(): Promise<void> {
    if (this.writeError !== null) throw this.writeError;
    this.writePendingAsync();
    await this.settle();
    await fsyncAsync(this.fd);
    if (this.fresh) {
      fsyncDir(this.dir);
      this.fresh = false;
    }
  }

  /** Closes the file once no batch is in flight: a write still running could otherwise land in
   * another file that reuses the descriptor. */
  async close(): Promise<void> {
    try {
      this.writePending();
    } finally {
      try {
        await this.settle();
      } catch {
        /* the write error was thrown to the sync or append that met it first */
      }
      fs.closeSync(this.fd);
    }
  }
}

/** Up to `length` bytes of `fd` from `at`: fewer only at the end of the file. */
export function readAt(fd: number, length: number, at: number): Buffer {
  const b = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, b, got, length - got, at + got);
    if (n <= 0) break;
    got += n;
  }
  return b.subarray(0, got);
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
