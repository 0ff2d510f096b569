import fs from 'node:fs';
import { crc32 } from './crc32.ts';
import { BufferedOutput, type OpenOutput } from './output-file.ts';

/**
 * A streaming zip writer: stored entries (mail is mostly text already compressed by transfer
 * encodings; storing keeps the export fast and the bytes findable), sizes and CRC-32 after the
 * data in a data descriptor (general-purpose bit 3), so nothing is held in memory or written
 * twice. Zip64 (APPNOTE 6.3.x, section 4.3.9 and 4.5.3) whenever a size or offset passes
 * 0xFFFFFFFE or the entry count passes 0xFFFE, or always with `forceZip64` (which is how the tests
 * check the zip64 structure without writing 4 GB).
 *
 * Like yazl, the local header never carries the zip64 extra field (its sizes are unknown when it
 * is written); readers take sizes from the central directory, which does.
 *
 * Central directory records go to a side file as entries finish and are copied in at the end:
 * memory stays flat for a million entries too.
 */
const MAX32 = 0xffffffff;
const NEEDS64 = 0xfffffffe;
const FLAGS = 0x0008 | 0x0800; // data descriptor follows; names are UTF-8
const MADE_BY = (3 << 8) | 45; // UNIX, spec 4.5

export interface ZipWriterOptions {
  forceZip64?: boolean;
}

function dosDateTime(d: Date): { time: number; date: number } {
  const y = d.getUTCFullYear();
  if (y < 1980) return { time: 0, date: (0 << 9) | (1 << 5) | 1 };
  if (y > 2107) return { time: (23 << 11) | (59 << 5) | 29, date: (127 << 9) | (12 << 5) | 31 };
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    date: ((y - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

export class ZipWriter {
  private entries = 0;
  private any64: boolean;
  private cdBytes = 0;
  private open = false;

  private constructor(
    private readonly out: BufferedOutput,
    private readonly cd: BufferedOutput,
    private readonly cdPath: string,
    private readonly closeCd: () => Promise<void>,
    private readonly opts: ZipWriterOptions,
  ) {
    this.any64 = !!opts.forceZip64;
  }

  /** `cdPath`: a side file for central directory records (removed by the caller on failure too). */
  static async create(out: BufferedOutput, cdPath: string, openOutput: OpenOutput, opts: ZipWriterOptions = {}): Promise<ZipWriter> {
    const cdFile = await openOutput(cdPath);
    return new ZipWriter(out, new BufferedOutput(cdFile, 256 * 1024), cdPath, () => cdFile.close(), opts);
  }

  /** Adds one entry; `body` writes its bytes through the given function, in order. */
  async add(name: string, modified: Date, body: (write: (chunk: Uint8Array) => Promise<void>) => Promise<void>): Promise<void> {
    if (this.open) throw new Error('zip entries must be added one at a time');
    this.open = true;
    const nameBytes = Buffer.from(name, 'utf8');
    const { time, date } = dosDateTime(modified);
    const offset = this.out.offset;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(this.opts.forceZip64 ? 45 : 20, 4);
    local.writeUInt16LE(FLAGS, 6);
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    // crc and sizes stay 0: they follow in the data descriptor
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    await this.out.write(local);
    await this.out.write(nameBytes);

    let crc = 0;
    let size = 0;
    await body(async (chunk) => {
      if (!chunk.length) return;
      crc = crc32(chunk, crc);
      size += chunk.length;
      await this.out.write(chunk);
    });

    const zip64 = !!this.opts.forceZip64 || size > NEEDS64 || offset > NEEDS64;
    if (zip64) this.any64 = true;
    const dd = Buffer.alloc(zip64 ? 24 : 16);
    dd.writeUInt32LE(0x08074b50, 0);
    dd.writeUInt32LE(crc, 4);
    if (zip64) {
      dd.writeBigUInt64LE(BigInt(size), 8);
      dd.writeBigUInt64LE(BigInt(size), 16);
    } else {
      dd.writeUInt32LE(size, 8);
      dd.writeUInt32LE(size, 12);
    }
    await this.out.write(dd);

    const extra = zip64 ? Buffer.alloc(28) : Buffer.alloc(0);
    if (zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(size), 4);
      extra.writeBigUInt64LE(BigInt(size), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(MADE_BY, 4);
    c.writeUInt16LE(zip64 ? 45 : 20, 6);
    c.writeUInt16LE(FLAGS, 8);
    c.writeUInt16LE(0, 10);
    c.writeUInt16LE(time, 12);
    c.writeUInt16LE(date, 14);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(zip64 ? MAX32 : size, 20);
    c.writeUInt32LE(zip64 ? MAX32 : size, 24);
    c.writeUInt16LE(nameBytes.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt16LE(0, 32); // comment
    c.writeUInt16LE(0, 34); // disk
    c.writeUInt16LE(0, 36); // internal attributes
    c.writeUInt32LE((0o100644 << 16) >>> 0, 38); // -rw-r--r--
    c.writeUInt32LE(zip64 ? MAX32 : offset, 42);
    await this.cd.write(c);
    await this.cd.write(nameBytes);
    await this.cd.write(extra);
    this.cdBytes += c.length + nameBytes.length + extra.length;
    this.entries++;
    this.open = false;
  }

  /** Central directory, zip64 end records when needed, end of central directory. */
  async finish(): Promise<void> {
    await this.cd.flush();
    await this.closeCd();
    const cdOffset = this.out.offset;
    for await (const chunk of fs.createReadStream(this.cdPath, { highWaterMark: 1024 * 1024 })) await this.out.write(chunk as Buffer);
    await fs.promises.rm(this.cdPath, { force: true });
    const zip64 = this.any64 || this.entries > 0xfffe || cdOffset > NEEDS64 || this.cdBytes > NEEDS64;
    if (zip64) {
      const eocd64Offset = this.out.offset;
      const r = Buffer.alloc(56);
      r.writeUInt32LE(0x06064b50, 0);
      r.writeBigUInt64LE(44n, 4);
      r.writeUInt16LE(MADE_BY, 12);
      r.writeUInt16LE(45, 14);
      r.writeUInt32LE(0, 16);
      r.writeUInt32LE(0, 20);
      r.writeBigUInt64LE(BigInt(this.entries), 24);
      r.writeBigUInt64LE(BigInt(this.entries), 32);
      r.writeBigUInt64LE(BigInt(this.cdBytes), 40);
      r.writeBigUInt64LE(BigInt(cdOffset), 48);
      await this.out.write(r);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeUInt32LE(0, 4);
      loc.writeBigUInt64LE(BigInt(eocd64Offset), 8);
      loc.writeUInt32LE(1, 16);
      await this.out.write(loc);
    }
    const e = Buffer.alloc(22);
    e.writeUInt32LE(0x06054b50, 0);
    e.writeUInt16LE(0, 4);
    e.writeUInt16LE(0, 6);
    e.writeUInt16LE(zip64 ? 0xffff : this.entries, 8);
    e.writeUInt16LE(zip64 ? 0xffff : this.entries, 10);
    e.writeUInt32LE(zip64 ? MAX32 : this.cdBytes, 12);
    e.writeUInt32LE(zip64 ? MAX32 : cdOffset, 16);
    e.writeUInt16LE(0, 20);
    await this.out.write(e);
    await this.out.flush();
  }

  /** Releases the side file after a failure (the caller removes the main temp file). */
  async abort(): Promise<void> {
    await this.closeCd().catch(() => undefined);
    await fs.promises.rm(this.cdPath, { force: true });
  }
}
