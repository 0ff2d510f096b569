import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { RELAY_LIMITS } from '../../lib/limits.ts';

const fsyncAsync = promisify(fs.fsync);

/**
 * Append-only pack files: the archive's blob storage. A record is a 44-byte header
 * ("MKP1", u64 big-endian length, 32-byte SHA-256) then the message's bytes, untouched. The header
 * makes a pack self-describing (repair finds every blob in it, named by the journal or not); the
 * index stores the offset of the data itself. Nothing is ever rewritten except bytes past the end
 * the journal durably recorded for the pack (an uncommitted group, or a streamed duplicate).
 */
export const RECORD_MAGIC = Buffer.from('MKP1');
export const HEADER_BYTES = 44;

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
    if (this.pendingBytes >= RELAY_LIMITS.packWriteBatchBytes || this.pending.length >= MAX_IOVECS) this.writePending();
    return dataAt;
  }

  /** Writes the gathered records at their place; a short write (rare, e.g. a signal) is completed. */
  private writePending(): void {
    if (this.pending.length === 0) return;
    const at = this.pos - this.pendingBytes;
    const records = this.pending;
    const bytes = this.pendingBytes;
    // Cleared first: after a failed write (disk full) these bytes are an uncommitted tail that no
    // later sync or close may try to write again.
    this.pending = [];
    this.pendingBytes = 0;
    try {
      let written = fs.writevSync(this.fd, records, at);
      if (written < bytes) {
        const all = Buffer.concat(records);
        while (written < all.length) written += fs.writeSync(this.fd, all, written, all.length - written, at + written);
      }
    } catch (err) {
      this.writeError ??= err;
      throw err;
    }
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
    this.writePending();
    await fsyncAsync(this.fd);
    if (this.fresh) {
      fsyncDir(this.dir);
      this.fresh = false;
    }
  }

  close(): void {
    try {
      this.writePending();
    } finally {
      fs.closeSync(this.fd);
    }
  }
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
