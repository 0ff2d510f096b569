import { Readable } from 'node:stream';
import { SEARCH_LIMITS } from '../../lib/limits.ts';
import { BlobReader } from '../jobs/restore-blob.ts';
import { resolveRef } from './message-ref.ts';
import { PackSource } from './pack-source.ts';
import { parseMessage } from './parse-message.ts';
import { searchSession } from './search-session.ts';
import type { ShownMessage } from './types.ts';

/**
 * One archived message for a person: decoded headers, text, the HTML as archived (the caller shows
 * it sandboxed), attachments with their sizes. The bytes are checked against their SHA-256 first,
 * as restore does (design.md I4): a damaged message is ARCHIVE_CORRUPT, never shown as if whole.
 * Needs only the archive index, not the search index.
 */
export async function showMessage(archiveDir: string, id: string, opts: { textChars?: number } = {}): Promise<ShownMessage> {
  const s = searchSession(archiveDir);
  const { hash, folderId } = resolveRef(s.db, id);
  const row = s
    .prepare<[string, number], { folder: string; account: string; flags: string; keywords: string; internaldate: string | null; present: number }>(
      `SELECT f.name AS folder, a.user || '@' || a.host || ':' || a.port AS account, m.flags, m.keywords, m.internaldate,
         m.gone_run IS NULL AS present
       FROM arc.messages m JOIN arc.folders f ON f.id = m.folder_id JOIN arc.accounts a ON a.id = f.account_id
       WHERE m.blob_hash = ? AND m.folder_id = ? ORDER BY (m.gone_run IS NULL) DESC, m.id DESC LIMIT 1`,
    )
    .get(hash, folderId)!;
  const blobs = new BlobReader(s.db, archiveDir);
  const packs = new PackSource(archiveDir);
  try {
    const size = blobs.size(hash);
    const whole = size <= SEARCH_LIMITS.wholeParseBytes;
    const loc = s.prepare<[string], { file: string; offset: number; length: number }>(
      'SELECT p.file, b.offset, b.length FROM arc.blobs b JOIN arc.packs p ON p.id = b.pack_id WHERE b.hash = ?',
    ).get(hash)!;
    const source = {
      size,
      ...(whole ? { buffer: blobs.read(hash) } : {}),
      stream: () => Readable.from(blobs.stream(hash, SEARCH_LIMITS.readChunkBytes)),
      head: (n: number) => packs.open({ ...loc, length: Math.min(loc.length, n) }).head(n),
    };
    const p = await parseMessage(source, { textChars: opts.textChars ?? SEARCH_LIMITS.showTextChars, keepHtml: true, keepHeaders: true });
    const shown: ShownMessage = {
      id,
      account: row.account,
      folder: row.folder,
      headers: p.headers,
      text: p.text,
      truncated: p.truncated,
      attachments: p.attachments.map((a) => ({ filename: a.filename, size: a.size, contentType: a.contentType })),
      size,
      flags: [...(JSON.parse(row.flags) as string[]), ...(JSON.parse(row.keywords) as string[])],
      date: p.date !== null ? new Date(p.date).toISOString() : row.internaldate,
      // The present row is preferred above: none present means the server no longer has it there.
      goneOnServer: row.present === 0,
    };
    if (p.html !== null) shown.html = p.html;
    if (p.error !== null) shown.parseError = p.error;
    return shown;
  } finally {
    blobs.close();
    packs.close();
  }
}

/**
 * The raw message (RFC 822 bytes as the server gave them), streamed in chunks and checked against its
 * SHA-256: a damaged blob fails the stream with ARCHIVE_CORRUPT before its last chunk.
 */
export function readRaw(archiveDir: string, id: string): { hash: string; size: number; stream: Readable } {
  const s = searchSession(archiveDir);
  const { hash } = resolveRef(s.db, id);
  const blobs = new BlobReader(s.db, archiveDir);
  let size: number;
  try {
    size = blobs.size(hash);
  } catch (err) {
    blobs.close();
    throw err;
  }
  const stream = Readable.from(blobs.stream(hash, SEARCH_LIMITS.readChunkBytes));
  stream.once('close', () => blobs.close());
  return { hash, size, stream };
}
