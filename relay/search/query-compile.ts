import type { QueryNode, TextField } from './query-parser.ts';
import { indexText } from './search-text.ts';
import { startOfDay } from './zone-date.ts';

/**
 * A parsed query as SQL over the search index (docs d, fts) joined with the archive's membership
 * rows (arc.messages m, arc.folders f). Words and phrases become one FTS5 MATCH expression where
 * they can (the AND of the query's top level: that MATCH drives the scan, newest first); the rest
 * (folder, dates, sizes, flags, and words under an OR with one of those) become SQL conditions,
 * words there as `d.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)`. Every value reaches SQLite as
 * a bound parameter and every word as an FTS5 string ("..." with quotes doubled), so no query can
 * inject SQL or FTS5 syntax.
 */
export interface CompiledQuery {
  /** The FTS5 expression that drives the scan, or null (then docs are walked by date). */
  match: string | null;
  /** SQL conditions over d, m, f (ANDed), with their parameters. */
  where: string[];
  params: unknown[];
  /** A folder name the whole query is restricted to (lets the scan start from that folder). */
  folder: string | null;
  /** The ids that folder name resolved to, when the caller resolved names. */
  folderIds: number[] | null;
  /** is:deleted-on-server at the top level: the scan can start from the archive's gone rows (few). */
  goneOnly: boolean;
  /** Date bounds on the doc key (d.id), to start and end the date-ordered scan where the dates do. */
  idMin: number | null;
  idMax: number | null;
}

const COLUMNS: Record<TextField, string> = {
  any: '',
  subject: 'subject : ',
  from: 'sender : ',
  to: '{recipients cc} : ',
  cc: 'cc : ',
  body: 'body : ',
  filename: 'filenames : ',
};

function ftsString(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/**
 * The spellings a word is searched in: as typed, and where people write one letter two ways that
 * the tokenizer keeps apart (it folds case and Latin accents only): ß as ss (Straße, Swiss Strasse,
 * STRASSE in capitals) both ways, and ё as е (Russian is mostly written with е).
 */
function spellings(text: string): string[] {
  const forms = new Set([text]);
  if (/[ßẞ]/.test(text)) forms.add(text.replace(/[ßẞ]/g, 'ss'));
  if (/ss/i.test(text)) forms.add(text.replace(/ss/gi, 'ß'));
  if (/[ёЁ]/.test(text)) forms.add(text.replace(/ё/g, 'е').replace(/Ё/g, 'Е'));
  return [...forms];
}

function ftsLeaf(n: Extract<QueryNode, { kind: 'text' }>): string {
  const forms = spellings(indexText(n.value)).map((f) => `${COLUMNS[n.field]}${ftsString(f)}${n.prefix ? ' *' : ''}`);
  return forms.length === 1 ? forms[0]! : `(${forms.join(' OR ')})`;
}

/** Whether `n` can be written as one FTS5 expression (words, phrases, AND/OR of them, NOT inside an AND). */
function isFts(n: QueryNode): boolean {
  switch (n.kind) {
    case 'text':
      return true;
    case 'or':
      return n.items.every(isFts);
    case 'and':
      return n.items.every((i) => isFts(i) || (i.kind === 'not' && isFts(i.item))) && n.items.some((i) => i.kind !== 'not');
    default:
      return false;
  }
}

function ftsExpr(n: QueryNode): string {
  switch (n.kind) {
    case 'text':
      return ftsLeaf(n);
    case 'or':
      return `(${n.items.map(ftsExpr).join(' OR ')})`;
    case 'and': {
      const pos = n.items.filter((i) => i.kind !== 'not');
      const neg = n.items.flatMap((i) => (i.kind === 'not' ? [i.item] : []));
      const p = `(${pos.map(ftsExpr).join(' AND ')})`;
      return neg.length ? `(${p} NOT (${neg.map(ftsExpr).join(' OR ')}))` : p;
    }
    default:
      throw new Error(`not an FTS expression: ${n.kind}`);
  }
}

/**
 * The date key's layout (index-update.ts insertDoc): (seconds << 16) | slot, the seconds clamped to
 * [0, 2^34 - 1] (mail dated before 1970 sits at second 0, after 2514 at the last second).
 */
const DATE_SLOTS = 65536;
const MAX_KEY_SECONDS = 2 ** 34 - 1;
const keySeconds = (ms: number): number => Math.min(MAX_KEY_SECONDS, Math.max(0, Math.floor(ms / 1000)));

export interface CompileOptions {
  /** The caller's clock (ms), for older_than:/newer_than:. */
  now?: number;
  /** The folder ids a folder: value names (the caller compares names as a person would); without it, SQL compares them. */
  folderIds?: (name: string) => number[];
}

export function compileQuery(root: QueryNode, timeZone: string, opts: CompileOptions = {}): CompiledQuery {
  const out: CompiledQuery = { match: null, where: [], params: [], folder: null, folderIds: null, goneOnly: false, idMin: null, idMax: null };
  if (root.kind === 'all') return out;
  const ctx: Ctx = { params: out.params, timeZone, now: opts.now ?? Date.now(), ...(opts.folderIds ? { folderIds: opts.folderIds } : {}) };
  const top = root.kind === 'and' ? root.items : [root];
  const ftsPos = top.filter((i) => i.kind !== 'not' && isFts(i));
  const ftsNeg = top.filter((i): i is Extract<QueryNode, { kind: 'not' }> => i.kind === 'not' && isFts(i.item));
  const rest = top.filter((i) => !ftsPos.includes(i) && !(ftsNeg as QueryNode[]).includes(i));
  if (ftsPos.length) {
    const p = ftsPos.length === 1 ? ftsExpr(ftsPos[0]!) : `(${ftsPos.map(ftsExpr).join(' AND ')})`;
    out.match = ftsNeg.length ? `${p} NOT (${ftsNeg.map((n) => ftsExpr(n.item)).join(' OR ')})` : p;
  } else if (ftsNeg.length) {
    out.where.push(`d.id NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)`);
    out.params.push(ftsNeg.map((n) => ftsExpr(n.item)).join(' OR '));
  }
  for (const n of rest) {
    const sql = cond(n, ctx);
    out.where.push(sql);
    // Bounds the scan can start or stop at: a top-level folder or date.
    if (n.kind === 'folder' && out.folder === null) {
      out.folder = n.value;
      if (opts.folderIds) out.folderIds = opts.folderIds(n.value);
    }
    if (n.kind === 'is' && n.what === 'deleted-on-server') out.goneOnly = true;
    if (n.kind === 'date' || n.kind === 'age') {
      const ms = boundMs(n, ctx);
      // before: date < ms, so at most the second of ms - 1; after: date >= ms, from the second of ms.
      if (n.op === 'before') out.idMax = Math.min(out.idMax ?? Infinity, keySeconds(ms - 1) * DATE_SLOTS + DATE_SLOTS - 1);
      else out.idMin = Math.max(out.idMin ?? -Infinity, keySeconds(ms) * DATE_SLOTS);
    }
  }
  return out;
}

interface Ctx {
  params: unknown[];
  timeZone: string;
  now: number;
  folderIds?: (name: string) => number[];
}

/** The moment a before:/after:/older_than:/newer_than: term compares the date with. */
function boundMs(n: Extract<QueryNode, { kind: 'date' | 'age' }>, ctx: Ctx): number {
  if (n.kind === 'date') return startOfDay(n.year, n.month, n.day, ctx.timeZone);
  const DAY = 86_400_000;
  if (n.unit === 'd') return ctx.now - n.count * DAY;
  if (n.unit === 'w') return ctx.now - n.count * 7 * DAY;
  // Months and years back on the calendar (newer_than:1m on March 31 starts on February 29 or 28... as Date does: March 2 or 3).
  const d = new Date(ctx.now);
  if (n.unit === 'm') d.setUTCMonth(d.getUTCMonth() - n.count);
  else d.setUTCFullYear(d.getUTCFullYear() - n.count);
  return d.getTime();
}

function cond(n: QueryNode, ctx: Ctx): string {
  const params = ctx.params;
  switch (n.kind) {
    case 'text':
      params.push(ftsLeaf(n));
      return 'd.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)';
    case 'folder': {
      if (ctx.folderIds) {
        const ids = ctx.folderIds(n.value);
        params.push(...ids);
        return ids.length ? `m.folder_id IN (${ids.map(() => '?').join(', ')})` : '0';
      }
      params.push(n.value, n.value);
      return '(f.name = ? COLLATE NOCASE OR f.raw_name = ?)';
    }
    case 'has-attachment':
      return 'd.attach = 1';
    case 'date':
    case 'age':
      params.push(boundMs(n, ctx));
      return n.op === 'before' ? 'd.date < ?' : 'd.date >= ?';
    case 'size':
      params.push(n.bytes);
      return n.op === 'larger' ? 'd.size > ?' : 'd.size < ?';
    case 'is':
      switch (n.what) {
        case 'deleted-on-server':
          return 'NOT EXISTS (SELECT 1 FROM arc.messages p WHERE p.blob_hash = m.blob_hash AND p.folder_id = m.folder_id AND p.gone_run IS NULL)';
        case 'unread':
          return `m.flags NOT LIKE '%"\\\\Seen"%'`;
        case 'read':
          return `m.flags LIKE '%"\\\\Seen"%'`;
        case 'flagged':
          return `m.flags LIKE '%"\\\\Flagged"%'`;
        case 'answered':
          return `m.flags LIKE '%"\\\\Answered"%'`;
      }
      break;
    case 'and':
      return `(${n.items.map((i) => cond(i, ctx)).join(' AND ')})`;
    case 'or':
      if (isFts(n)) {
        params.push(ftsExpr(n));
        return 'd.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)';
      }
      return `(${n.items.map((i) => cond(i, ctx)).join(' OR ')})`;
    case 'not':
      return `NOT (${cond(n.item, ctx)})`;
    case 'all':
      return '1';
  }
  throw new Error(`unknown query node ${(n as { kind: string }).kind}`);
}
