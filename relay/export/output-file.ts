import fs from 'node:fs';

/**
 * Where an export writes: a file written front to back. Behind an interface so a test can put a
 * disk that fills up (ENOSPC) underneath without needing root for a tiny tmpfs.
 */
export interface OutputFile {
  write(data: Uint8Array): Promise<void>;
  /** fsync: the renamed file must not be an empty shell after a power cut. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export type OpenOutput = (path: string) => Promise<OutputFile>;

export const openOutputFile: OpenOutput = async (path) => {
  // 'wx': never follow or clobber something already at the temporary name.
  const fh = await fs.promises.open(path, 'wx', 0o600);
  return {
    async write(data) {
      let at = 0;
      while (at < data.length) {
        const { bytesWritten } = await fh.write(data, at, data.length - at);
        at += bytesWritten;
      }
    },
    sync: () => fh.sync(),
    close: () => fh.close(),
  };
};

/**
 * Coalesces the many small writes of a zip (headers, "From " lines, chunks) into large ones; the
 * buffer is fixed, so memory does not depend on what is exported.
 */
export class BufferedOutput {
  private readonly buf: Buffer;
  private used = 0;
  /** Bytes handed to write() so far: the zip's current offset. */
  offset = 0;

  constructor(
    private readonly file: OutputFile,
    size = 1024 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  async write(data: Uint8Array): Promise<void> {
    this.offset += data.length;
    if (data.length >= this.buf.length) {
      await this.flush();
      await this.file.write(data);
      return;
    }
    if (this.used + data.length > this.buf.length) await this.flush();
    this.buf.set(data, this.used);
    this.used += data.length;
  }

  async flush(): Promise<void> {
    if (!this.used) return;
    const n = this.used;
    this.used = 0;
    await this.file.write(this.buf.subarray(0, n));
  }
}
