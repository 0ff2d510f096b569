import fs from 'node:fs';
import path from 'node:path';
import Database from '../archive/sqlite.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';

/**
 * The relay's own state in `DATA_DIR/state.sqlite` (not the archive's index): accounts' non-secret
 * settings and schedules, the automatic retry owed, and the job history. WAL, so the CLI reads it
 * while the relay writes. Versioned by `user_version`; a newer version than this code knows is
 * refused (STATE_UNREADABLE), never rewritten.
 */
export const STATE_FILE = 'state.sqlite';
export const STATE_SCHEMA_VERSION = 1;

const SCHEMA_V1 = `
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  settings TEXT NOT NULL,            -- ImapAccount JSON (no secret)
  schedule TEXT NOT NULL,            -- Schedule JSON
  anchor_at INTEGER NOT NULL,        -- ms: previous scheduled run's start, or when the schedule was set
  deferred_until INTEGER,            -- ms: a missed run waits for this (jitter after wake/start)
  retry_at INTEGER,                  -- ms: automatic retry owed after Connection Error / Partially Completed
  password_changed_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_at TEXT NOT NULL,          -- ISO, as in the snapshot (sorts as time)
  snapshot TEXT NOT NULL,            -- JobSnapshot JSON
  params TEXT NOT NULL DEFAULT '{}', -- JobParams JSON, to resume an interrupted job as asked
  resume_on_start INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_account ON jobs(account_id, kind, created_at);
CREATE INDEX jobs_by_time ON jobs(created_at);
`;

export type StateDb = Database.Database;

export function openStateDb(dataDir: string, opts: { readonly?: boolean } = {}): StateDb {
  const file = path.join(dataDir, STATE_FILE);
  let db: StateDb;
  try {
    db = new Database(file, opts.readonly ? { readonly: true, fileMustExist: true } : {});
    // Accounts, schedules and job history are private like the credential file beside it (SQLite
    // gives its -wal and -shm files the database file's mode).
    if (!opts.readonly) fs.chmodSync(file, 0o600);
  } catch (err) {
    if (opts.readonly && (err as { code?: string }).code === 'SQLITE_CANTOPEN') throw mailkeepError('NOT_FOUND', `${file} does not exist yet`, {}, err);
    throw mailkeepError('STATE_UNREADABLE', `${file} cannot be opened: ${(err as Error).message}`, {}, err);
  }
  try {
    db.pragma(`busy_timeout = ${RELAY_LIMITS.sqliteBusyTimeoutMs}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > STATE_SCHEMA_VERSION) {
      throw mailkeepError('STATE_UNREADABLE', `${file} was written by a newer Mailkeep (schema ${version}, this one knows ${STATE_SCHEMA_VERSION}); nothing was changed`);
    }
    if (opts.readonly) {
      if (version < STATE_SCHEMA_VERSION) throw mailkeepError('NOT_FOUND', `${file} is not set up yet`);
      return db;
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    if (version === 0) {
      db.transaction(() => {
        db.exec(SCHEMA_V1);
        db.pragma(`user_version = ${STATE_SCHEMA_VERSION}`);
      }).immediate();
    }
    return db;
  } catch (err) {
    db.close();
    if ((err as { name?: string }).name === 'MailkeepError') throw err;
    throw mailkeepError('STATE_UNREADABLE', `${file} is not a Mailkeep state file: ${(err as Error).message}`, {}, err);
  }
}
