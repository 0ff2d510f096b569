import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from '../archive/sqlite.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';

/**
 * What Mailkeep appended where (docs/same-message.md): for each APPEND the server answered with
 * APPENDUID (UIDPLUS), the destination folder, its UIDVALIDITY, the new UID and what was sent (the
 * archive blob for restore, the source message for migrate). A rerun that finds the recorded UID
 * still in a folder of the same UIDVALIDITY knows the message is there without comparing content,
 * whatever the server did to the bytes.
 *
 * A cache, not the truth: every entry is checked against the server before it is believed, and a
 * lost or stale record only sends the comparison back to the keys of restore-presence.ts. So it
 * lives in the relay's data dir (one SQLite file per destination account), not in an archive:
 * migrate has no archive, a restore may read an archive it must not write, and the archive's index
 * is rebuilt from its journal, which has no business holding the state of other servers.
 *
 * Durability: each entry is its own committed transaction, written as the APPEND's answer is read,
 * in order (APPENDs are pipelined: relay/jobs/append-window.ts) (WAL, synchronous=NORMAL: a killed relay loses nothing committed; a power loss may
 * lose the last entries, which the keys then catch). The WAL is checkpointed on close.
 */
export interface AppendRecord {
  uid: number;
  /** Seconds since the epoch of the INTERNALDATE sent, or null when none was. */
  dateSec: number | null;
}

/** Who a destination is: one record file each. The password is no part of it. */
export interface DestinationIdentity {
  host: string;
  port: number;
  user: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS appended (
  folder TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  source TEXT NOT NULL,
  date_sec INTEGER,
  size INTEGER NOT NULL,
  PRIMARY KEY (folder, uidvalidity, uid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS destination (host TEXT NOT NULL, port INTEGER NOT NULL, user TEXT NOT NULL);
`;

/** The record file of one destination account inside `dir`. */
export function appendRecordFile(dir: string, dest: DestinationIdentity): string {
  const id = `${dest.host.toLowerCase()}\0${dest.port}\0${dest.user}`;
  return path.join(dir, `${crypto.createHash('sha256').update(id).digest('hex').slice(0, 32)}.sqlite`);
}

/** INBOX is case-insensitive (RFC 3501); every other name is the server's, as listed. */
function folderKey(folder: string): string {
  return folder.toUpperCase() === 'INBOX' ? 'INBOX' : folder;
}

export class AppendRecords {
  /** Folder generations whose entries of other UIDVALIDITYs were already dropped in this session. */
  private readonly pruned = new Set<string>();
  private insert: Database.Statement | undefined;
  private failed = false;

  private constructor(private readonly db: Database.Database | null) {}

  /** No records at all: every presence question goes to the keys. */
  static none(): AppendRecords {
    return new AppendRecords(null);
  }

  /**
   * Opens (creating unless `readOnly`) the record file of `dest` in `dir`. Read-only (a dry run)
   * with no file yet: no records. A file that cannot be opened (damaged, not SQLite) is set aside
   * as `<file>.damaged-<time>` and a new one started; no file at all can be had: no records. Never
   * throws: records are a cache, and the keys decide without them.
   */
  static open(dir: string | undefined, dest: DestinationIdentity, opts: { readOnly?: boolean } = {}): AppendRecords {
    if (!dir) return AppendRecords.none();
    const file = appendRecordFile(dir, dest);
    if (opts.readOnly && !fs.existsSync(file)) return AppendRecords.none();
    const open = (): Database.Database => {
      if (!opts.readOnly) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const db = new Database(file, opts.readOnly ? { readonly: true, fileMustExist: true } : {});
      db.pragma(`busy_timeout = ${RELAY_LIMITS.sqliteBusyTimeoutMs}`);
      if (!opts.readOnly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.exec(SCHEMA);
        if (!db.prepare('SELECT 1 FROM destination').get()) db.prepare('INSERT INTO destination (host, port, user) VALUES (?, ?, ?)').run(dest.host.toLowerCase(), dest.port, dest.user);
      }
      db.prepare('SELECT count(*) FROM appended WHERE 0').get();
      return db;
    };
    try {
      return new AppendRecords(open());
    } catch {
      if (opts.readOnly) return AppendRecords.none();
    }
    try {
      for (const ext of ['', '-wal', '-shm']) if (fs.existsSync(file + ext)) fs.renameSync(file + ext, `${file}.damaged-${Date.now()}${ext}`);
      return new AppendRecords(open());
    } catch {
      return AppendRecords.none(); // no place for a cache: the keys alone decide
    }
  }

  /** source -> records in `folder` under this UIDVALIDITY; entries under any other are ignored. */
  folder(folder: string, uidValidity: number): Map<string, AppendRecord[]> {
    const out = new Map<string, AppendRecord[]>();
    if (!this.db) return out;
    let rows: { uid: number; source: string; date_sec: number | null }[];
    try {
      rows = this.db
        .prepare<[string, number], { uid: number; source: string; date_sec: number | null }>('SELECT uid, source, date_sec FROM appended WHERE folder = ? AND uidvalidity = ? ORDER BY uid')
        .all(folderKey(folder), uidValidity);
    } catch {
      return out; // unreadable cache: the keys decide
    }
    for (const r of rows) {
      const list = out.get(r.source) ?? [];
      list.push({ uid: r.uid, dateSec: r.date_sec });
      out.set(r.source, list);
    }
    return out;
  }

  /**
   * Records one APPEND the server confirmed with APPENDUID; committed when this returns. A folder
   * whose UIDVALIDITY changed loses its older entries here (they can never be believed again).
   */
  note(folder: string, appended: { uidValidity: number; uid: number }, source: string, internalDate: Date | null, size: number): void {
    if (!this.db || this.failed) return;
    try {
      this.write(folder, appended, source, internalDate, size);
    } catch {
      // A cache that cannot be written (disk full, file damaged under us) is given up for this run:
      // the message is on the server, and the keys find it on the next one.
      this.failed = true;
    }
  }

  private write(folder: string, appended: { uidValidity: number; uid: number }, source: string, internalDate: Date | null, size: number): void {
    const db = this.db!;
    const key = folderKey(folder);
    const dateSec = internalDate ? Math.floor(internalDate.getTime() / 1000) : null;
    const generation = `${key}\0${appended.uidValidity}`;
    if (!this.pruned.has(generation)) {
      this.pruned.add(generation);
      db.prepare('DELETE FROM appended WHERE folder = ? AND uidvalidity != ?').run(key, appended.uidValidity);
    }
    this.insert ??= db.prepare('INSERT OR REPLACE INTO appended (folder, uidvalidity, uid, source, date_sec, size) VALUES (?, ?, ?, ?, ?, ?)');
    this.insert.run(key, appended.uidValidity, appended.uid, source, dateSec, size);
  }

  /** Checkpoints the WAL into the file (with its fsync) and closes. */
  close(): void {
    if (!this.db) return;
    try {
      if (!this.db.readonly) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      /* the WAL stays; the next open replays it */
    }
    this.db.close();
  }
}

/** What a restore sent: the archive blob (its SHA-256). */
export function blobSource(hash: string): string {
  return `blob:${hash}`;
}

/** What a migrate sent: the source message (account, folder, UIDVALIDITY, UID). */
export function imapSource(src: DestinationIdentity, folder: string, uidValidity: number, uid: number): string {
  return `imap:${src.host.toLowerCase()}:${src.port}:${src.user}\0${folder}\0${uidValidity}\0${uid}`;
}
