import { SEARCH_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { Db } from '../archive/schema.ts';
import { resolveSourceAccount } from '../jobs/restore-select.ts';
import { messageRef } from './message-ref.ts';
import { compileQuery, type CompiledQuery } from './query-compile.ts';
import { parseQuery } from './query-parser.ts';
import { searchSession } from './search-session.ts';
import { displayText } from './search-text.ts';
import type { SearchHit, SearchOptions, SearchPage } from './types.ts';
import { localTimeZone } from './zone-date.ts';

/** Marks around the matching words of a snippet (control characters: plain text cannot carry markup). */
export const SNIPPET_MARK_START = '\u0002';
export const SNIPPET_MARK_END = '\u0003';

/** Where a page ends: the doc (date key) and folder of its last hit. */
interface Cursor {
  doc: number;
  folder: number;
}

function encodeCursor(c: Cursor): string {
  return `${c.doc.toString(36)}.${c.folder.toString(36)}`;
}

function decodeCursor(s: string): Cursor {
  const m = /^(-?[0-9a-z]{1,12})\.([0-9a-z]{1,12})$/.exec(s);
  const doc = m ? parseInt(m[1]!, 36) : NaN;
  const folder = m ? parseInt(m[2]!, 36) : NaN;
  if (!Number.isSafeInteger(doc) || !Number.isSafeInteger(folder)) throw mailkeepError('INVALID_INPUT', 'this page cursor is not one the search gave');
  return { doc, folder };
}

/** What narrows a search besides the query: account, folders (browse), the point-in-time run. */
export interface Scope {
  accountId?: number;
  folderIds?: number[];
  atRun?: number;
}

interface Row {
  doc: number;
  hash: string;
  date: number | null;
  size: number;
  attach: number;
  unparsed: string | null;
  subject: string;
  sender: string;
  recipients: string;
  folder_id: number;
  flags: string;
  keywords: string;
  internaldate: string | null;
  gone_run: number | null;
  gone: number;
  folder: string;
  account: string;
  snippet: string | null;
}

export function limitOf(limit: number | undefined): number {
  if (limit === undefined) return SEARCH_LIMITS.pageDefault;
  if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIMITS.pageMax) throw mailkeepError('INVALID_INPUT', `limit must be 1 to ${SEARCH_LIMITS.pageMax}`);
  return limit;
}

/**
 * USER@HOST[:PORT] (the user part may hold "@") to the archive's account id; undefined: the
 * archive's only account (the relay keeps one archive per account), else INVALID_INPUT naming them.
 */
export function accountIdOf(db: Db, account: string | undefined): number {
  if (account === undefined) return resolveSourceAccount(db, undefined);
  const at = account.lastIndexOf('@');
  if (at <= 0 || at === account.length - 1) throw mailkeepError('INVALID_INPUT', `account must be USER@HOST or USER@HOST:PORT, not "${account}"`);
  const m = /^(.+):(\d{1,5})$/.exec(account.slice(at + 1));
  return resolveSourceAccount(db, m ? { user: account.slice(0, at), host: m[1]!, port: Number(m[2]) } : { user: account.slice(0, at), host: account.slice(at + 1) });
}

/** The account a point-in-time run belongs to (NOT_FOUND when the archive has no such run). */
export function runAccount(db: Db, runId: number): number {
  const a = db.prepare<[number], number>('SELECT account_id FROM arc.runs WHERE id = ?').pluck().get(runId);
  if (a === undefined) throw mailkeepError('NOT_FOUND', `run ${runId} is not a backup run of this archive (see mailkeep archive-info)`);
  return a;
}

export function searchArchive(archiveDir: string, query: string, opts: SearchOptions = {}): SearchPage {
  const root = parseQuery(query);
  const s = searchSession(archiveDir);
  const scope: Scope = {};
  if (opts.account !== undefined) scope.accountId = accountIdOf(s.db, opts.account);
  if (opts.atRun !== undefined) {
    const owner = runAccount(s.db, opts.atRun);
    if (scope.accountId !== undefined && scope.accountId !== owner) throw mailkeepError('NOT_FOUND', `run ${opts.atRun} is not a backup run of ${opts.account}`);
    scope.accountId = owner;
    scope.atRun = opts.atRun;
  }
  type FolderRow = { id: number; account_id: number; name: string; raw_name: string; special_use: string | null };
  let folders: FolderRow[] | undefined;
  const folderIds = (name: string): number[] => {
    folders ??= s.prepare<[], FolderRow>('SELECT id, account_id, name, raw_name, special_use FROM arc.folders').all();
    const mine = folders.filter((f) => scope.accountId === undefined || f.account_id === scope.accountId);
    const want = folderKey(name);
    const named = mine.filter((f) => f.raw_name === name || folderKey(f.name) === want);
    if (named.length) return named.map((f) => f.id);
    // Gmail's in:sent, in:trash, in:spam...: the folder the server marks for that use ([Gmail]/Sent Mail, Gesendet).
    const use = SPECIAL_USE[want];
    return use ? mine.filter((f) => f.special_use?.toLowerCase() === use).map((f) => f.id) : [];
  };
  const compiled = compileQuery(root, opts.timeZone ?? localTimeZone(), { now: opts.now ?? Date.now(), folderIds });
  // folder:NAME without words: start the scan from that folder's members (date order per folder).
  if (compiled.match === null && compiled.folderIds?.length === 1) scope.folderIds = compiled.folderIds;
  return runSearch(s, compiled, scope, { limit: limitOf(opts.limit), cursor: opts.cursor, count: opts.count ?? false, snippets: opts.snippets !== false });
}

/** folder:/in: values that name a special-use folder (RFC 6154) when no folder has that name. */
const SPECIAL_USE: Record<string, string> = {
  sent: '\\sent', drafts: '\\drafts', draft: '\\drafts', trash: '\\trash', bin: '\\trash', spam: '\\junk', junk: '\\junk',
  archive: '\\archive', all: '\\all', 'all mail': '\\all', starred: '\\flagged', important: '\\important',
};

/**
 * A folder name as a person types it: any case (Unicode, not only ASCII: ENTWÜRFE is Entwürfe),
 * composed or decomposed accents, full-width letters alike.
 */
export function folderKey(name: string): string {
  // ASCII needs no normalizing (setting up the normalizer costs a one-shot `mailkeep search` time).
  return (/^[\x00-\x7f]*$/.test(name) ? name : name.normalize('NFKC')).toLowerCase();
}

type Session = ReturnType<typeof searchSession>;

/**
 * Runs a compiled query: rows come newest first (by the doc's date key), one per archived
 * membership; consecutive rows of one doc are folded into one hit per folder (a folder that lists the
 * same content twice, e.g. before and after a UIDVALIDITY change, shows it once, by its present row).
 */
export function runSearch(s: Session, c: CompiledQuery, scope: Scope, page: { limit: number; cursor?: string; count?: boolean | number; snippets?: boolean }): SearchPage {
  const cursor = page.cursor ? decodeCursor(page.cursor) : null;
  const { sql, params } = buildSql(c, scope, cursor, false, page.snippets !== false);
  const rows = queryShaped(() => s.prepare<unknown[], Row>(sql).iterate(...params));
  const hits: SearchHit[] = [];
  let more = false;
  let doc: number | null = null;
  let group = new Map<number, Row>();
  const flush = (): void => {
    for (const folder of [...group.keys()].sort((a, b) => a - b)) {
      if (cursor && doc === cursor.doc && folder <= cursor.folder) continue;
      if (hits.length === page.limit) {
        more = true;
        return;
      }
      hits.push(toHit(group.get(folder)!));
    }
  };
  try {
    for (const r of rows) {
      if (r.doc !== doc) {
        flush();
        if (more) break;
        doc = r.doc;
        group = new Map();
      }
      const prev = group.get(r.folder_id);
      // The present row stands for the folder (its flags are the current ones).
      if (!prev || (prev.gone_run !== null && r.gone_run === null)) group.set(r.folder_id, r);
    }
    if (!more) flush();
  } catch (err) {
    throw queryShapeError(err);
  } finally {
    rows.return?.();
  }
  const last = hits[hits.length - 1];
  const result: SearchPage = { hits };
  if (more && last) result.nextCursor = encodeCursor({ doc: lastDoc(last), folder: lastFolder(last) });
  if (page.count) {
    const cap = typeof page.count === 'number' ? page.count : null;
    const counted = buildSql(c, scope, null, true, true, cap === null ? null : cap + 1);
    const n = queryShaped(() => s.prepare<unknown[], number>(counted.sql).pluck().get(...counted.params)) ?? 0;
    result.total = cap !== null && n > cap ? cap : n;
    if (cap !== null && n > cap) result.totalAtLeast = true;
  }
  return result;
}

/**
 * SQLite errors that only the shape of a query can cause (FTS5's and SQL's parser limits): the
 * parser refuses such queries first (SEARCH_LIMITS.queryMaxDepth, queryMaxTerms), and should one get
 * through, the person reads SEARCH_QUERY_INVALID in words, never SQLite's message. Any other error
 * (a damaged file, a full disk) is not the query's fault and keeps its own code.
 */
const QUERY_SHAPED = /parser stack overflow|expression tree is too large|too many (terms|SQL variables|arguments)|fts5: syntax error|fts5: .*too large/i;

function queryShapeError(err: unknown): unknown {
  if (err instanceof Error && (err as { code?: unknown }).code !== undefined && String((err as { code?: unknown }).code).startsWith('SQLITE_') && QUERY_SHAPED.test(err.message))
    return mailkeepError('SEARCH_QUERY_INVALID', 'this query is too complex to run: use fewer brackets, "-" or OR', { position: 0 });
  return err;
}

function queryShaped<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw queryShapeError(err);
  }
}

// The hit's doc and folder, for its cursor (kept off the public hit).
const hitKeys = new WeakMap<SearchHit, Cursor>();
const lastDoc = (h: SearchHit) => hitKeys.get(h)!.doc;
const lastFolder = (h: SearchHit) => hitKeys.get(h)!.folder;

function toHit(r: Row): SearchHit {
  const hit: SearchHit = {
    id: messageRef(r.hash, r.folder_id),
    account: r.account,
    folder: r.folder,
    date: r.date === null ? r.internaldate : new Date(r.date).toISOString(),
    internalDate: r.internaldate,
    from: displayText(r.sender),
    to: displayText(r.recipients),
    subject: displayText(r.subject),
    size: r.size,
    flags: [...(JSON.parse(r.flags) as string[]), ...(JSON.parse(r.keywords) as string[])],
    goneOnServer: r.gone === 1,
    hasAttachment: r.attach === 1,
  };
  if (r.snippet !== null) hit.snippet = displayText(r.snippet).replace(/\s+/g, ' ').trim();
  if (r.unparsed !== null) hit.unparsed = true;
  hitKeys.set(hit, { doc: r.doc, folder: r.folder_id });
  return hit;
}

const SNIPPET = `snippet(fts, -1, '${SNIPPET_MARK_START}', '${SNIPPET_MARK_END}', '…', ${SEARCH_LIMITS.snippetWords})`;

/**
 * The query's SQL. The scan starts from the narrowest ordered source: the full-text match (FTS5
 * walks its rowids, the date keys, backwards), else one folder's members (members_by_folder is in
 * date order per folder), else every doc by date; each step joins the membership rows, which are
 * checked against the archive (same blob) so a stale search index can never show a wrong message.
 */
function buildSql(c: CompiledQuery, scope: Scope, cursor: Cursor | null, count: boolean, snippets = true, countLimit: number | null = null): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where: string[] = [];
  let from: string;
  let key: string;
  let byFolder = false;
  // CROSS JOIN fixes the order (SQLite never reorders it): without statistics the planner would
  // rather scan the archive's messages and sort them all than walk the date order and stop.
  const joinRest = `CROSS JOIN arc.messages m ON m.folder_id = x.folder_id AND m.uidvalidity = x.uidvalidity AND m.uid = x.uid AND m.blob_hash = d.hash
    CROSS JOIN arc.folders f ON f.id = m.folder_id CROSS JOIN arc.accounts a ON a.id = f.account_id`;
  if (c.match !== null) {
    from = `fts CROSS JOIN docs d ON d.id = fts.rowid CROSS JOIN members x ON x.doc = d.id ${joinRest}`;
    key = 'fts.rowid';
    where.push('fts MATCH ?');
    params.push(c.match);
  } else if (c.goneOnly) {
    // Only docs with a row the server no longer has can match: those few, from the archive's
    // partial index on gone rows, sorted by date (walking every doc to find none took 0.2-0.4 s at 20k).
    from = `(SELECT DISTINCT x.doc AS doc FROM arc.messages g CROSS JOIN members x ON x.folder_id = g.folder_id AND x.uidvalidity = g.uidvalidity AND x.uid = g.uid
        WHERE g.gone_run IS NOT NULL) gd CROSS JOIN docs d ON d.id = gd.doc CROSS JOIN members x ON x.doc = d.id ${joinRest}`;
    key = 'gd.doc';
  } else if (scope.folderIds?.length === 1) {
    from = `members x CROSS JOIN docs d ON d.id = x.doc ${joinRest}`;
    key = 'x.doc';
    byFolder = true;
    where.push('x.folder_id = ?');
    params.push(scope.folderIds[0]);
  } else {
    from = `docs d CROSS JOIN members x ON x.doc = d.id ${joinRest}`;
    key = 'd.id';
  }
  if (scope.folderIds && !byFolder) {
    where.push(`m.folder_id IN (${scope.folderIds.map(() => '?').join(', ')})`);
    params.push(...scope.folderIds);
  }
  if (scope.accountId !== undefined) {
    where.push('f.account_id = ?');
    params.push(scope.accountId);
  }
  if (scope.atRun !== undefined) {
    where.push('m.added_run <= ? AND (m.gone_run IS NULL OR m.gone_run > ?)');
    params.push(scope.atRun, scope.atRun);
  }
  if (c.idMin !== null) {
    where.push(`${key} >= ?`);
    params.push(c.idMin);
  }
  if (c.idMax !== null || cursor) {
    where.push(`${key} <= ?`);
    params.push(Math.min(c.idMax ?? Infinity, cursor?.doc ?? Infinity));
  }
  where.push(...c.where);
  params.push(...c.params);
  const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
  if (count) return { sql: `SELECT COUNT(*) FROM (SELECT DISTINCT d.id, m.folder_id FROM ${from} ${cond}${countLimit === null ? '' : ' LIMIT ?'})`, params: countLimit === null ? params : [...params, countLimit] };
  const snippet = c.match !== null && snippets ? SNIPPET : 'NULL';
  const sql = `SELECT d.id AS doc, d.hash, d.date, d.size, d.attach, d.unparsed, t.subject, t.sender, t.recipients,
      m.folder_id, m.flags, m.keywords, m.internaldate, m.gone_run,
      NOT EXISTS (SELECT 1 FROM arc.messages p WHERE p.blob_hash = m.blob_hash AND p.folder_id = m.folder_id AND p.gone_run IS NULL) AS gone,
      f.name AS folder, a.user || '@' || a.host || ':' || a.port AS account, ${snippet} AS snippet
    FROM ${from} CROSS JOIN texts t ON t.id = d.id ${cond} ORDER BY ${key} DESC`;
  return { sql, params };
}
