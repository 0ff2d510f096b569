import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { accountIdOf, limitOf, runAccount, runSearch } from './search.ts';
import { searchSession } from './search-session.ts';
import type { FolderCount, SearchPage } from './types.ts';

/**
 * Browsing the archive by account and folder, as it is or as it was at a backup run (a run's
 * snapshot: the rows with added_run <= run < gone_run, docs/archive-format.md "Snapshots").
 */

/**
 * The account's folders (`account` undefined: the archive's only account) with their message counts (distinct content per folder, as listMessages
 * lists them). At `atRun`: the folders and messages the account had at that run.
 */
export function listFolders(archiveDir: string, account: string | undefined, opts: { atRun?: number } = {}): FolderCount[] {
  const s = searchSession(archiveDir);
  const accountId = accountIdOf(s.db, account);
  const run = opts.atRun;
  if (run !== undefined && runAccount(s.db, run) !== accountId) throw mailkeepError('NOT_FOUND', `run ${run} is not a backup run of ${account ?? 'this account'}`);
  type Row = { id: number; account: string; name: string; raw_name: string; delimiter: string | null; special_use: string | null; messages: number | null; gone: number | null; unindexed: number | null };
  const folderCols = `f.id, a.user || '@' || a.host || ':' || a.port AS account, f.name, f.raw_name, f.delimiter, f.special_use`;
  // Now: counted from the indexes (members by folder in the search index, the archive's unique key
  // and its partial index on gone rows), without reading every row: 170 ms at 20,000 messages
  // the other way. Messages not yet indexed count by their rows.
  const rows =
    run === undefined
      ? s
          .prepare<[number], Row>(
            `SELECT ${folderCols},
               (SELECT COUNT(DISTINCT x.doc) FROM members x WHERE x.folder_id = f.id)
                 + MAX(0, (SELECT COUNT(*) FROM arc.messages m WHERE m.folder_id = f.id) - (SELECT COUNT(*) FROM members x WHERE x.folder_id = f.id)) AS messages,
               (SELECT COUNT(DISTINCT g.blob_hash) FROM arc.messages g WHERE g.folder_id = f.id AND g.gone_run IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM arc.messages p WHERE p.folder_id = g.folder_id AND p.blob_hash = g.blob_hash AND p.gone_run IS NULL)) AS gone,
               MAX(0, (SELECT COUNT(*) FROM arc.messages m WHERE m.folder_id = f.id) - (SELECT COUNT(*) FROM members x WHERE x.folder_id = f.id)) AS unindexed
             FROM arc.folders f JOIN arc.accounts a ON a.id = f.account_id WHERE f.account_id = ? ORDER BY f.name`,
          )
          .all(accountId)
      : s
          .prepare<[{ run: number; account: number }], Row>(
            // At a run: the rows present then, grouped by content (a full read of the account's rows).
            `SELECT ${folderCols}, SUM(g.shown) AS messages, SUM(g.shown AND g.gone) AS gone, SUM(g.shown AND g.unindexed) AS unindexed
             FROM arc.folders f JOIN arc.accounts a ON a.id = f.account_id
             LEFT JOIN (
               SELECT m.folder_id, m.blob_hash,
                 MAX(m.added_run <= @run AND (m.gone_run IS NULL OR m.gone_run > @run)) AS shown,
                 MIN(m.gone_run IS NOT NULL) AS gone,
                 MIN(NOT EXISTS (SELECT 1 FROM members x WHERE x.folder_id = m.folder_id AND x.uidvalidity = m.uidvalidity AND x.uid = m.uid)) AS unindexed
               FROM arc.messages m JOIN arc.folders mf ON mf.id = m.folder_id WHERE mf.account_id = @account
               GROUP BY m.folder_id, m.blob_hash
             ) g ON g.folder_id = f.id
             WHERE f.account_id = @account AND f.added_run <= @run AND (f.gone_run IS NULL OR f.gone_run > @run)
             GROUP BY f.id ORDER BY f.name`,
          )
          .all({ run, account: accountId });
  return rows
    .map((r) => ({
      id: r.id,
      account: r.account,
      name: r.name,
      rawName: r.raw_name,
      delimiter: r.delimiter,
      specialUse: r.special_use,
      messages: r.messages ?? 0,
      goneOnServer: r.gone ?? 0,
      notIndexed: r.unindexed ?? 0,
    }));
}

/**
 * One folder's messages, newest first (by Date header), one page. The folder is named as it is
 * shown (decoded, e.g. Entwürfe) or as the server lists it (modified UTF-7). Messages the search
 * index has not taken in yet are not listed (listFolders counts them as notIndexed).
 */
export function listMessages(
  archiveDir: string,
  account: string | undefined,
  folder: string,
  opts: { cursor?: string; limit?: number; atRun?: number } = {},
): SearchPage {
  const s = searchSession(archiveDir);
  const accountId = accountIdOf(s.db, account);
  if (opts.atRun !== undefined && runAccount(s.db, opts.atRun) !== accountId) throw mailkeepError('NOT_FOUND', `run ${opts.atRun} is not a backup run of ${account ?? 'this account'}`);
  const ids = s
    .prepare<[number, string, string], number>('SELECT id FROM arc.folders WHERE account_id = ? AND (name = ? OR raw_name = ?) ORDER BY id')
    .pluck()
    .all(accountId, folder, folder);
  if (ids.length === 0) throw mailkeepError('NOT_FOUND', `no archived folder "${folder}" in ${account ?? 'this archive'}`);
  return runSearch(
    s,
    { match: null, where: [], params: [], folder: null, folderIds: null, goneOnly: false, idMin: null, idMax: null },
    { accountId, folderIds: ids, ...(opts.atRun !== undefined ? { atRun: opts.atRun } : {}) },
    { limit: limitOf(opts.limit), ...(opts.cursor ? { cursor: opts.cursor } : {}) },
  );
}
