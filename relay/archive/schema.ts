import Database from 'better-sqlite3';
import { RELAY_LIMITS } from '../../lib/limits.ts';

/**
 * The archive's SQLite index. Its tables are documented in docs/archive-format.md; keep the two in
 * step. `user_version` is the schema version: a newer archive is refused rather than misread.
 */
export const SCHEMA_VERSION = 1;

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
  id INTEGER PRIMARY KEY, file TEXT NOT NULL UNIQUE
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
  UNIQUE (folder_id, uidvalidity, uid)
);
CREATE INDEX IF NOT EXISTS messages_by_blob ON messages(blob_hash);
CREATE INDEX IF NOT EXISTS messages_by_msgid ON messages(message_id, size);
CREATE INDEX IF NOT EXISTS messages_gone ON messages(gone_run) WHERE gone_run IS NOT NULL;
CREATE TABLE IF NOT EXISTS run_folders (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  folder_id INTEGER NOT NULL REFERENCES folders(id),
  state TEXT NOT NULL, messages INTEGER, uidvalidity INTEGER, uidnext INTEGER,
  PRIMARY KEY (run_id, folder_id)
) WITHOUT ROWID;
`;

export type Db = Database.Database;

/**
 * `reader: true` opens an existing index (creating only a missing schema). It still opens read-write:
 * after a writer was killed, SQLite must recover the WAL, which a read-only handle cannot do
 * ("attempt to write a readonly database"). Readers never write rows.
 */
export function openIndex(file: string, opts: { reader?: boolean } = {}): Db {
  const db = new Database(file, { fileMustExist: opts.reader ?? false });
  db.pragma(`busy_timeout = ${RELAY_LIMITS.sqliteBusyTimeoutMs}`);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new Error(`archive index schema ${version} is newer than this Mailkeep understands (${SCHEMA_VERSION})`);
  }
  if (!opts.reader) {
    db.pragma('journal_mode = WAL');
    // FULL: a committed transaction survives power loss; group commit keeps this cheap.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  }
  // A writer killed before its first commit leaves an empty index: readers see an empty archive.
  // Schema and version in one transaction, so no one ever sees half a schema.
  if (version < SCHEMA_VERSION)
    db.transaction(() => {
      db.exec(DDL);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  return db;
}
