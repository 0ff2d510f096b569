import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { Db } from '../archive/schema.ts';

/**
 * Reads blobs out of the archive's packs for restore, each checked against its SHA-256 before it
 * may be sent (design.md I4). A mismatch, a missing pack or a short read is ARCHIVE_CORRUPT: the
 * caller skips that message and reports it; it never reaches the server.
 *
 * A message is read whole: imapflow's APPEND takes a Buffer (the literal's size is announced
 * first), so memory per message is its size; messages are read one at a time.
 */
export class BlobReader {
  private readonly fds = new Map<number, number>();
  private readonly locate;
  private readonly packFile;

  constructor(
    private readonly db: Db,
    private readonly archiveDir: string,
  ) {
    this.locate = db.prepare<[string], { pack_id: number; offset: number; length: number }>('SELECT pack_id, offset, length FROM blobs WHERE hash = ?');
    this.packFile = db.prepare<[number], string>('SELECT file FROM packs WHERE id = ?').pluck();
  }

  read(hash: string): Buffer {
    const loc = this.locate.get(hash);
    if (!loc) throw mailkeepError('ARCHIVE_CORRUPT', `blob ${hash.slice(0, 16)}… is not in the archive index`, { hash });
    const fd = this.fd(loc.pack_id);
    const buf = Buffer.allocUnsafe(loc.length);
    let at = 0;
    while (at < loc.length) {
      const n = fs.readSync(fd, buf, at, loc.length - at, loc.offset + at);
      if (n <= 0) throw mailkeepError('ARCHIVE_CORRUPT', `blob ${hash.slice(0, 16)}… is truncated (${at} of ${loc.length} bytes)`, { hash });
      at += n;
    }
    const actual = crypto.createHash('sha256').update(buf).digest('hex');
    if (actual !== hash) throw mailkeepError('ARCHIVE_CORRUPT', `blob ${hash.slice(0, 16)}… does not match its SHA-256 (run mailkeep verify)`, { hash });
    return buf;
  }

  /** True when the blob reads back and matches its hash (dry-run planning). */
  check(hash: string): boolean {
    try {
      this.read(hash);
      return true;
    } catch {
      return false;
    }
  }

  private fd(packId: number): number {
    let fd = this.fds.get(packId);
    if (fd !== undefined) return fd;
    const file = this.packFile.get(packId);
    if (!file) throw mailkeepError('ARCHIVE_CORRUPT', `pack ${packId} is not in the archive index`);
    try {
      fd = fs.openSync(path.join(this.archiveDir, 'packs', file), 'r');
    } catch (err) {
      throw mailkeepError('ARCHIVE_CORRUPT', `pack ${file} cannot be opened`, { pack: file }, err);
    }
    this.fds.set(packId, fd);
    return fd;
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}
