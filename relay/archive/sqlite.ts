import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * better-sqlite3, the one way relay code gets it, with SQLite's URI filenames on. The archive index
 * is opened and attached read-only by URI (`file:...?mode=ro`, `?immutable=1`: open-index-readonly.ts,
 * search/search-db.ts), and better-sqlite3 builds SQLite with URI filenames off, turning them on
 * only when SQLITE_USE_URI is set as its native addon loads: at the first `new Database` of the
 * process, wherever it is. Every module that opens a database imports Database from here (a test
 * checks), so this line has run before any of them can; SQLITE_USE_URI=0 set by the user is kept.
 */
process.env.SQLITE_USE_URI ??= '1';

// require, not import: an ES import of this CommonJS package makes Node scan its source for export
// names first (a few ms of a one-shot `mailkeep search`); the bundle and tsx both keep this call.
const Database: typeof BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3');

// The package's types under the same name, so `Database.Database` and `Database.Statement` read as
// they do with the package itself.
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace Database {
  type Database = BetterSqlite3.Database;
  type Statement<P extends unknown[] | {} = unknown[], R = unknown> = BetterSqlite3.Statement<P, R>;
}

export default Database;
