import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { writable } from './archive-path-error.ts';
import { asIndexError, indexDamagedError, isIndexCorruption } from './index-damage.ts';
import { openIndex, SCHEMA_VERSION, type Db } from './schema.ts';
// URI filenames on (the immutable open below is by URI): sqlite.ts.
import Database from './sqlite.ts';

export type IndexOpenMode = 'readonly' | 'immutable' | 'empty';

export interface ReadOnlyIndex {
  db: Db;
  /**
   * readonly: an ordinary read-only handle (it sees a running or killed writer's WAL);
   * immutable: the directory is read-only and SQLite could not set up its WAL there, so the file
   * is read as it is, without locks or WAL; empty: a writer was killed before its first commit.
   */
  mode: IndexOpenMode;
  warnings: string[];
}

/** Open failures that mean "SQLite cannot create or lock -wal/-shm here", not a damaged file. */
const CANNOT_SET_UP = /^SQLITE_(CANTOPEN|READONLY|IOERR|PERM)/;


/**
 * Opens `dir/index.sqlite` without ever writing to it: read-only, and when even that fails because
 * the directory is read-only (a read-only mount, a snapshot) and the WAL cannot be created or
 * recovered there, as an immutable file (`file:...?immutable=1`). An immutable open cannot see
 * changes still in `index.sqlite-wal`: when that file holds any, a warning says so rather than
 * silently reading an older state. `immutable: true` (or MAILKEEP_INDEX_IMMUTABLE=1) forces that
 * path. Every SQLite corruption error of the returned handle is ARCHIVE_DAMAGED naming repair.
 */
export function openIndexReadOnly(dir: string, opts: { immutable?: boolean } = {}): ReadOnlyIndex {
  const file = path.join(dir, 'index.sqlite');
  const warnings: string[] = [];
  const forced = opts.immutable ?? process.env.MAILKEEP_INDEX_IMMUTABLE === '1';
  let opened: { db: Db; version: number } | null = null;
  let mode: IndexOpenMode = 'readonly';
  if (!forced) {
    try {
      opened = probe(file, dir);
    } catch (err) {
      const code = (err as { code?: unknown })?.code;
      if (typeof code !== 'string' || !CANNOT_SET_UP.test(code)) throw err;
      // Only a directory nobody can write to gets the immutable open below: it takes no locks, so
      // beside a live writer it could read half-written pages; no writer can run where it is read-only.
      if (writable(dir)) {
        // The WAL of a writer that was killed needs recovery, which a read-only handle cannot do
        // ("attempt to write a readonly database"). In a writable directory SQLite recovers it on a
        // read-write open: no row is written, the committed transactions become readable.
        probe(file, dir, false).db.close();
        opened = probe(file, dir);
      }
    }
  }
  if (!opened) {
    mode = 'immutable';
    try {
      opened = probe(`${pathToFileURL(file).href}?immutable=1`, dir);
    } catch (err) {
      if ((err as { code?: unknown })?.code !== 'SQLITE_CANTOPEN') throw err;
      throw mailkeepError(
        'UNKNOWN',
        `cannot open ${file} read-only (its directory is not writable, and this process has URI filenames turned off: SQLITE_USE_URI=0); copy the archive to a writable place`,
        { archive: dir },
        err,
      );
    }
    const wal = fs.statSync(`${file}-wal`, { throwIfNoEntry: false });
    if (wal && wal.size > 0)
      warnings.push(
        `${file}-wal holds ${wal.size} bytes of committed changes that cannot be applied on a read-only location: the newest rows (of the last backup) may be missing; copy the archive to a writable place to read them`,
      );
  }
  const { db, version } = opened;
  if (version > SCHEMA_VERSION) {
    db.close();
    throw mailkeepError('INVALID_INPUT', `archive index schema ${version} is newer than this Mailkeep understands (${SCHEMA_VERSION}): update Mailkeep`, { archive: dir });
  }
  if (version === 0) {
    // A writer killed before its first commit: an empty archive, read through an empty schema.
    db.close();
    return { db: guardIndex(openIndex(':memory:'), dir), mode: 'empty', warnings };
  }
  return { db: guardIndex(db, dir), mode, warnings };
}

/**
 * Opens and reads the header (WAL set-up happens on the first read, not in the constructor).
 * `readonly: false` only to let SQLite recover a killed writer's WAL: nothing is written.
 */
function probe(filename: string, dir: string, readonly = true): { db: Db; version: number } {
  const db = new Database(filename, { readonly, fileMustExist: true, timeout: RELAY_LIMITS.sqliteBusyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${RELAY_LIMITS.sqliteBusyTimeoutMs}`);
    // user_version is in the header; the schema read makes SQLite parse page 1 (and the WAL) now.
    const version = db.pragma('user_version', { simple: true }) as number;
    db.prepare('SELECT COUNT(*) FROM sqlite_master').pluck().get();
    return { db, version };
  } catch (err) {
    db.close();
    if (isIndexCorruption(err)) throw indexDamagedError(dir, err);
    throw err;
  }
}

type Fn = (...args: unknown[]) => unknown;

/** Replaces `obj[name]` by a wrapper that turns corruption errors into ARCHIVE_DAMAGED. */
function guardMethod(obj: object, name: string, dir: string, after?: (result: unknown) => unknown): void {
  const fn = (obj as Record<string, Fn>)[name]!;
  Object.defineProperty(obj, name, {
    configurable: true,
    writable: true,
    value: function guarded(this: unknown, ...args: unknown[]): unknown {
      let result: unknown;
      try {
        result = fn.apply(obj, args);
      } catch (err) {
        throw asIndexError(err, dir);
      }
      return after ? after(result) : result;
    },
  });
}

/**
 * Every statement prepared on `db` (and its pragma/exec) reports a damaged page as ARCHIVE_DAMAGED
 * with the repair command, wherever the query runs (archive-info, restore, export, prompts). Own
 * properties shadow the prototype's methods; pluck()/raw() return the same statement.
 */
export function guardIndex(db: Db, dir: string): Db {
  const guardStatement = (st: unknown): unknown => {
    for (const m of ['get', 'all', 'run']) guardMethod(st as object, m, dir);
    guardMethod(st as object, 'iterate', dir, (it) => {
      guardMethod(it as object, 'next', dir);
      return it;
    });
    return st;
  };
  guardMethod(db, 'prepare', dir, guardStatement);
  guardMethod(db, 'pragma', dir);
  guardMethod(db, 'exec', dir);
  return db;
}
