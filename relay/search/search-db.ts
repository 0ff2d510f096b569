import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from '../archive/sqlite.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { writable } from '../archive/archive-path-error.ts';
import { openArchiveIndex } from '../archive/archive-reader.ts';
import type { Db } from '../archive/schema.ts';
import { TOKENIZER } from './search-text.ts';

/**
 * The search index: `<archive>/search.sqlite`, beside the archive's own index and derived from it
 * and the packs only, so it is a cache: deleting it loses nothing (the next update or `mailkeep
 * reindex` builds it again), and nothing else in the archive refers to it (repair, verify, export
 * and backup never open it).
 *
 *   docs     one row per distinct message content (blob): size, date, attachment mark, why it could
 *            not be parsed. Its id is the message's date key, (Date seconds << 16) | n, so the
 *            primary key order is date order: newest-first results walk the index backwards and
 *            stop after one page, with or without a full-text match. Narrow on purpose: a query of
 *            filters only (larger:, has:attachment, is:deleted-on-server) walks it without
 *            reading any text.
 *   texts    the decoded text of each doc (same id): Subject, From, To, Cc, body text, attachment names.
 *   fts      FTS5 over texts (external content: the text is stored once; snippets read it).
 *   members  one row per archived membership (folder, UIDVALIDITY, UID) that points at a doc: the
 *            archive's facts that never change for a row. What may change (flags, gone_run) is
 *            read from the archive index itself, attached read-only as `arc`, in the same query.
 *   meta     schema version and the highest archive messages.id taken in (the incremental mark).
 *
 * A search.sqlite this version cannot read (damaged, or another schema version) is rebuilt: it is
 * a cache.
 */
export const SEARCH_SCHEMA_VERSION = 2;
export const SEARCH_FILE = 'search.sqlite';

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  date INTEGER,
  size INTEGER NOT NULL,
  attach INTEGER NOT NULL,
  unparsed TEXT
);
CREATE TABLE IF NOT EXISTS texts (
  id INTEGER PRIMARY KEY,
  subject TEXT NOT NULL, sender TEXT NOT NULL, recipients TEXT NOT NULL, cc TEXT NOT NULL,
  body TEXT NOT NULL, filenames TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(subject, sender, recipients, cc, body, filenames,
  content='texts', content_rowid='id', tokenize="${TOKENIZER}");
CREATE TABLE IF NOT EXISTS members (
  folder_id INTEGER NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL, doc INTEGER NOT NULL,
  PRIMARY KEY (folder_id, uidvalidity, uid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_folder ON members(folder_id, doc);
CREATE INDEX IF NOT EXISTS members_by_doc ON members(doc);
`;

/**
 * Beside the archive; for an archive on a read-only location (a mount, a snapshot), in the user's
 * cache directory under a name derived from the archive's real path (MAILKEEP_SEARCH_CACHE_DIR or
 * $XDG_CACHE_HOME/mailkeep/search or ~/.cache/mailkeep/search).
 */
export function searchFile(archiveDir: string): string {
  if (writable(archiveDir)) return path.join(archiveDir, SEARCH_FILE);
  const real = fs.realpathSync(archiveDir);
  const dir = process.env.MAILKEEP_SEARCH_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mailkeep', 'search');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // node:crypto is loaded here only: a one-shot `mailkeep search` of a writable archive skips
  // its load (about 2 ms).
  const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return path.join(dir, `${createHash('sha256').update(real).digest('hex').slice(0, 24)}.sqlite`);
}

/** Columns of fts, in order (the FTS5 column filters of compiled queries name them). */
export const FTS_COLUMNS = ['subject', 'sender', 'recipients', 'cc', 'body', 'filenames'] as const;

function isUnreadable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code);
}

function create(file: string): Db {
  if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600)); // mail text: private from birth, like the archive
  const db = new Database(file, { timeout: RELAY_LIMITS.sqliteBusyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${RELAY_LIMITS.sqliteBusyTimeoutMs}`);
    db.pragma('journal_mode = WAL');
    // A cache: a transaction lost to power loss is indexed again from the archive.
    db.pragma('synchronous = OFF');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== 0 && version !== SEARCH_SCHEMA_VERSION) {
      db.close();
      return recreate(file);
    }
    if (version === 0)
      db.transaction(() => {
        db.exec(DDL);
        db.pragma(`user_version = ${SEARCH_SCHEMA_VERSION}`);
      })();
    return db;
  } catch (err) {
    db.close();
    if (isUnreadable(err)) return recreate(file);
    throw err;
  }
}

/** Drops a search index this version cannot use (it is a cache) and starts an empty one. */
function recreate(file: string): Db {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  return create(file);
}

/**
 * Opens the search index read-write (creating it) with the archive index attached read-only as
 * `arc`. Archive errors are the archive readers' (NOT_FOUND, ARCHIVE_INDEX_MISSING, ARCHIVE_DAMAGED).
 */
export function openSearchDb(archiveDir: string): Db {
  // The archive readers' checks first (missing, damaged, a killed writer's WAL recovered).
  openArchiveIndex(archiveDir, { onWarning: () => {} }).db.close();
  const db = create(searchFile(archiveDir));
  try {
    attachArchive(db, archiveDir);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Empties the search index in one transaction (mailkeep reindex): readers see it fill up again. */
export function clearSearchDb(db: Db): void {
  db.transaction(() => {
    db.exec(`DELETE FROM members; DELETE FROM docs; DELETE FROM texts; DELETE FROM meta; INSERT INTO fts(fts) VALUES ('delete-all');`);
  })();
}

function attachArchive(db: Db, archiveDir: string): void {
  const url = pathToFileURL(path.join(archiveDir, 'index.sqlite')).href;
  try {
    db.prepare('ATTACH DATABASE ? AS arc').run(`${url}?mode=ro`);
    db.prepare('SELECT COUNT(*) FROM arc.sqlite_master').get();
  } catch (err) {
    const code = (err as { code?: unknown })?.code;
    if (typeof code !== 'string' || !/^SQLITE_(CANTOPEN|READONLY|IOERR)/.test(code)) throw err;
    try {
      db.exec('DETACH DATABASE arc');
    } catch {
      /* not attached */
    }
    // A read-only location: read the file as it is (open-index-readonly.ts does the same).
    db.prepare('ATTACH DATABASE ? AS arc').run(`${url}?immutable=1`);
  }
}

export function metaGet(db: Db, key: string): string | undefined {
  return db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck().get(key);
}

export function metaSet(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}
