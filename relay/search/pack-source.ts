import fs from 'node:fs';
import path from 'node:path';
import { SEARCH_LIMITS } from '../../lib/limits.ts';
import type { MessageSource } from './parse-message.ts';

/**
 * Message bytes out of the archive's packs for indexing: small messages read whole, large ones as
 * a stream of SEARCH_LIMITS.readChunkBytes chunks. Not checked against their hash (verify does
 * that; a damaged blob is still indexed by whatever of it can be read). Show and raw downloads go
 * through restore's BlobReader, which checks.
 */
export class PackSource {
  private readonly fds = new Map<string, number>();
  constructor(private readonly archiveDir: string) {}

  open(loc: { file: string; offset: number; length: number }): MessageSource {
    const file = path.join(this.archiveDir, 'packs', loc.file);
    let fd = this.fds.get(file);
    if (fd === undefined) this.fds.set(file, (fd = fs.openSync(file, 'r')));
    const fdNow = fd;
    const read = (n: number): Buffer => {
      const len = Math.min(n, loc.length);
      const buf = Buffer.allocUnsafe(len);
      let got = 0;
      while (got < len) {
        const r = fs.readSync(fdNow, buf, got, len - got, loc.offset + got);
        if (r <= 0) break;
        got += r;
      }
      return buf.subarray(0, got);
    };
    const whole = loc.length <= SEARCH_LIMITS.wholeParseBytes;
    return {
      size: loc.length,
      ...(whole ? { buffer: read(loc.length) } : {}),
      stream: () =>
        fs.createReadStream(file, { start: loc.offset, end: loc.offset + loc.length - 1, highWaterMark: SEARCH_LIMITS.readChunkBytes }),
      head: read,
    };
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}
