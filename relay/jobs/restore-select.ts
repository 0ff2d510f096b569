import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { hasGmailColumns, type Db } from '../archive/schema.ts';
import type { RestoreOptions, RestoreScope } from './restore/restore-types.ts';

/** One message to put back: a blob into a folder, with the metadata it had there. */
export interface RestoreCandidate {
  /** Folder name in the archive (decoded) and the delimiter the source server used. */
  folder: string;
  delimiter: string | null;
  uidvalidity: number;
  uid: number;
  hash: string;
  flags: string[];
  keywords: string[];
  internalDate: Date | null;
  size: number;
  messageId: string | null;
  /** Gmail's X-GM-MSGID of the archived membership (null: not from Gmail, or archived before schema 3). */
  gmMsgId?: string | null;
  /** X-GM-THRID, likewise. */
  gmThrId?: string | null;
}

interface Row {
  name: string;
  delimiter: string | null;
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
  gm_msgid: string | null;
  gm_thrid: string | null;
}

/** Resolves the archived account to read: by user@host[:port], or the only one in the archive. */
export function resolveSourceAccount(db: Db, source: RestoreOptions['source']): number {
  const all = db.prepare<[], { id: number; host: string; port: number; user: string }>('SELECT id, host, port, user FROM accounts ORDER BY id').all();
  // Without --source, an account that holds no folder (nothing to read; left by a failed first
  // login of an earlier version) does not make the choice ambiguous.
  const withFolders = new Set(db.prepare<[], number>('SELECT DISTINCT account_id FROM folders').pluck().all());
  const useful = all.filter((a) => withFolders.has(a.id));
  const matches = source
    ? all.filter((a) => a.user === source.user && a.host.toLowerCase() === source.host.toLowerCase() && (source.port === undefined || a.port === source.port))
    : useful.length
      ? useful
      : all;
  if (matches.length === 1) return matches[0]!.id;
  const known = all.map((a) => `${a.user}@${a.host}:${a.port}`).join(', ') || 'none';
  if (matches.length === 0) throw mailkeepError('NOT_FOUND', `no archived account ${source ? `${source.user}@${source.host}${source.port ? `:${source.port}` : ''}` : ''} (archived: ${known})`);
  throw mailkeepError('INVALID_INPUT', `several archived accounts match; name one as USER@HOST:PORT (archived: ${known})`);
}

/** The rows' columns; an index older than schema 3 (read, never upgraded) has no Gmail ids. */
const selectFor = (db: Db): string => `SELECT f.name, f.delimiter, m.uidvalidity, m.uid, m.blob_hash, m.flags, m.keywords, m.internaldate, m.size,
  m.message_id, m.added_run, m.gone_run, ${hasGmailColumns(db) ? 'm.gm_msgid, m.gm_thrid' : 'NULL AS gm_msgid, NULL AS gm_thrid'} FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.account_id = ?`;

/**
 * The messages a scope selects, one per membership: a folder that held two identical copies gets
 * two back (restore-presence.ts counts copies). Generations do not add up: after a UIDVALIDITY
 * change the old rows are gone and the default scope takes only the rows still present.
 *
 * Default ("everything ever backed up"): each blob goes to the folders that still held it at the
 * last run that saw it. A message moved from INBOX to Archive comes back in Archive only; a message
 * deleted everywhere comes back where it was last seen.
 */
export function selectCandidates(db: Db, accountId: number, scope: RestoreScope = {}): RestoreCandidate[] {
  if (scope.folder !== undefined) assertFolderArchived(db, accountId, scope.folder);
  const SELECT = selectFor(db);
  let rows: Row[];
  // An explicit selection is exact rows: no other scope widens or narrows which rows they are.
  if (scope.ids) {
    rows = selectByIds(db, accountId, scope.ids);
  } else if (scope.disappearedInRun !== undefined) {
    // Gone from its folder in that run and held by no folder of the account at that run: deleted,
    // not moved (a message moved to Archive, or re-listed under a new UIDVALIDITY, is still there).
    const n = scope.disappearedInRun;
    rows = db
      .prepare<[number, number, number, number], Row>(
        `${SELECT} AND m.gone_run = ? AND NOT EXISTS (SELECT 1 FROM messages p JOIN folders pf ON pf.id = p.folder_id
           WHERE pf.account_id = f.account_id AND p.blob_hash = m.blob_hash AND p.added_run <= ? AND (p.gone_run IS NULL OR p.gone_run > ?))`,
      )
      .all(accountId, n, n, n);
  } else if (scope.atRun !== undefined) {
    const run = db.prepare<[number, number], number>('SELECT id FROM runs WHERE id = ? AND account_id = ?').pluck().get(scope.atRun, accountId);
    if (run === undefined) throw mailkeepError('NOT_FOUND', `run ${scope.atRun} is not a backup run of this account (see mailkeep archive-info)`);
    rows = db.prepare<[number, number, number], Row>(`${SELECT} AND m.added_run <= ? AND (m.gone_run IS NULL OR m.gone_run > ?)`).all(accountId, scope.atRun, scope.atRun);
  } else if (scope.messages) {
    const one = db.prepare<[number, string, number, number], Row>(`${SELECT} AND f.name = ? AND m.uidvalidity = ? AND m.uid = ?`);
    rows = scope.messages.flatMap((m) => {
      const r = one.get(accountId, m.folder, m.uidValidity, m.uid);
      return r ? [r] : [];
    });
  } else {
    const all = db.prepare<[number], Row>(SELECT).all(accountId);
    rows = lastSeen(all);
    if (scope.hashes) {
      const wanted = new Set(scope.hashes.map((h) => h.toLowerCase()));
      rows = rows.filter((r) => wanted.has(r.blob_hash));
    }
  }
  const since = scope.since?.getTime();
  const until = scope.until?.getTime();
  const out: RestoreCandidate[] = [];
  for (const r of rows) {
    if (scope.folder !== undefined && r.name !== scope.folder) continue;
    const date = r.internaldate ? new Date(r.internaldate) : null;
    if (since !== undefined && (!date || date.getTime() < since)) continue;
    if (until !== undefined && (!date || date.getTime() >= until)) continue;
    out.push({
      folder: r.name,
      delimiter: r.delimiter,
      uidvalidity: r.uidvalidity,
      uid: r.uid,
      hash: r.blob_hash,
      flags: (JSON.parse(r.flags) as string[]).filter((f) => f.toLowerCase() !== '\\recent'),
      keywords: JSON.parse(r.keywords) as string[],
      internalDate: date,
      size: r.size,
      messageId: r.message_id,
      gmMsgId: r.gm_msgid,
      gmThrId: r.gm_thrid,
    });
  }
  // Oldest first inside each folder: a restored folder reads in its original order.
  return out.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : a.uidvalidity - b.uidvalidity || a.uid - b.uid));
}

/**
 * The rows of these archive message ids, as the Archive page and search name messages (relay/search
 * MessageRef: `<first 16 hex digits of the blob's SHA-256>-<folder id>`, stable across repair and
 * reindex), in the order given, each once. An id names content in a folder, so it takes one row: the
 * membership still on the server, else the last one seen (a folder that held the content twice, old
 * and new UIDVALIDITY, gives it back once). Every id must be a message of this account: one that is
 * not (a typo, another account's, a stale link) refuses the whole selection with NOT_FOUND before
 * anything is written, rather than restoring or exporting part of what the person picked.
 */
function selectByIds(db: Db, accountId: number, ids: readonly string[]): Row[] {
  const SELECT = selectFor(db);
  // A prefix range (hex digits sort below 'g'), so the blob-hash index finds the rows.
  const rowsOf = db.prepare<[number, number, string, string], Row>(
    `${SELECT} AND f.id = ? AND m.blob_hash >= ? AND m.blob_hash < ? ORDER BY (m.gone_run IS NULL) DESC, m.gone_run DESC, m.id DESC`,
  );
  const rows: Row[] = [];
  const missing: string[] = [];
  for (const id of new Set(ids)) {
    const m = /^([0-9a-f]{16})-([1-9][0-9]{0,15})$/.exec(id);
    const r = m ? rowsOf.all(accountId, Number(m[2]), m[1]!, `${m[1]!}g`)[0] : undefined;
    if (r) rows.push(r);
    else missing.push(id);
  }
  if (missing.length) {
    const max = RELAY_LIMITS.notFoundListMax;
    const listed = missing.slice(0, max).join(', ') + (missing.length > max ? `, and ${missing.length - max} more` : '');
    throw mailkeepError('NOT_FOUND', `no archived message ${listed} in this account's archive (search again: the link may be from another account)`);
  }
  return rows;
}

/**
 * A folder name that the archive never held is a typo, not "nothing to do": NOT_FOUND, naming the
 * folder and listing the archived ones, before anything is written or appended.
 */
function assertFolderArchived(db: Db, accountId: number, folder: string): void {
  const names = db.prepare<[number], string>('SELECT DISTINCT name FROM folders WHERE account_id = ? ORDER BY name').pluck().all(accountId);
  if (names.includes(folder)) return;
  const max = RELAY_LIMITS.notFoundListMax;
  const listed = names.slice(0, max).map((n) => `"${n}"`).join(', ') + (names.length > max ? `, and ${names.length - max} more (see mailkeep archive-info)` : '');
  throw mailkeepError('NOT_FOUND', `no archived folder "${folder}" (archived folders: ${listed || 'none'})`);
}

/** Per blob: the rows still present, else the rows of the last run that saw it. */
function lastSeen(rows: Row[]): Row[] {
  const byHash = new Map<string, Row[]>();
  for (const r of rows) {
    const list = byHash.get(r.blob_hash);
    if (list) list.push(r);
    else byHash.set(r.blob_hash, [r]);
  }
  const out: Row[] = [];
  for (const list of byHash.values()) {
    const present = list.filter((r) => r.gone_run === null);
    if (present.length) {
      out.push(...present);
      continue;
    }
    const last = Math.max(...list.map((r) => r.gone_run!));
    out.push(...list.filter((r) => r.gone_run === last));
  }
  return out;
}

/** The archived account's folders, for the namespace and special uses, and which to recreate even when empty. */
export interface ArchivedFolders {
  all: { name: string; delimiter: string | null; specialUse: string | null }[];
  /** Folders the scope restores as folders, empty or not: the whole account (at a run), or the one named. */
  recreate: string[];
}

/**
 * Every folder of the account (the namespace is derived from all their names, folder-map.ts
 * archivedNamespace) and the folders a scope brings back even when they hold nothing: the account's
 * folders still listed at the last backup (or at `atRun`), or the one `folder`. Scopes that pick
 * messages (dates, hashes, memberships, deletions) recreate only the folders of what they pick.
 */
export function selectFolders(db: Db, accountId: number, scope: RestoreScope = {}): ArchivedFolders {
  const rows = db
    .prepare<[number], { name: string; delimiter: string | null; special_use: string | null; added_run: number; gone_run: number | null }>(
      'SELECT name, delimiter, special_use, added_run, gone_run FROM folders WHERE account_id = ? ORDER BY id',
    )
    .all(accountId);
  const all = [...new Map(rows.map((r) => [r.name, { name: r.name, delimiter: r.delimiter, specialUse: r.special_use }])).values()];
  const picksMessages = scope.since || scope.until || scope.messages || scope.ids || scope.hashes || scope.disappearedInRun !== undefined;
  let recreate: string[] = [];
  if (scope.folder !== undefined) recreate = [scope.folder];
  else if (!picksMessages) {
    const n = scope.atRun;
    recreate = [...new Set(rows.filter((r) => (n === undefined ? r.gone_run === null : r.added_run <= n && (r.gone_run === null || r.gone_run > n))).map((r) => r.name))];
  }
  return { all, recreate };
}
