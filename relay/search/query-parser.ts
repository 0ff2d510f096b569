import { SEARCH_LIMITS } from '../../lib/limits.ts';
import { mailkeepError, type MailkeepError } from '../../lib/protocol/error-codes.ts';
import { hasWord } from './search-text.ts';

/**
 * The search query language (docs/search.md): Gmail's and notmuch's operators people already know.
 *
 *   query   := or
 *   or      := and ( "OR" and )*
 *   and     := unary ( ["AND"] unary )*
 *   unary   := ("-" | "NOT") unary | primary
 *   primary := "(" or ")" | term
 *   term    := [field ":"] (word | "quoted phrase")
 *
 * Hand-written rather than generated or taken from a package: the grammar is a dozen lines, every
 * error must name the character where it happens (SEARCH_QUERY_INVALID, details.position, 0-based
 * UTF-16 index), and the small query-string packages on npm parse flat key:value lists without
 * parentheses, OR or positions.
 */

export type TextField = 'any' | 'subject' | 'from' | 'to' | 'cc' | 'body' | 'filename';
export type IsWhat = 'deleted-on-server' | 'unread' | 'read' | 'flagged' | 'answered';

export type QueryNode =
  | { kind: 'text'; field: TextField; value: string; prefix: boolean; pos: number }
  | { kind: 'folder'; value: string; pos: number }
  | { kind: 'has-attachment'; pos: number }
  | { kind: 'date'; op: 'before' | 'after'; year: number; month: number; day: number; pos: number }
  | { kind: 'size'; op: 'larger' | 'smaller'; bytes: number; pos: number }
  | { kind: 'is'; what: IsWhat; pos: number }
  | { kind: 'and'; items: QueryNode[] }
  | { kind: 'or'; items: QueryNode[] }
  | { kind: 'not'; item: QueryNode; pos: number }
  | { kind: 'all' };

export function queryError(message: string, position: number, query: string): MailkeepError {
  const near = query.slice(position, position + 20);
  return mailkeepError('SEARCH_QUERY_INVALID', `${message} (at character ${position + 1}${near ? `: "${near}"` : ''})`, { position });
}

type Token =
  | { t: 'word'; text: string; pos: number; quoted: boolean; field?: string; fieldPos?: number; valuePos: number }
  | { t: '(' | ')' | 'OR' | 'AND' | 'NOT' | '-'; pos: number };

const FIELDS: Record<string, string> = {
  from: 'from', to: 'to', cc: 'cc', subject: 'subject', body: 'body', filename: 'filename',
  folder: 'folder', in: 'folder', has: 'has', is: 'is', before: 'before', after: 'after',
  older: 'before', newer: 'after', larger: 'larger', smaller: 'smaller',
};
const IS_VALUES: Record<string, IsWhat> = {
  'deleted-on-server': 'deleted-on-server', 'deleted': 'deleted-on-server', 'gone': 'deleted-on-server',
  unread: 'unread', read: 'read', seen: 'read', flagged: 'flagged', starred: 'flagged', answered: 'answered', replied: 'answered',
};
const KNOWN = 'from:, to:, cc:, subject:, body:, filename:, folder:, has:attachment, before:, after:, larger:, smaller:, is:deleted-on-server, is:unread, is:flagged';

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);
  const readQuoted = (start: number): { text: string; end: number } => {
    const close = q.indexOf('"', start + 1);
    if (close < 0) throw queryError('this quote is never closed', start, q);
    return { text: q.slice(start + 1, close), end: close + 1 };
  };
  while (i < q.length) {
    const c = q[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({ t: c, pos: i });
      i++;
      continue;
    }
    if (c === '-') {
      // "-" at the start of a term or before "(" negates it (inside a word, as in e-mail, it is
      // part of the word); "-" followed by a space has nothing to negate.
      if (i + 1 >= q.length || isSpace(q[i + 1]) || q[i + 1] === ')') throw queryError('"-" must be followed by what to leave out, without a space', i, q);
      out.push({ t: '-', pos: i });
      i++;
      continue;
    }
    if (c === '"') {
      const { text, end } = readQuoted(i);
      out.push({ t: 'word', text, pos: i, quoted: true, valuePos: i });
      i = end;
      continue;
    }
    let j = i;
    while (j < q.length && !isSpace(q[j]) && q[j] !== '(' && q[j] !== ')' && q[j] !== '"') j++;
    const word = q.slice(i, j);
    const colon = word.indexOf(':');
    if (colon > 0 && /^[A-Za-z-]+$/.test(word.slice(0, colon))) {
      const name = word.slice(0, colon).toLowerCase();
      const field = FIELDS[name];
      if (!field) throw queryError(`unknown operator "${word.slice(0, colon)}:" (known: ${KNOWN}; to search for text with a colon, put it in "double quotes")`, i, q);
      const valuePos = i + colon + 1;
      if (colon === word.length - 1) {
        // field:"quoted value"
        if (q[j] === '"') {
          const { text, end } = readQuoted(j);
          out.push({ t: 'word', text, pos: i, quoted: true, field, fieldPos: i, valuePos: j });
          i = end;
          continue;
        }
        if (q[j] === '(') throw queryError(`${name}: takes one word or a "quoted phrase", not brackets`, j, q);
        throw queryError(`${name}: needs a value`, valuePos, q);
      }
      out.push({ t: 'word', text: word.slice(colon + 1), pos: i, quoted: false, field, fieldPos: i, valuePos });
      i = j;
      continue;
    }
    if (word === 'OR' || word === 'AND' || word === 'NOT') out.push({ t: word, pos: i });
    else out.push({ t: 'word', text: word, pos: i, quoted: false, valuePos: i });
    i = j;
  }
  return out;
}

export function parseQuery(query: string): QueryNode {
  if (query.length > SEARCH_LIMITS.queryMaxChars) throw queryError(`the query is longer than ${SEARCH_LIMITS.queryMaxChars} characters`, SEARCH_LIMITS.queryMaxChars, query);
  // Control characters (a NUL pasted in) are spaces: same length, so positions stay the user's.
  const tokens = tokenize(query.replace(/[\u0000-\u001f\u007f]/g, ' '));
  if (tokens.length === 0) return { kind: 'all' };
  const terms = tokens.filter((t) => t.t === 'word').length;
  if (terms > SEARCH_LIMITS.queryMaxTerms) throw queryError(`the query has more than ${SEARCH_LIMITS.queryMaxTerms} terms`, 0, query);
  let k = 0;
  const peek = (): Token | undefined => tokens[k];
  const endPos = query.length;

  const parseOr = (): QueryNode => {
    const items = [parseAnd()];
    while (peek()?.t === 'OR') {
      k++;
      const next = peek();
      if (!next || next.t === ')' || next.t === 'OR' || next.t === 'AND') throw queryError('"OR" needs something to search for on its right', next?.pos ?? endPos, query);
      items.push(parseAnd());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  };
  const parseAnd = (): QueryNode => {
    const items = [parseUnary()];
    for (;;) {
      const next = peek();
      if (!next || next.t === ')' || next.t === 'OR') break;
      if (next.t === 'AND') {
        k++;
        const after = peek();
        if (!after || after.t === ')' || after.t === 'OR' || after.t === 'AND') throw queryError('"AND" needs something to search for on its right', after?.pos ?? endPos, query);
      }
      items.push(parseUnary());
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  };
  const parseUnary = (): QueryNode => {
    const t = peek();
    if (t && (t.t === '-' || t.t === 'NOT')) {
      k++;
      const next = peek();
      if (!next || next.t === ')' || next.t === 'OR' || next.t === 'AND') throw queryError(`"${t.t}" needs something to leave out on its right`, next?.pos ?? endPos, query);
      return { kind: 'not', item: parseUnary(), pos: t.pos };
    }
    return parsePrimary();
  };
  const parsePrimary = (): QueryNode => {
    const t = peek();
    if (!t) throw queryError('the query ends where a search term was expected', endPos, query);
    if (t.t === '(') {
      k++;
      if (peek()?.t === ')') throw queryError('empty brackets', t.pos, query);
      if (!peek()) throw queryError('this bracket is never closed', t.pos, query);
      const inner = parseOr();
      if (peek()?.t !== ')') throw queryError('this bracket is never closed', t.pos, query);
      k++;
      return inner;
    }
    if (t.t === ')') throw queryError('this closing bracket has no opening one', t.pos, query);
    if (t.t === 'OR' || t.t === 'AND') throw queryError(`"${t.t}" needs something to search for on its left`, t.pos, query);
    if (t.t !== 'word') throw queryError('a search term was expected here', t.pos, query);
    k++;
    return term(t, query);
  };

  const node = parseOr();
  const rest = peek();
  if (rest) throw queryError(rest.t === ')' ? 'this closing bracket has no opening one' : 'unexpected text', rest.pos, query);
  return node;
}

function term(t: Extract<Token, { t: 'word' }>, query: string): QueryNode {
  const v = t.text;
  const pos = t.valuePos;
  const textNode = (field: TextField): QueryNode => {
    const prefix = !t.quoted && v.length > 1 && v.endsWith('*');
    const value = prefix ? v.slice(0, -1) : v;
    if (!hasWord(value)) throw queryError(`"${v}" has no letter or digit to search for`, pos, query);
    return { kind: 'text', field, value, prefix, pos };
  };
  switch (t.field) {
    case undefined: return textNode('any');
    case 'from': case 'to': case 'cc': case 'subject': case 'body': case 'filename': return textNode(t.field);
    case 'folder': return { kind: 'folder', value: v, pos };
    case 'has':
      if (/^attachments?$/i.test(v)) return { kind: 'has-attachment', pos };
      throw queryError(`has: knows only "attachment", not "${v}"`, pos, query);
    case 'is': {
      const what = IS_VALUES[v.toLowerCase()];
      if (!what) throw queryError(`is: knows deleted-on-server, unread, read, flagged and answered, not "${v}"`, pos, query);
      return { kind: 'is', what, pos };
    }
    case 'before': case 'after': {
      const d = parseDateValue(v);
      if (!d) throw queryError(`${t.field}: needs a date as YYYY-MM-DD, YYYY/MM/DD, YYYY-MM or YYYY, not "${v}"`, pos, query);
      return { kind: 'date', op: t.field, ...d, pos };
    }
    case 'larger': case 'smaller': {
      const bytes = parseSize(v);
      if (bytes === null) throw queryError(`${t.field}: needs a size such as 500K, 10M or 1G, not "${v}"`, pos, query);
      return { kind: 'size', op: t.field, bytes, pos };
    }
    default: throw queryError(`unknown operator "${t.field}:"`, t.pos, query);
  }
}

function parseDateValue(v: string): { year: number; month: number; day: number } | null {
  const m = /^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$/.exec(v);
  if (!m) return null;
  const year = Number(m[1]);
  const month = m[2] ? Number(m[2]) : 1;
  const day = m[3] ? Number(m[3]) : 1;
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  // 2021-02-30 is no date: checked against the calendar (UTC; zones do not move calendar days).
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return { year, month, day };
}

function parseSize(v: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([kmg]i?b?|b)?$/i.exec(v);
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const bytes = Math.round(Number(m[1]) * mult);
  return Number.isSafeInteger(bytes) ? bytes : null;
}
