import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Db } from '../archive/schema.ts';
import { openSearchDb, searchFile } from './search-db.ts';

/**
 * Open search connections, one per archive, kept between requests: opening, attaching and preparing
 * cost more than a query (the relay answers a search in a few ms). A connection is opened again when
 * search.sqlite or the archive's index.sqlite was replaced (reindex, repair): SQLite keeps reading a
 * replaced file through the old handle.
 */
interface Session {
  db: Db;
  ids: string;
  statements: Map<string, Database.Statement>;
}

const sessions = new Map<string, Session>();
const STATEMENTS_KEPT = 256;

function identity(dir: string): string {
  const a = fs.statSync(searchFile(dir), { throwIfNoEntry: false });
  const b = fs.statSync(path.join(dir, 'index.sqlite'), { throwIfNoEntry: false });
  return `${a?.ino ?? 0}:${b?.ino ?? 0}`;
}

export function searchSession(archiveDir: string): { db: Db; prepare: <P extends unknown[], R>(sql: string) => Database.Statement<P, R> } {
  const dir = path.resolve(archiveDir);
  let s = sessions.get(dir);
  if (s && s.ids !== identity(dir)) {
    s.db.close();
    sessions.delete(dir);
    s = undefined;
  }
  if (!s) {
    const db = openSearchDb(dir);
    s = { db, ids: identity(dir), statements: new Map() };
    sessions.set(dir, s);
  }
  const session = s;
  return {
    db: session.db,
    prepare: <P extends unknown[], R>(sql: string) => {
      let st = session.statements.get(sql);
      if (!st) {
        if (session.statements.size >= STATEMENTS_KEPT) session.statements.clear();
        st = session.db.prepare(sql);
        session.statements.set(sql, st);
      }
      return st as unknown as Database.Statement<P, R>;
    },
  };
}

/** Closes every kept connection (relay shutdown, tests). */
export function closeSearchSessions(): void {
  for (const s of sessions.values()) s.db.close();
  sessions.clear();
}
