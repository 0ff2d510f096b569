import fs from 'node:fs';
import Database from './sqlite.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';

/**
 * The archive's SQLite index. Its tables are documented in docs/archive-format.md; keep the two in
 * step. `user_version` is the schema version: a newer archive is refused rather than misread.
 * Version 2 adds the journal (`meta.journal_pos`, `packs.end_offset`): the index is derived from
 * the journal and the packs and can be rebuilt from them (`mailkeep repair`). Version 3 adds Gmail's
 * identity of a membership (`messages.gm_msgid`, `gm_thrid`, `gm_labels`): the copies of one Gmail
 * message in its label folders are grouped by X-GM-MSGID (restore appends it once).
 */
export const SCHEMA_VERSION = 3;

const DDL = `
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY,
  host TEXT NOT NULL, port INTEGER NOT NULL, user TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (host, port, user)
);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  started_at TEXT NOT NULL, finished_at TEXT,
  status TEXT, error_code TEXT,
  new_messages INTEGER NOT NULL DEFAULT 0, new_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS folders (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  raw_name TEXT NOT NULL, name TEXT NOT NULL, delimiter TEXT, special_use TEXT,
  added_run INTEGER NOT NULL, gone_run INTEGER,
  UNIQUE (account_id, raw_name)
);
CREATE TABLE IF NOT EXISTS checkpoints (
  folder_id INTEGER PRIMARY KEY REFERENCES folders(id),
  uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL DEFAULT 0,
  highestmodseq TEXT, uidnext INTEGER, messages INTEGER,
  complete_run INTEGER, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS packs (
  id INTEGER PRIMARY KEY, file TEXT NOT NULL UNIQUE, end_offset INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS blobs (
  hash TEXT PRIMARY KEY,
  pack_id INTEGER NOT NULL REFERENCES packs(id),
  offset INTEGER NOT NULL, length INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY,
  folder_id INTEGER NOT NULL REFERENCES folders(id),
  uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
  blob_hash TEXT NOT NULL REFERENCES blobs(hash),
  flags TEXT NOT NULL, keywords TEXT NOT NULL,
  internaldate TEXT, size INTEGER NOT NULL, message_id TEXT, modseq TEXT,
  added_run INTEGER NOT NULL, gone_run INTEGER,
  gm_msgid TEXT, gm_thrid TEXT, gm_labels TEXT,
  UNIQUE (folder_id, uidvalidity, uid)
);
CREATE INDEX IF NOT EXISTS messages_by_blob ON messages(blob_hash);
CREATE INDEX IF NOT EXISTS messages_by_msgid ON messages(message_id, size);
CREATE INDEX IF NOT EXISTS messages_gone ON messages(gone_run) WHERE gone_run IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_by_gm_msgid ON messages(gm_msgid) WHERE gm_msgid IS NOT NULL;
CREATE TABLE IF NOT EXISTS run_folders (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  folder_id INTEGER NOT NULL REFERENCES folders(id),
  state TEXT NOT NULL, messages INTEGER, uidvalidity INTEGER, uidnext INTEGER,
  PRIMARY KEY (run_id, folder_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/** Version 1 -> 2: what the journal needs. The journal itself is written by the writer (bootstrap). */
const UPGRADE_1_TO_2 = `
ALTER TABLE packs ADD COLUMN end_offset INTEGER NOT NULL DEFAULT 0;
UPDATE packs SET end_offset = COALESCE((SELECT MAX(offset + length) FROM blobs WHERE pack_id = packs.id), 0);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/**
 * Version 2 -> 3: Gmail's ids, nullable (every earlier row is a non-Gmail membership or one backed
 * up before Gmail mode; the next backup fills in what it sees). The journal needs no bootstrap:
 * its `msg` ops simply gain optional fields.
 */
const UPGRADE_2_TO_3 = `
ALTER TABLE messages ADD COLUMN gm_msgid TEXT;
ALTER TABLE messages ADD COLUMN gm_thrid TEXT;
ALTER TABLE messages ADD COLUMN gm_labels TEXT;
CREATE INDEX IF NOT EXISTS messages_by_gm_msgid ON messages(gm_msgid) WHERE gm_msgid IS NOT NULL;
`;

export type Db = Database.Database;

/**
 * True when the index has the Gmail columns (version 3). A reader never upgrades, so an archive
 * last written by an older Mailkeep is read without them (every row then counts as non-Gmail).
 */
export function hasGmailColumns(db: Db): boolean {
  return (db.prepare("SELECT 1 FROM pragma_table_info('messages') WHERE name = 'gm_msgid'").get() as unknown) !== undefined;
}

/**
 * `reader: true` opens an existing index (creating only a missing schema) and never upgrades it:
 * a version-1 index is upgraded by a writer only, together with its journal bootstrap. It still
 * opens read-write: after a writer was killed, SQLite must recover the WAL, which a read-only
 * handle cannot do ("attempt to write a readonly database"). Readers never write rows.
 *
 * A writer runs `synchronous = NORMAL` (WAL): every transaction it commits was first made durable
 * in the journal, so a transaction lost to power loss is replayed from the journal on the next open
 * (docs/archive-format.md, "Durability").
 */
export function openIndex(file: string, opts: { reader?: boolean } = {}): Db {
  if (!opts.reader && !fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600)); // private from birth; -wal/-shm inherit the mode
  const db = new Database(file, { fileMustExist: opts.reader ?? false });
  try {
    db.pragma(`busy_timeout = ${RELAY_LIMITS.sqliteBusyTimeoutMs}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      throw new Error(`archive index schema ${version} is newer than this Mailkeep understands (${SCHEMA_VERSION})`);
    if (!opts.reader) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
    }
    // A writer killed before its first commit leaves an empty index: readers see an empty archive.
    // Schema and version in one transaction, so no one ever sees half a schema.
    if (version === 0)
      db.transaction(() => {
        db.exec(DDL);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    else if (version < SCHEMA_VERSION && !opts.reader)
      // One transaction for every step: a crash leaves the old version whole, never half an upgrade.
      db.transaction(() => {
        if (version < 2) db.exec(UPGRADE_1_TO_2);
        if (version < 3) db.exec(UPGRADE_2_TO_3);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The journal position (file number and byte offset) the index has applied, or null before any. */
export function journalPosition(db: Db): { file: number; offset: number } | null {
  const v = db.prepare<[], string>("SELECT value FROM meta WHERE key = 'journal_pos'").pluck().get();
  if (v === undefined) return null;
  const [file, offset] = v.split(':').map(Number);
  return { file: file!, offset: offset! };
}

export function setJournalPosition(db: Db, pos: { file: number; offset: number }): void {
  db.prepare("INSERT INTO meta (key, value) VALUES ('journal_pos', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(`${pos.file}:${pos.offset}`);
}

