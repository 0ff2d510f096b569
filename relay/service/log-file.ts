import fs from 'node:fs';
import path from 'node:path';
import { SERVICE_LIMITS } from '../../lib/limits.ts';

/** The relay's log in its data dir: written by the relay, read by people and `mailkeep status`. */
export const RELAY_LOG_FILE = 'relay.log';

export interface RotatingLogOptions {
  maxBytes?: number;
  keep?: number;
  now?: () => Date;
}

/**
 * Tokens (`mk1_...`), pairing codes (`ABCD-EFGH` after the word "code") and OAuth2 values (bearer
 * tokens, access/refresh/id tokens, authorization codes, PKCE verifiers, client secrets, as
 * `name=value` or JSON) must never reach the file, whatever a caller passes: this is the last line
 * of defence, not the first.
 */
export function redactSecrets(line: string): string {
  return line
    .replace(/mk1_[A-Za-z0-9_-]+/g, 'mk1_[redacted]')
    .replace(/(code\W{0,3}\s*)[A-HJ-NP-Z2-9]{4}-?[A-HJ-NP-Z2-9]{4}\b/gi, '$1[redacted]')
    .replace(/\b(Bearer\s+)[^\s"',]+/gi, '$1[redacted]')
    .replace(/\b((?:access_token|refresh_token|id_token|code_verifier|client_secret|code|accessToken|refreshToken)["']?\s*[=:]\s*["']?)[^\s"'&,}]+/g, '$1[redacted]');
}

/**
 * An append-only log file with size-based rotation (relay.log -> relay.log.1 -> ... -> .keep,
 * the oldest deleted). Writes are synchronous: the relay logs a few lines per job, and a line must
 * be on disk before a crash that follows it. `reopen()` is the SIGHUP convention: after an outside
 * tool moved the file away, the next line goes to a fresh file under the name again.
 * Never throws: a log that cannot be written must not stop a backup.
 */
export class RotatingLog {
  private fd: number | undefined;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly now: () => Date;
  private failed = false;

  constructor(
    readonly file: string,
    opts: RotatingLogOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? SERVICE_LIMITS.logMaxBytes;
    this.keep = Math.max(1, opts.keep ?? SERVICE_LIMITS.logKeepFiles);
    this.now = opts.now ?? (() => new Date());
    this.open();
  }

  write(message: string): void {
    const text = redactSecrets(message.replace(/[\r\n]+/g, ' ')).slice(0, SERVICE_LIMITS.logMaxLineChars);
    const line = Buffer.from(`${this.now().toISOString()} ${text}\n`, 'utf8');
    try {
      if (this.fd === undefined) this.open();
      if (this.fd === undefined) return;
      // fstat, not a counter: the relay's stderr (a crash trace) may append to the same file.
      if (fs.fstatSync(this.fd).size + line.length > this.maxBytes) this.rotate();
      fs.writeSync(this.fd!, line);
    } catch (err) {
      this.warnOnce(err);
    }
  }

  /** Closes and opens the file again by name (SIGHUP). */
  reopen(): void {
    this.close();
    this.open();
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
    this.fd = undefined;
  }

  private open(): void {
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      this.fd = fs.openSync(this.file, 'a', 0o600);
    } catch (err) {
      this.fd = undefined;
      this.warnOnce(err);
    }
  }

  private rotate(): void {
    this.close();
    fs.rmSync(`${this.file}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) {
      if (fs.existsSync(`${this.file}.${i}`)) fs.renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    }
    if (fs.existsSync(this.file)) fs.renameSync(this.file, `${this.file}.1`);
    this.open();
  }

  private warnOnce(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    try {
      process.stderr.write(`mailkeep relay: cannot write ${this.file}: ${(err as Error)?.message ?? String(err)}\n`);
    } catch {
      /* no terminal either */
    }
  }
}
