import fs from 'node:fs';
import path from 'node:path';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { journalFile, packFiles } from './archive-files.ts';
import { indexMissingError } from './index-damage.ts';
import { openIndexReadOnly, type ReadOnlyIndex } from './open-index-readonly.ts';
import type { Db } from './schema.ts';

/**
 * Read-only questions to an archive: what it holds, what a folder held at a run, what disappeared
 * from the server between two runs. Never writes to the archive: it runs beside a backup, and on a
 * read-only mount or snapshot (open-index-readonly.ts). A damaged index is ARCHIVE_DAMAGED; packs or
 * a journal without an index are ARCHIVE_INDEX_MISSING (repair rebuilds it), not NOT_FOUND.
 */

export interface ReadOptions {
  /** Force the immutable open (tests; MAILKEEP_INDEX_IMMUTABLE=1 does the same). */
  immutable?: boolean;
  /** Told when the open cannot see everything (a WAL on a read-only location). Default: stderr. */
  onWarning?: (message: string) => void;
}

export function openArchiveIndex(dir: string, opts: ReadOptions = {}): ReadOnlyIndex {
  const file = path.join(dir, 'index.sqlite');
  if (!fs.existsSync(file)) {
    // Packs or a journal without the index: the mail is there and repair rebuilds the index from them.
    const jfile = journalFile(dir);
    if (packFiles(dir).length > 0 || (fs.existsSync(jfile) && fs.statSync(jfile).size > 0)) throw indexMissingError(dir);
    throw mailkeepError('NOT_FOUND', `no Mailkeep archive at ${dir}`);
  }
  const opened = openIndexReadOnly(dir, { immutable: opts.immutable });
  const warn = opts.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  for (const w of opened.warnings) warn(w);
  return opened;
}

export function openArchiveForReading(dir: string, opts: ReadOptions = {}): Db {
  return openArchiveIndex(dir, opts).db;
}

export interface ArchivedMessage {
  account: string;
  folderId: number;
  folder: string;
  rawFolder: string;
  uidvalidity: number;
  uid: number;
  hash: string;
  flags: string[];
  keywords: string[];
  internalDate: string | null;
  size: number;
  messageId: string | null;
  addedRun: number;
  goneRun: number | null;
}

interface Row {
  account: string;
  folder_id: number;
  name: string;
  raw_name: string;
  uidvalidity: number;
  uid: number;
  blob_hash: string;
  flags: string;
  keywords: string;
  internaldate: string | null;
  size: number;
  message_id: string | null;
  added_run: number;
  gone_run: number | null;
}

const SELECT = `SELECT a.user || '@' || a.host || ':' || a.port AS account, m.folder_id, f.name, f.raw_name, m.uidvalidity, m.uid,
  m.blob_hash, m.flags, m.keywords, m.internaldate, m.size, m.message_id, m.added_run, m.gone_run
  FROM messages m JOIN folders f ON f.id = m.folder_id JOIN accounts a ON a.id = f.account_id`;

function toMessage(r: Row): ArchivedMessage {
  return {
    account: r.account,
    folderId: r.folder_id,
    folder: r.name,
    rawFolder: r.raw_name,
    uidvalidity: r.uidvalidity,
    uid: r.uid,
    hash: r.blob_hash,
    flags: JSON.parse(r.flags) as string[],
    keywords: JSON.parse(r.keywords) as string[],
    internalDate: r.internaldate,
    size: r.size,
    messageId: r.message_id,
    addedRun: r.added_run,
    goneRun: r.gone_run,
  };
}

/** What folder `folderId` held as of run `runId` (the snapshot of that run). */
export function folderAtRun(db: Db, folderId: number, runId: number): ArchivedMessage[] {
  return db
    .prepare<[number, number, number], Row>(`${SELECT} WHERE m.folder_id = ? AND m.added_run <= ? AND (m.gone_run IS NULL OR m.gone_run > ?) ORDER BY m.uidvalidity, m.uid`)
    .all(folderId, runId, runId)
    .map(toMessage);
}

/**
 * Messages that disappeared from the server between the account's run before `runId` and `runId`
 * (default: its latest run). A message re-listed under a new UIDVALIDITY with the same content is
 * not "disappeared": its content is still in the folder.
 */
export function disappearedInRun(db: Db, accountId: number, runId?: number): { runId: number | null; messages: ArchivedMessage[] } {
  const run =
    runId ?? db.prepare<[number], number>('SELECT MAX(id) FROM runs WHERE account_id = ?').pluck().get(accountId) ?? null;
  if (run === null) return { runId: null, messages: [] };
  const rows = db
    .prepare<[number, number, number, number], Row>(
      `${SELECT} WHERE f.account_id = ? AND m.gone_run = ? AND NOT EXISTS (
         SELECT 1 FROM messages p WHERE p.folder_id = m.folder_id AND p.blob_hash = m.blob_hash
           AND p.added_run <= ? AND (p.gone_run IS NULL OR p.gone_run > ?))
       ORDER BY f.name, m.uidvalidity, m.uid`,
    )
    .all(accountId, run, run, run);
  return { runId: run, messages: rows.map(toMessage) };
}

export interface ArchiveInfo {
  accounts: {
    id: number;
    host: string;
    port: number;
    user: string;
    folders: { id: number; name: string; rawName: string; delimiter: string | null; messages: number; stored: number; gone: boolean; lastUid: number | null; uidvalidity: number | null }[];
    runs: { id: number; startedAt: string; finishedAt: string | null; status: string | null; errorCode: string | null; newMessages: number; newBytes: number; disappeared: number }[];
  }[];
  blobs: number;
  blobBytes: number;
  packs: number;
}

export function archiveInfo(db: Db): ArchiveInfo {
  const accounts = db.prepare<[], { id: number; host: string; port: number; user: string }>('SELECT id, host, port, user FROM accounts ORDER BY id').all();
  const totals = db.prepare<[], { n: number; b: number | null }>('SELECT COUNT(*) AS n, SUM(length) AS b FROM blobs').get()!;
  return {
    blobs: totals.n,
    blobBytes: totals.b ?? 0,
    packs: db.prepare<[], number>('SELECT COUNT(*) FROM packs').pluck().get() ?? 0,
    accounts: accounts.map((a) => ({
      ...a,
      folders: db
        .prepare<[number], { id: number; name: string; raw_name: string; delimiter: string | null; present: number; stored: number; gone_run: number | null; last_uid: number | null; uidvalidity: number | null }>(
          `SELECT f.id, f.name, f.raw_name, f.delimiter, f.gone_run, c.last_uid, c.uidvalidity,
             (SELECT COUNT(*) FROM messages m WHERE m.folder_id = f.id AND m.gone_run IS NULL) AS present,
             (SELECT COUNT(*) FROM messages m WHERE m.folder_id = f.id) AS stored
           FROM folders f LEFT JOIN checkpoints c ON c.folder_id = f.id WHERE f.account_id = ? ORDER BY f.name`,
        )
        .all(a.id)
        .map((f) => ({ id: f.id, name: f.name, rawName: f.raw_name, delimiter: f.delimiter, messages: f.present, stored: f.stored, gone: f.gone_run !== null, lastUid: f.last_uid, uidvalidity: f.uidvalidity })),
      runs: db
        .prepare<[number], { id: number; started_at: string; finished_at: string | null; status: string | null; error_code: string | null; new_messages: number; new_bytes: number; disappeared: number }>(
          `SELECT r.id, r.started_at, r.finished_at, r.status, r.error_code, r.new_messages, r.new_bytes,
             -- Same rule as disappearedInRun (what the backup reported): content still in the folder
             -- at run r, e.g. re-listed under a new UIDVALIDITY, did not disappear.
             (SELECT COUNT(*) FROM messages m WHERE m.gone_run = r.id AND NOT EXISTS (
                SELECT 1 FROM messages p WHERE p.folder_id = m.folder_id AND p.blob_hash = m.blob_hash
                  AND p.added_run <= r.id AND (p.gone_run IS NULL OR p.gone_run > r.id))) AS disappeared
           FROM runs r WHERE r.account_id = ? ORDER BY r.id`,
        )
        .all(a.id)
        .map((r) => ({ id: r.id, startedAt: r.started_at, finishedAt: r.finished_at, status: r.status, errorCode: r.error_code, newMessages: r.new_messages, newBytes: r.new_bytes, disappeared: r.disappeared })),
    })),
  };
}
