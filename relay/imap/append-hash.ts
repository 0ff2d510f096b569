import crypto from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { appendDeadlineMs, type AppendDeadline } from './append-stream.ts';
import { reclaimStreamChunks } from './append-reclaim.ts';

const CR = 0x0d;
const LF = 0x0a;
const X = 0x58;
const CRLF = Buffer.from('\r\n');
const BARE_CR = Buffer.from('\r');

/**
 * The SHA-256 of a message as every server we know stores it back (docs/same-message.md): what
 * Mailkeep compares for a message without Message-ID, or one whose size changed. Computed the same
 * way over the archive's bytes, the source server's and the destination server's copy:
 * - line endings: a bare LF counts as CRLF (Dovecot and Courier store bare-LF mail with CRLF);
 * - trailing line ends are left out (Courier appends a CRLF to a last line without one);
 * - in the header section (up to the first empty line) every byte >= 0x80 counts as `X`
 *   (Cyrus masks 8-bit header bytes that way, at the same size).
 * Everything else counts byte for byte. Fed in chunks of any size (a CR and its LF may be split).
 */
export class NormalizedDigest {
  private readonly h = crypto.createHash('sha256');
  private inHeader = true;
  private atLineStart = true;
  private prevCR = false;
  /** Line ends seen but not yet hashed: only hashed once something other than a line end follows. */
  private pendingLineEnds = 0;

  /** Hashes runs of content straight from the chunk (no copy outside the header): a 100 MB body adds no garbage. */
  update(chunk: Buffer): this {
    const n = chunk.length;
    let nextCR = -1;
    let nextLF = -1;
    for (let i = 0; i < n; ) {
      if (this.prevCR) {
        this.prevCR = false;
        if (chunk[i] === LF) {
          this.lineEnd();
          i++;
          continue;
        }
        this.content(BARE_CR); // a bare CR is content
      }
      const b = chunk[i];
      if (b === CR) {
        this.prevCR = true;
        i++;
        continue;
      }
      if (b === LF) {
        this.lineEnd();
        i++;
        continue;
      }
      if (nextCR < i) nextCR = chunk.indexOf(CR, i);
      if (nextCR < 0) nextCR = n;
      if (nextLF < i) nextLF = chunk.indexOf(LF, i);
      if (nextLF < 0) nextLF = n;
      const end = Math.min(nextCR, nextLF);
      this.content(chunk.subarray(i, end));
      i = end;
    }
    return this;
  }

  digest(): string {
    if (this.prevCR) {
      this.prevCR = false;
      this.content(BARE_CR);
    }
    return this.h.digest('hex');
  }

  private lineEnd(): void {
    if (this.inHeader && this.atLineStart) this.inHeader = false;
    this.pendingLineEnds++;
    this.atLineStart = true;
  }

  private content(run: Buffer): void {
    for (; this.pendingLineEnds > 0; this.pendingLineEnds--) this.h.update(CRLF);
    if (this.inHeader) {
      const masked = Buffer.from(run);
      for (let k = 0; k < masked.length; k++) if (masked[k]! >= 0x80) masked[k] = X;
      this.h.update(masked);
    } else this.h.update(run);
    this.atLineStart = false;
  }
}

/** NormalizedDigest of a whole message. */
export function normalizedDigest(raw: Buffer): string {
  return new NormalizedDigest().update(raw).digest();
}

/** NormalizedDigest of a message in chunks. */
export async function normalizedDigestOfChunks(chunks: AsyncIterable<Buffer>): Promise<string> {
  const d = new NormalizedDigest();
  let since = 0;
  for await (const chunk of chunks) {
    d.update(chunk);
    since += chunk.length;
    if (since >= RELAY_LIMITS.appendReclaimEveryBytes) {
      since = 0;
      reclaimStreamChunks();
    }
  }
  return d.digest();
}

/**
 * NormalizedDigest of one message of the selected folder, read in partial FETCHes (imapflow's
 * download(), as backup does for large messages): a 100 MB message is compared without being held
 * whole. Null when the message is gone. The read has the same minimum-rate deadline as an APPEND
 * of that size; past it the session is closed.
 */
export async function digestByDownload(client: ImapFlow, uid: number, size: number, deadline?: Partial<AppendDeadline>): Promise<string | null> {
  const ms = appendDeadlineMs(size, deadline);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      client.close();
      reject(mailkeepError('CONNECTION_TIMEOUT', `the server sent a ${size}-byte message too slowly to compare it (deadline ${Math.round(ms / 1000)} s): connection closed`));
    }, ms);
  });
  const read = async (): Promise<string | null> => {
    const dl = await client.download(String(uid), undefined, { uid: true, chunkSize: RELAY_LIMITS.appendStreamChunkBytes });
    if (!dl?.content) return null;
    return await normalizedDigestOfChunks(dl.content as AsyncIterable<Buffer>);
  };
  try {
    return await Promise.race([read(), expired]);
  } finally {
    clearTimeout(timer);
  }
}
