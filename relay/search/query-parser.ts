import { SEARCH_LIMITS } from '../../lib/limits.ts';
import { parseByteSize } from '../../lib/byte-size.ts';
import { mailkeepError, type MailkeepError } from '../../lib/protocol/error-codes.ts';
import { clip, hasWord } from './search-text.ts';

/**
 * The search query language (docs/search.md): Gmail's and notmuch's operators people already know.
 *
 *   query   := or
 *   or      := and ( "OR" and )*
 *   and     := unary ( ["AND"] unary )*
 *   unary   := ("-" | "NOT") unary | primary
 *   primary := "(" or ")" | "{" unary* "}" | term        ({a b}: Gmail's "a OR b")
 *   term    := [field ":"] (word | "quoted phrase")
 *
 * Hand-written rather than generated or taken from a package: the grammar is a dozen lines, every
 * error must name the character where it happens (SEARCH_QUERY_INVALID, details.position, 0-based
 * UTF-16 index into the query as given), and the small query-string packages on npm parse flat
 * key:value lists without parentheses, OR or positions.
 *
 * Leniency, as Gmail's: what the index cannot hold is no error when the rest of the query says what
 * to find. A word of punctuation or emoji only ("Tom & Jerry") and a "-" with nothing right after it
 * ("Invoice - March") are left out, as the tokenizer would leave them out of the text; text before
 * a colon that is no operator ("Re: contract", a link, 10:30) is searched as words. Refused: a
 * misspelt operator (form:) and one of Gmail's or notmuch's that Mailkeep does not have (label:), so
 * that a typo never silently searches for something else.
 */

export type TextField = 'any' | 'subject' | 'from' | 'to' | 'cc' | 'body' | 'filename';
export type IsWhat = 'deleted-on-server' | 'unread' | 'read' | 'flagged' | 'answered';
export type AgeUnit = 'd' | 'w' | 'm' | 'y';

export type QueryNode =
  | { kind: 'text'; field: TextField; value: string; prefix: boolean; pos: number }
  | { kind: 'folder'; value: string; pos: number }
  | { kind: 'has-attachment'; pos: number }
  | { kind: 'date'; op: 'before' | 'after'; year: number; month: number; day: number; pos: number }
  /** older_than:/newer_than: (Gmail): a span back from the caller's clock. */
  | { kind: 'age'; op: 'before' | 'after'; count: number; unit: AgeUnit; pos: number }
  | { kind: 'size'; op: 'larger' | 'smaller'; bytes: number; pos: number }
  | { kind: 'is'; what: IsWhat; pos: number }
  | { kind: 'and'; items: QueryNode[] }
  | { kind: 'or'; items: QueryNode[] }
  | { kind: 'not'; item: QueryNode; pos: number }
  | { kind: 'all' };

/** A part of the query with nothing to search for (left out), and why, for when nothing else is left. */
type Skip = { kind: 'skip'; pos: number; why: string };
type Parsed = QueryNode | Skip;

export function queryError(message: string, position: number, query: string): MailkeepError {
  const near = clip(query.slice(position), 20);
  return mailkeepError('SEARCH_QUERY_INVALID', `${message} (at character ${position + 1}${near ? `: "${near}"` : ''})`, { position });
}

type Token =
  | { t: 'word'; text: string; pos: number; quoted: boolean; field?: string; valuePos: number }
  | { t: 'skip'; pos: number; why: string }
  | { t: '(' | ')' | '{' | '}' | 'OR' | 'AND' | 'NOT' | '-'; pos: number };

const FIELDS: Record<string, string> = {
  from: 'from', to: 'to', cc: 'cc', subject: 'subject', body: 'body', filename: 'filename', attachment: 'filename',
  folder: 'folder', in: 'folder', has: 'has', is: 'is', before: 'before', after: 'after',
  older: 'before', newer: 'after', older_than: 'older_than', newer_than: 'newer_than', larger: 'larger', size: 'larger', smaller: 'smaller',
};
/** Gmail's and notmuch's operators Mailkeep does not have: refused with what to use instead. */
const UNSUPPORTED: Record<string, string> = {
  label: 'folders are searched with folder:',
  tag: 'use folder:, is:unread, is:flagged or has:attachment',
  category: 'Gmail categories are not archived; use folder:',
  bcc: 'Bcc is not archived with received mail; use to:',
  deliveredto: 'use to:',
  list: 'use from: or to: with the list address',
  rfc822msgid: 'Message-IDs are not searchable',
  id: 'Message-IDs are not searchable',
  mid: 'Message-IDs are not searchable',
  thread: 'threads are not searchable',
  mimetype: 'use filename: or has:attachment',
  path: 'use folder:',
  date: 'use after: and before: (after:2024-03-01 before:2024-04-01)',
  around: 'there is no proximity search; use a "phrase"',
};
const IS_VALUES: Record<string, IsWhat> = {
  'deleted-on-server': 'deleted-on-server', 'deleted': 'deleted-on-server', 'gone': 'deleted-on-server',
  unread: 'unread', read: 'read', seen: 'read', flagged: 'flagged', starred: 'flagged', answered: 'answered', replied: 'answered',
};
const KNOWN = 'from:, to:, cc:, subject:, body:, filename:, folder:, has:attachment, before:, after:, older_than:, newer_than:, larger:, smaller:, is:deleted-on-server, is:unread, is:flagged';

/** Quote marks people's keyboards and phones type for '"' (German „…“, English “…”, «…»). */
const QUOTES = /["\u201c\u201d\u201e\u201f\u00ab\u00bb]/;

/**
 * The query with what an input method types instead of ASCII syntax made ASCII, one UTF-16 unit for
 * one, so positions stay the person's: full-width forms (Japanese IMEs type from：, （ ）), curly
 * and angled quotes, control characters (a NUL pasted in) as spaces.
 */
function foldSyntax(q: string): string {
  return q.replace(/[\uff01-\uff5e\u201c\u201d\u201e\u201f\u00ab\u00bb\u0000-\u001f\u007f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code >= 0xff01) return String.fromCharCode(code - 0xfee0);
    return code < 0x20 || code === 0x7f ? ' ' : '"';
  });
}

/** Edit distance with transpositions (form/from is 1), for telling a misspelt operator from a word. */
function typoDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The operator `name` is probably a misspelling of (two-letter names: none; re:, tr:, ps: are words). */
function misspeltOperator(name: string): string | undefined {
  if (name.length < 3) return undefined;
  const most = name.length >= 6 ? 2 : 1;
  return Object.keys(FIELDS).find((f) => f.length >= 3 && typoDistance(name, f) <= most);
}

function tokenize(q: string, original: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);
  const readQuoted = (start: number): { text: string; end: number } => {
    let close = start + 1;
    while (close < q.length && q[close] !== '"') close++;
    if (close >= q.length) throw queryError('this quote is never closed', start, original);
    return { text: q.slice(start + 1, close), end: close + 1 };
  };
  while (i < q.length) {
    const c = q[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === '{' || c === '}') {
      out.push({ t: c, pos: i });
      i++;
      continue;
    }
    if (c === '-') {
      // "-" right before a term or a bracket leaves it out; inside a word (e-mail) it is part of the
      // word; with a space or nothing after it ("Invoice - March", a query being typed) it leaves
      // out nothing and is left out itself.
      if (i + 1 >= q.length || isSpace(q[i + 1]) || q[i + 1] === ')' || q[i + 1] === '}') out.push({ t: 'skip', pos: i, why: '"-" leaves out what follows it directly, without a space (-draft)' });
      else out.push({ t: '-', pos: i });
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
    while (j < q.length && !isSpace(q[j]) && !'(){}"'.includes(q[j]!)) j++;
    const word = q.slice(i, j);
    const colon = word.indexOf(':');
    const name = colon > 0 ? word.slice(0, colon).toLowerCase() : '';
    // A link (https://..., mailto: is no operator either) is searched as its words.
    const isLink = word.slice(colon + 1, colon + 3) === '//';
    if (name && /^[a-z][a-z0-9_-]*$/.test(name) && !isLink) {
      const field = FIELDS[name];
      const named = word.slice(0, colon);
      if (!field && UNSUPPORTED[name]) throw queryError(`Mailkeep has no "${named}:" operator: ${UNSUPPORTED[name]} (to search for the text, put it in "double quotes")`, i, original);
      // Only written as an operator is (form:alice, form:"Ann B"): "Was: the meeting moved" is words.
      const asOperator = colon < word.length - 1 || q[j] === '"';
      const meant = field || !asOperator ? undefined : misspeltOperator(name);
      if (meant) throw queryError(`unknown operator "${named}:": did you mean "${meant}:"? (known: ${KNOWN}; to search for the text, put it in "double quotes")`, i, original);
      if (field) {
        const valuePos = i + colon + 1;
        if (colon === word.length - 1) {
          // field:"quoted value"
          if (q[j] === '"') {
            const { text, end } = readQuoted(j);
            out.push({ t: 'word', text, pos: i, quoted: true, field, valuePos: j });
            i = end;
            continue;
          }
          if (q[j] === '(' || q[j] === '{') throw queryError(`${name}: takes one word or a "quoted phrase", not brackets`, j, original);
          throw queryError(`${name}: needs a value right after the colon, without a space (${name}:${EXAMPLE[field] ?? 'word'})`, valuePos, original);
        }
        out.push({ t: 'word', text: word.slice(colon + 1), pos: i, quoted: false, field, valuePos });
        i = j;
        continue;
      }
    }
    if (word === 'OR' || word === 'AND' || word === 'NOT') out.push({ t: word, pos: i });
    else out.push({ t: 'word', text: word, pos: i, quoted: false, valuePos: i });
    i = j;
  }
  return out;
}

const EXAMPLE: Record<string, string> = {
  from: 'anna', to: 'anna', cc: 'anna', subject: 'budget', body: 'budget', filename: 'report.pdf', folder: 'INBOX', has: 'attachment',
  is: 'deleted-on-server', before: '2024-03-01', after: '2024-03-01', older_than: '30d', newer_than: '7d', larger: '5M', smaller: '100K',
};

const isSkip = (n: Parsed): n is Skip => n.kind === 'skip';

export function parseQuery(query: string): QueryNode {
  if (query.length > SEARCH_LIMITS.queryMaxChars) throw queryError(`the query is longer than ${SEARCH_LIMITS.queryMaxChars} characters`, SEARCH_LIMITS.queryMaxChars, query);
  const tokens = tokenize(foldSyntax(query), query);
  if (tokens.length === 0) return { kind: 'all' };
  const words = tokens.filter((t) => t.t === 'word');
  if (words.length > SEARCH_LIMITS.queryMaxTerms) throw queryError(`the query has more than ${SEARCH_LIMITS.queryMaxTerms} search terms`, words[SEARCH_LIMITS.queryMaxTerms]!.pos, query);
  let k = 0;
  let depth = 0;
  const peek = (): Token | undefined => tokens[k];
  const endPos = query.length;
  // Skipped parts between terms ("a & b", "a - b") are passed over wherever a term may stand.
  const skipped: Skip[] = [];
  const passSkips = (): void => {
    for (let t = peek(); t?.t === 'skip'; t = peek()) {
      skipped.push({ kind: 'skip', pos: t.pos, why: t.why });
      k++;
    }
  };
  /** ...and the first of them kept among a group's items, so a group of nothing else says why. */
  const passSkipsInto = (items: Parsed[]): void => {
    const before = skipped.length;
    passSkips();
    if (skipped.length > before) items.push(skipped[before]!);
  };
  const deeper = (pos: number): void => {
    // FTS5's expression parser has a fixed stack: a query nested deeper than any person writes is
    // refused here, at its bracket, not by SQLite.
    if (++depth > SEARCH_LIMITS.queryMaxDepth) throw queryError(`brackets and "-" are nested more than ${SEARCH_LIMITS.queryMaxDepth} deep`, pos, query);
  };
  const combine = (kind: 'and' | 'or', items: Parsed[]): Parsed => {
    const kept = items.filter((n): n is QueryNode => !isSkip(n));
    if (kept.length === 0) return items[0]!;
    return kept.length === 1 ? kept[0]! : { kind, items: kept };
  };

  const parseOr = (): Parsed => {
    const items = [parseAnd()];
    while (peek()?.t === 'OR') {
      const or = peek()!;
      k++;
      passSkips();
      const next = peek();
      if (!next || next.t === ')' || next.t === '}' || next.t === 'OR' || next.t === 'AND') throw queryError('"OR" needs something to search for on its right', next?.pos ?? or.pos, query);
      items.push(parseAnd());
    }
    return combine('or', items);
  };
  const parseAnd = (): Parsed => {
    const items: Parsed[] = [];
    for (;;) {
      passSkipsInto(items);
      const next = peek();
      if (!next || next.t === ')' || next.t === '}' || next.t === 'OR') break;
      if (next.t === 'AND') {
        if (!items.some((i) => !isSkip(i))) break;
        k++;
        passSkips();
        const after = peek();
        if (!after || after.t === ')' || after.t === '}' || after.t === 'OR' || after.t === 'AND') throw queryError('"AND" needs something to search for on its right', after?.pos ?? next.pos, query);
      }
      items.push(parseUnary());
    }
    // Nothing here but skipped parts, or nothing at all: the term that is missing says why.
    if (items.length === 0 || (peek()?.t === 'AND' && items.every(isSkip))) return parsePrimary();
    return combine('and', items);
  };
  const parseUnary = (): Parsed => {
    passSkips();
    const t = peek();
    if (t && (t.t === '-' || t.t === 'NOT')) {
      k++;
      passSkips();
      const next = peek();
      if (!next || next.t === ')' || next.t === '}' || next.t === 'OR' || next.t === 'AND') throw queryError(`"${t.t}" needs something to leave out on its right`, next?.pos ?? t.pos, query);
      deeper(t.pos);
      const item = parseUnary();
      depth--;
      return isSkip(item) ? item : { kind: 'not', item, pos: t.pos };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Parsed => {
    const t = peek();
    if (!t) throw queryError('the query ends where a search term was expected', endPos, query);
    if (t.t === '(') {
      k++;
      passSkips();
      if (peek()?.t === ')') throw queryError('empty brackets', t.pos, query);
      if (!peek()) throw queryError('this bracket is never closed', t.pos, query);
      deeper(t.pos);
      const inner = parseOr();
      depth--;
      if (peek()?.t !== ')') throw queryError('this bracket is never closed', t.pos, query);
      k++;
      return inner;
    }
    if (t.t === '{') {
      // Gmail's {a b}: any of the terms inside.
      k++;
      deeper(t.pos);
      const items: Parsed[] = [];
      for (;;) {
        passSkipsInto(items);
        const next = peek();
        if (!next) throw queryError('this brace is never closed', t.pos, query);
        if (next.t === '}') break;
        if (next.t === 'OR' || next.t === 'AND') {
          k++;
          continue;
        }
        if (next.t === ')') throw queryError('this closing bracket has no opening one', next.pos, query);
        items.push(parseUnary());
      }
      depth--;
      k++;
      if (items.length === 0) throw queryError('empty braces', t.pos, query);
      return combine('or', items);
    }
    if (t.t === ')') throw queryError('this closing bracket has no opening one', t.pos, query);
    if (t.t === '}') throw queryError('this closing brace has no opening one', t.pos, query);
    if (t.t === 'OR' || t.t === 'AND') throw queryError(`"${t.t}" needs something to search for on its left`, t.pos, query);
    if (t.t !== 'word') throw queryError('a search term was expected here', t.pos, query);
    k++;
    return term(t, query);
  };

  const node = parseOr();
  passSkips();
  const rest = peek();
  if (rest) throw queryError(rest.t === ')' ? 'this closing bracket has no opening one' : rest.t === '}' ? 'this closing brace has no opening one' : 'unexpected text', rest.pos, query);
  if (isSkip(node)) throw queryError(`nothing to search for: ${node.why}`, node.pos, query);
  return node;
}

function term(t: Extract<Token, { t: 'word' }>, query: string): Parsed {
  const v = t.text;
  const pos = t.valuePos;
  const textNode = (field: TextField): Parsed => {
    const prefix = !t.quoted && v.length > 1 && v.endsWith('*');
    const value = prefix ? v.slice(0, -1) : v;
    if (!hasWord(value)) {
      const why = `"${clip(v, 40)}" has no letter or digit, and punctuation and emoji are not indexed`;
      // A free word of punctuation between others (Tom & Jerry) is left out, as in the text.
      if (field === 'any' && !t.quoted) return { kind: 'skip', pos, why };
      throw queryError(t.quoted && v.trim() === '' ? 'these quotes hold nothing to search for' : why, pos, query);
    }
    return { kind: 'text', field, value, prefix, pos };
  };
  switch (t.field) {
    case undefined: return textNode('any');
    case 'from': case 'to': case 'cc': case 'subject': case 'body': case 'filename': return textNode(t.field);
    case 'folder':
      if (v.trim() === '') throw queryError('folder: needs a folder name', pos, query);
      return { kind: 'folder', value: v, pos };
    case 'has':
      if (/^attachments?$/i.test(v)) return { kind: 'has-attachment', pos };
      throw queryError(`has: knows only "attachment", not "${clip(v, 40)}"`, pos, query);
    case 'is': {
      const what = IS_VALUES[v.toLowerCase()];
      if (!what) throw queryError(`is: knows deleted-on-server, unread, read, flagged and answered, not "${clip(v, 40)}"`, pos, query);
      return { kind: 'is', what, pos };
    }
    case 'before': case 'after': {
      const d = parseDateValue(v);
      if (!d) throw queryError(`${t.field}: needs a date from ${SEARCH_LIMITS.queryMinYear} on as YYYY-MM-DD, YYYY/MM/DD, YYYY-MM or YYYY, not "${clip(v, 40)}"`, pos, query);
      return { kind: 'date', op: t.field, ...d, pos };
    }
    case 'older_than': case 'newer_than': {
      const m = /^(\d{1,4})([dwmy])$/i.exec(v);
      if (!m || Number(m[1]) === 0) throw queryError(`${t.field}: needs a number of days, weeks, months or years such as 7d, 2w, 6m or 1y, not "${clip(v, 40)}"`, pos, query);
      return { kind: 'age', op: t.field === 'older_than' ? 'before' : 'after', count: Number(m[1]), unit: m[2]!.toLowerCase() as AgeUnit, pos };
    }
    case 'larger': case 'smaller': {
      const bytes = parseByteSize(v);
      if (bytes === null) throw queryError(`${t.field}: needs a size such as 500K, 10M or 1.5G, not "${clip(v, 40)}"`, pos, query);
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
  if (year < SEARCH_LIMITS.queryMinYear || month < 1 || month > 12 || day < 1 || day > 31) return null;
  // 2021-02-30 is no date: checked against the calendar (UTC; zones do not move calendar days).
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return { year, month, day };
}
