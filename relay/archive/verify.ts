import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { openArchiveForReading } from './archive-reader.ts';
import { HEADER_BYTES, RECORD_MAGIC, packFileName } from './pack-file.ts';

/**
 * Re-hashes every blob against its name and cross-checks the index (I4): a blob whose bytes do not
 * hash to its name, a blob that is missing or cut short, and a message row pointing at no blob are
 * each reported with every folder and UID that holds the message.
 */
export interface VerifyProblem {
  kind: 'hash_mismatch' | 'missing' | 'truncated' | 'header_mismatch' | 'dangling_row';
  hash: string;
  pack: string | null;
  messages: { account: string; folder: string; uidvalidity: number; uid: number }[];
}

export interface VerifyReport {
  ok: boolean;
  blobs: number;
  messages: number;
  bytes: number;
  problems: VerifyProblem[];
}

export async function verifyArchive(
  dir: string,
  opts: { signal?: AbortSignal; onProgress?: (p: { blobs: number; total: number; bytes: number }) => void } = {},
): Promise<VerifyReport> {
  const db = openArchiveForReading(dir);
  try {
    const packs = new Map(db.prepare<[], { id: number; file: string }>('SELECT id, file FROM packs').all().map((p) => [p.id, p.file]));
    const blobs = db
      .prepare<[], { hash: string; pack_id: number; offset: number; length: number }>('SELECT hash, pack_id, offset, length FROM blobs ORDER BY pack_id, offset')
      .all();
    const holders = db.prepare<[string], { account: string; folder: string; uidvalidity: number; uid: number }>(
      `SELECT a.user || '@' || a.host || ':' || a.port AS account, f.name AS folder, m.uidvalidity, m.uid
       FROM messages m JOIN folders f ON f.id = m.folder_id JOIN accounts a ON a.id = f.account_id WHERE m.blob_hash = ? ORDER BY f.name, m.uid`,
    );
    const problems: VerifyProblem[] = [];
    const report = (kind: VerifyProblem['kind'], hash: string, pack: string | null): void => {
      problems.push({ kind, hash, pack, messages: holders.all(hash) });
    };
    const buf = Buffer.alloc(RELAY_LIMITS.verifyReadChunkBytes);
    const header = Buffer.alloc(HEADER_BYTES);
    let fdPack = -1;
    let fd = -1;
    let size = 0;
    let bytes = 0;
    let done = 0;
    try {
      for (const b of blobs) {
        opts.signal?.throwIfAborted();
        const file = packs.get(b.pack_id) ?? packFileName(b.pack_id);
        if (fdPack !== b.pack_id) {
          if (fd >= 0) fs.closeSync(fd);
          fd = -1;
          fdPack = b.pack_id;
          try {
            fd = fs.openSync(path.join(dir, 'packs', file), 'r');
            size = fs.fstatSync(fd).size;
          } catch {
            fd = -1;
          }
        }
        done++;
        if (fd < 0) {
          report('missing', b.hash, file);
          continue;
        }
        if (b.offset + b.length > size) {
          report(b.offset >= size ? 'missing' : 'truncated', b.hash, file);
          continue;
        }
        fs.readSync(fd, header, 0, HEADER_BYTES, b.offset - HEADER_BYTES);
        const headerOk =
          header.subarray(0, 4).equals(RECORD_MAGIC) &&
          header.readBigUInt64BE(4) === BigInt(b.length) &&
          header.subarray(12, 44).toString('hex') === b.hash;
        const h = crypto.createHash('sha256');
        for (let at = 0; at < b.length; ) {
          const n = fs.readSync(fd, buf, 0, Math.min(buf.length, b.length - at), b.offset + at);
          if (n <= 0) break;
          h.update(buf.subarray(0, n));
          at += n;
        }
        bytes += b.length;
        if (h.digest('hex') !== b.hash) report('hash_mismatch', b.hash, file);
        else if (!headerOk) report('header_mismatch', b.hash, file);
        if (done % 1000 === 0) {
          opts.onProgress?.({ blobs: done, total: blobs.length, bytes });
          await new Promise((r) => setImmediate(r)); // let a signal or a server share the thread
        }
      }
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
    for (const hash of db.prepare<[], string>('SELECT DISTINCT m.blob_hash FROM messages m LEFT JOIN blobs b ON b.hash = m.blob_hash WHERE b.hash IS NULL').pluck().all())
      report('dangling_row', hash, null);
    const messages = db.prepare<[], number>('SELECT COUNT(*) FROM messages').pluck().get() ?? 0;
    opts.onProgress?.({ blobs: done, total: blobs.length, bytes });
    return { ok: problems.length === 0, blobs: blobs.length, messages, bytes, problems };
  } finally {
    db.close();
  }
}
