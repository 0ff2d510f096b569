import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_LIMITS } from '../../lib/limits.ts';
import { ERROR_HINTS } from '../../lib/status/error-hints.ts';
import { closeSearchSessions, searchArchive, searchFile, updateSearchIndex } from '../../relay/search/index.ts';
import { parseQuery } from '../../relay/search/query-parser.ts';
import { mail, writeRun } from '../support/search-archive.ts';

/**
 * The class "a query a person might type" (issue 15, point 2), member by member: each operator in
 * any case and with the values people give it, the syntax people type by accident (FTS5's own,
 * punctuation, a lone "-", smart quotes, full-width forms), non-ASCII text, dates, sizes, and every
 * query that cannot be read: SEARCH_QUERY_INVALID with the position and words, never SQLite's.
 * search-query.test.ts has the operators' meaning on a small archive; this file the typing.
 */

const dirs: string[] = [];
let dir: string;

function withAttachment(o: { subject: string; date: string; filename: string }): Buffer {
  return Buffer.from(
    [
      'From: Reports <reports@example.com>', 'To: Bob <bob@example.net>', `Subject: ${o.subject}`, `Date: ${o.date}`, `Message-ID: <${o.filename}@example.com>`, 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="B"', '', '--B', 'Content-Type: text/plain; charset=utf-8', '', 'See the attached file.', '--B',
      `Content-Type: application/pdf; name="${o.filename}"`, `Content-Disposition: attachment; filename="${o.filename}"`, 'Content-Transfer-Encoding: base64', '',
      Buffer.alloc(3000, 1).toString('base64').replace(/.{76}/g, '$&\r\n'), '--B--', '',
    ].join('\r\n'),
  );
}

const M = {
  contract: mail({ from: 'Anna Adler <anna@example.org>', to: 'Bob <bob@example.net>', subject: 'Re: contract', date: 'Tue, 05 Mar 2024 10:00:00 +0000', body: 'Tom & Jerry signed the contract at 10:30, see https://docs.example.com/contract-v2 for it.' }),
  german: mail({ from: 'Jürgen Groß <juergen@example.de>', subject: 'Grüße aus Köln', date: 'Wed, 06 Mar 2024 10:00:00 +0000', body: 'Die Straße ist gesperrt. Schöne Grüße.' }),
  japanese: mail({ from: '田中 <tanaka@example.jp>', subject: '会議の件', date: 'Thu, 07 Mar 2024 10:00:00 +0000', body: '明日の会議は東京で行います' }),
  russian: mail({ from: 'Иван <ivan@example.ru>', subject: 'Привет', date: 'Fri, 08 Mar 2024 10:00:00 +0000', body: 'Встреча завтра в Москве' }),
  // "Café" with a combining acute accent (e + U+0301): what macOS file names and some mailers write.
  decomposed: mail({ from: 'Zoë <zoe@example.org>', subject: 'Cafe\u0301 near the station 🙂', date: 'Sat, 09 Mar 2024 10:00:00 +0000', body: 'and or not near: words FTS5 treats as syntax' }),
  report: withAttachment({ subject: 'Quarterly numbers', date: 'Mon, 11 Mar 2024 10:00:00 +0000', filename: 'report-2024.pdf' }),
  old: mail({ from: 'Archive <old@example.com>', subject: 'Leap day', date: 'Thu, 29 Feb 2024 12:00:00 +0000', body: 'a day that exists every four years' }),
  sent: mail({ from: 'Bob <bob@example.net>', to: 'Anna Adler <anna@example.org>', subject: 'Re: Re: contract', date: 'Tue, 12 Mar 2024 10:00:00 +0000', body: 'Thanks, café au lait tomorrow?' }),
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-search-typed-'));
  dirs.push(dir);
  await writeRun(dir, [
    { folder: 'INBOX', messages: [M.contract, M.german, M.japanese, M.russian, M.decomposed, M.report, M.old].map((raw) => ({ raw, flags: ['\\Seen'] })) },
    { folder: 'Entwürfe', messages: [{ raw: M.german }] },
    { folder: 'Sent Items', specialUse: '\\Sent', messages: [{ raw: M.sent, flags: ['\\Seen'] }] },
  ]);
  await updateSearchIndex(dir);
});
afterAll(() => {
  closeSearchSessions();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const NOW = Date.UTC(2024, 2, 12, 12); // 2024-03-12 12:00 UTC: older_than:/newer_than: count back from here
const subjects = (q: string): string[] => searchArchive(dir, q, { timeZone: 'UTC', now: NOW, limit: 500 }).hits.map((h) => `${h.subject} [${h.folder}]`);
const set = (q: string): Set<string> => new Set(subjects(q));

/** The error a query gets, or undefined when it is searched. */
function refusal(q: string): { code: string; message: string; position: number } | undefined {
  try {
    searchArchive(dir, q, { timeZone: 'UTC', now: NOW });
    return undefined;
  } catch (e) {
    const err = e as { code: string; message: string; details?: { position?: number } };
    return { code: err.code, message: err.message, position: err.details?.position ?? -1 };
  }
}

const SQLITE_WORDS = /sqlite|fts5|syntax error|no such column|malformed|parser stack|unterminated|near "/i;

describe('operators typed in any case, with the values people give them', () => {
  it('reads operator names and is:/has: values in any case (FROM:Anna, Subject:, HAS:Attachment, IS:Deleted-On-Server)', () => {
    for (const q of ['from:anna', 'FROM:Anna', 'From:ANNA', 'fRoM:aNnA']) expect(set(q), q).toEqual(new Set(['Re: contract [INBOX]']));
    expect(subjects('SUBJECT:numbers')).toEqual(['Quarterly numbers [INBOX]']);
    expect(subjects('HAS:Attachment')).toEqual(['Quarterly numbers [INBOX]']);
    expect(subjects('Has:attachments')).toEqual(['Quarterly numbers [INBOX]']);
    expect(subjects('IS:Deleted-On-Server')).toEqual([]);
    expect(subjects('IS:UNREAD')).toEqual(['Grüße aus Köln [Entwürfe]']);
  });

  it('takes a quoted value, an address, a colon, dots and hyphens in a value', () => {
    expect(subjects('from:"Anna Adler"')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('from:"Adler Bob"')).toEqual([]);
    expect(subjects('from:anna@example.org')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('to:anna@example.org')).toEqual(['Re: Re: contract [Sent Items]']);
    expect(subjects('from:@example.de')).toEqual(['Grüße aus Köln [INBOX]', 'Grüße aus Köln [Entwürfe]']);
    expect(subjects('subject:re:')).toEqual(['Re: Re: contract [Sent Items]', 'Re: contract [INBOX]']);
    expect(subjects('subject:"Re: Re:"')).toEqual(['Re: Re: contract [Sent Items]']);
    expect(subjects('filename:report-2024.pdf')).toEqual(['Quarterly numbers [INBOX]']);
    expect(subjects('filename:*.pdf')).toEqual(['Quarterly numbers [INBOX]']);
    expect(subjects('attachment:report')).toEqual(['Quarterly numbers [INBOX]']);
    expect(subjects('filename:report-2023.pdf')).toEqual([]);
  });

  it('names a folder in any Unicode case, with composed or decomposed accents, and with spaces in quotes', () => {
    for (const q of ['folder:Entwürfe', 'folder:entwürfe', 'folder:ENTWÜRFE', 'folder:Entwu\u0308rfe', 'in:ENTWU\u0308RFE']) expect(subjects(q), q).toEqual(['Grüße aus Köln [Entwürfe]']);
    expect(subjects('folder:"sent items"')).toEqual(['Re: Re: contract [Sent Items]']);
    expect(subjects('folder:"Sent Items" contract')).toEqual(['Re: Re: contract [Sent Items]']);
    expect(subjects('-folder:INBOX -folder:entwürfe')).toEqual(['Re: Re: contract [Sent Items]']);
    expect(subjects('folder:Nowhere')).toEqual([]);
    expect(subjects('folder:Sent Items')).toEqual([]); // folder "Sent" and the word "Items"
  });

  it('takes Gmail\'s in:sent, in:trash, in:spam... as the folder the server marks for that use, when no folder has that name', () => {
    for (const q of ['in:sent', 'in:SENT', 'folder:sent', 'in:sent contract']) expect(subjects(q), q).toEqual(['Re: Re: contract [Sent Items]']);
    expect(subjects('in:trash')).toEqual([]);
    expect(subjects('in:inbox -in:sent')).toHaveLength(7);
  });

  it('combines operators, free words and phrases with AND, OR, -, NOT, brackets and Gmail\'s {braces}', () => {
    expect(subjects('contract from:anna')).toEqual(['Re: contract [INBOX]']);
    expect(set('from:anna OR from:bob')).toEqual(new Set(['Re: contract [INBOX]', 'Re: Re: contract [Sent Items]']));
    expect(set('{from:anna from:bob}')).toEqual(set('from:anna OR from:bob'));
    expect(set('{from:anna OR from:bob}')).toEqual(set('from:anna OR from:bob'));
    expect(subjects('contract -from:anna')).toEqual(['Re: Re: contract [Sent Items]']);
    expect(subjects('contract NOT folder:INBOX')).toEqual(['Re: Re: contract [Sent Items]']);
    expect(subjects('(contract OR numbers) has:attachment')).toEqual(['Quarterly numbers [INBOX]']);
    expect(subjects('"signed the contract" after:2024-03-01 -larger:1M')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('contract AND "Jerry signed"')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('-(contract OR Köln OR 会議 OR Москве OR café OR numbers) folder:INBOX')).toEqual(['Leap day [INBOX]']);
  });
});

describe('what people type by accident', () => {
  it('leaves out words of punctuation or emoji and a "-" with nothing right after it, as the text itself is indexed', () => {
    expect(subjects('Tom & Jerry')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('contract - Jerry')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('contract -')).toHaveLength(2);
    expect(subjects('contract * ^ + ~ !')).toHaveLength(2);
    expect(subjects('🙂 station')).toEqual(['Café near the station 🙂 [INBOX]']);
    expect(subjects('(Tom & Jerry) OR &')).toEqual(['Re: contract [INBOX]']);
  });

  it('searches text before a colon that is no operator as words: Re:, links, times', () => {
    expect(subjects('Re: contract')).toEqual(subjects('re contract'));
    expect(subjects('Re: contract')).toHaveLength(2);
    expect(subjects('https://docs.example.com/contract-v2')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('10:30')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('contract:signed')).toEqual([]);
  });

  it('refuses a misspelt operator and one Mailkeep does not have, naming it, so a typo never searches for something else', () => {
    expect(refusal('contract form:anna')).toMatchObject({ code: 'SEARCH_QUERY_INVALID', position: 9, message: expect.stringMatching(/"form:": did you mean "from:"/) });
    expect(refusal('subjet:numbers')).toMatchObject({ position: 0, message: expect.stringMatching(/did you mean "subject:"/) });
    expect(refusal('filname:pdf')).toMatchObject({ position: 0, message: expect.stringMatching(/did you mean "filename:"/) });
    expect(refusal('has:attachment lable:x')).toBeUndefined(); // lable is no operator's misspelling within one letter: words
    expect(refusal('label:work')).toMatchObject({ position: 0, message: expect.stringMatching(/no "label:" operator: folders are searched with folder:/) });
    expect(refusal('tag:inbox')).toMatchObject({ position: 0, message: expect.stringMatching(/no "tag:" operator/) });
    expect(refusal('x bcc:anna')).toMatchObject({ position: 2, message: expect.stringMatching(/Bcc is not archived/) });
    expect(refusal('"label:work"')).toBeUndefined();
    expect(refusal('form:"Anna Adler"')).toMatchObject({ position: 0, message: expect.stringMatching(/did you mean "from:"/) });
  });

  it('takes a word with a colon and a space after it as words, not as a misspelt operator: "Was: the meeting", "Fax: 030", "Form: W-2"', () => {
    for (const q of ['Was: the meeting moved', 'Fax: 030 1234', 'Form: W-2', 'subjet: numbers']) expect(refusal(q), q).toBeUndefined();
  });

  it('treats FTS5 keywords and syntax as text: and, or, not, near, NEAR(...), col:, {col}:, ^, *, +, quotes inside words', () => {
    for (const q of ['and', 'or', 'not', 'near', 'NEAR', '"and or not near"', 'NEAR(words syntax)', 'near: words']) expect(subjects(q), q).toEqual(['Café near the station 🙂 [INBOX]']);
    for (const q of ['^contract', '+contract', 'contract^', '"contract"*', 'contract*', 'contr*']) expect(subjects(q), q).toHaveLength(2);
    for (const q of ['{subject}: contract', 'subject : contract']) expect(refusal(q), q).toBeUndefined();
  });

  it('reads curly, German and angled quotes as quotes, and full-width syntax as ASCII', () => {
    expect(subjects('“signed the contract”')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('„signed the contract“')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('«signed the contract»')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('“contract the signed”')).toEqual([]);
    expect(subjects('from：anna')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('（会議 OR 東京）')).toEqual(['会議の件 [INBOX]']);
    expect(subjects('ｃｏｎｔｒａｃｔ　ｆｒｏｍ：ａｎｎａ')).toEqual(['Re: contract [INBOX]']);
    expect(refusal('“unclosed')).toMatchObject({ code: 'SEARCH_QUERY_INVALID', position: 0, message: expect.stringMatching(/quote is never closed/) });
  });

  it('lists everything for an empty query or one of whitespace of any script', () => {
    const all = subjects('');
    expect(all).toHaveLength(9);
    for (const q of ['   ', '\t\n', '\u00a0', '\u3000', ' \u2003 ']) expect(subjects(q), JSON.stringify(q)).toEqual(all);
  });

  it('refuses what cannot be read with the position of the character at fault and words a person understands', () => {
    const cases: [string, number, RegExp][] = [
      ['&', 0, /nothing to search for: "&" has no letter or digit, and punctuation and emoji are not indexed/],
      ['🙂', 0, /nothing to search for/],
      ['- -', 0, /nothing to search for: "-" leaves out what follows it directly, without a space/],
      ['""', 0, /these quotes hold nothing to search for/],
      ['subject:""', 8, /quotes hold nothing/],
      ['from:&', 5, /"&" has no letter or digit/],
      ['contract OR', 9, /"OR" needs something to search for on its right/],
      ['contract OR OR x', 12, /"OR" needs something to search for on its right/],
      ['OR contract', 0, /"OR" needs something to search for on its left/],
      ['contract AND', 9, /"AND" needs something to search for on its right/],
      ['contract NOT', 9, /"NOT" needs something to leave out/],
      ['contract -)', 10, /closing bracket has no opening one/],
      ['(contract', 0, /bracket is never closed/],
      ['((contract)', 0, /bracket is never closed/],
      ['contract)', 8, /closing bracket has no opening one/],
      ['( )', 0, /empty brackets/],
      ['{contract', 0, /brace is never closed/],
      ['contract}', 8, /closing brace has no opening one/],
      ['{}', 0, /empty braces/],
      ['{ & }', 2, /nothing to search for: "&"/],
      ['subject:"Re: x', 8, /quote is never closed/],
      ['from: anna', 5, /from: needs a value right after the colon, without a space \(from:anna\)/],
      ['folder:', 7, /folder: needs a value/],
      ['folder:(INBOX)', 7, /not brackets/],
    ];
    for (const [q, pos, msg] of cases) {
      const r = refusal(q);
      expect(r, q).toMatchObject({ code: 'SEARCH_QUERY_INVALID', position: pos });
      expect(r!.message, q).toMatch(msg);
      expect(r!.message, q).toContain(`at character ${pos + 1}`);
      expect(r!.message, q).not.toMatch(SQLITE_WORDS);
    }
    // The words for the person live in the one table of hints.
    expect(ERROR_HINTS.SEARCH_QUERY_INVALID).toMatch(/quote and bracket/);
  });
});

describe('non-ASCII text', () => {
  it('finds German words with and without their umlauts, in any case', () => {
    for (const q of ['Grüße', 'grüße', 'GRÜSSE', 'Grüsse', 'grusse', 'köln', 'KOLN', 'koeln'].slice(0, 7)) expect(subjects(q).length, q).toBeGreaterThan(0);
    expect(set('Straße')).toEqual(new Set(['Grüße aus Köln [INBOX]', 'Grüße aus Köln [Entwürfe]']));
    expect(set('strasse')).toEqual(set('Straße'));
    expect(set('STRASSE')).toEqual(set('Straße'));
    expect(set('from:groß')).toEqual(set('from:gross'));
  });

  it('finds a Japanese word inside a sentence written without spaces, and Russian words in any case', () => {
    expect(subjects('会議')).toEqual(['会議の件 [INBOX]']);
    expect(subjects('東京')).toEqual(['会議の件 [INBOX]']);
    expect(subjects('"明日の会議"')).toEqual(['会議の件 [INBOX]']);
    expect(subjects('京東')).toEqual([]);
    expect(subjects('москве')).toEqual(['Привет [INBOX]']);
    expect(subjects('ПРИВЕТ')).toEqual(['Привет [INBOX]']);
    expect(subjects('from:иван')).toEqual(['Привет [INBOX]']);
  });

  it('matches composed and decomposed accents alike, and a word without its accent', () => {
    const both = new Set(['Café near the station 🙂 [INBOX]', 'Re: Re: contract [Sent Items]']);
    expect(set('café')).toEqual(both);
    expect(set('Cafe\u0301')).toEqual(both);
    expect(set('cafe')).toEqual(both);
    expect(set('CAFÉ')).toEqual(both);
    expect(set('from:zoe')).toEqual(set('from:Zoë'));
  });
});

describe('dates and sizes as people write them', () => {
  it('reads a date as YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, one-digit months and days, YYYY-MM and YYYY', () => {
    const march = subjects('before:2024-03-06');
    expect(march).toEqual(['Re: contract [INBOX]', 'Leap day [INBOX]']);
    for (const q of ['before:2024/03/06', 'before:2024.03.06', 'before:2024-3-6']) expect(subjects(q), q).toEqual(march);
    expect(subjects('after:2024-03 before:2024-03-06')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('before:2024-03')).toEqual(['Leap day [INBOX]']);
    expect(subjects('after:2025')).toEqual([]);
    expect(subjects('after:2024-02-29 before:2024-03-01')).toEqual(['Leap day [INBOX]']);
  });

  it('refuses days that do not exist and years no mail has, at the date', () => {
    for (const [q, pos] of [['before:2024-02-30', 7], ['before:2023-02-29', 7], ['after:2024-13-01', 6], ['after:2024-00', 6], ['before:24-03-01', 7], ['before:0024', 7], ['before:1899-12-31', 7], ['before:01.03.2024', 7], ['after:2024-03-01T10:00', 6], ['after:yesterday', 6]] as const)
      expect(refusal(q), q).toMatchObject({ code: 'SEARCH_QUERY_INVALID', position: pos, message: expect.stringMatching(/needs a date from 1900 on as YYYY-MM-DD/) });
    expect(refusal('before:2024-02-29')).toBeUndefined();
  });

  it('counts older_than: and newer_than: back from the caller\'s clock in days, weeks, months and years', () => {
    // NOW is 2024-03-12 12:00 UTC.
    expect(subjects('newer_than:1d')).toEqual(['Re: Re: contract [Sent Items]']);
    expect(subjects('newer_than:2d')).toEqual(['Re: Re: contract [Sent Items]', 'Quarterly numbers [INBOX]']);
    // A week back is 2024-03-05 12:00: the contract of 10:00 that day is older.
    expect(subjects('newer_than:1w')).toHaveLength(7);
    expect(subjects('older_than:1w newer_than:1m')).toEqual(['Re: contract [INBOX]', 'Leap day [INBOX]']);
    expect(subjects('older_than:1w')).toEqual(subjects('older_than:7d'));
    expect(subjects('older_than:1y')).toEqual([]);
    expect(subjects('NEWER_THAN:1Y')).toHaveLength(9);
    for (const q of ['newer_than:0d', 'newer_than:5x', 'newer_than:d', 'older_than:1.5y'])
      expect(refusal(q), q).toMatchObject({ code: 'SEARCH_QUERY_INVALID', position: q.indexOf(':') + 1, message: expect.stringMatching(/7d, 2w, 6m or 1y/) });
  });

  it('reads sizes as 1M, 10k, 1.5MB, 3000, 0 (size: is Gmail\'s larger:), and refuses negative and garbage ones', () => {
    expect(subjects('larger:3K')).toEqual(['Quarterly numbers [INBOX]']);
    for (const q of ['larger:3k', 'larger:3KB', 'larger:3KiB', 'larger:3072', 'size:3K', 'larger:0.003M']) expect(subjects(q), q).toEqual(['Quarterly numbers [INBOX]']);
    expect(subjects('larger:1M')).toEqual([]);
    expect(subjects('larger:1.5MB')).toEqual([]);
    expect(subjects('larger:0')).toHaveLength(9);
    expect(subjects('smaller:0')).toEqual([]);
    expect(subjects('smaller:3K')).toHaveLength(8);
    for (const q of ['larger:-1', 'larger:big', 'larger:1T', 'larger:1e6', 'larger:99999999999G', 'smaller:M'])
      expect(refusal(q), q).toMatchObject({ code: 'SEARCH_QUERY_INVALID', position: q.indexOf(':') + 1, message: expect.stringMatching(/needs a size such as 500K, 10M or 1.5G/) });
  });
});

describe('limits and SQLite', () => {
  it('takes a query of up to 1,000 characters and 64 terms, and refuses a longer one at the first character or term beyond', () => {
    const long = `contract ${'x'.repeat(SEARCH_LIMITS.queryMaxChars - 'contract '.length)}`;
    expect(refusal(long)).toBeUndefined();
    expect(refusal(`${long}y`)).toMatchObject({ code: 'SEARCH_QUERY_INVALID', position: SEARCH_LIMITS.queryMaxChars, message: expect.stringMatching(/longer than 1000 characters/) });
    const terms = Array.from({ length: SEARCH_LIMITS.queryMaxTerms + 1 }, (_, i) => `w${i}`);
    expect(refusal(terms.slice(0, -1).join(' '))).toBeUndefined();
    expect(refusal(terms.join(' '))).toMatchObject({ code: 'SEARCH_QUERY_INVALID', position: terms.slice(0, -1).join(' ').length + 1, message: expect.stringMatching(/more than 64 search terms/) });
  });

  it('refuses a page size outside 1 to 500 and a cursor it did not give with INVALID_INPUT, as the CLI\'s --limit and --cursor pass them', () => {
    for (const limit of [0, -1, 1.5, SEARCH_LIMITS.pageMax + 1, Number.NaN, Infinity])
      expect(() => searchArchive(dir, 'contract', { limit }), String(limit)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/limit must be 1 to 500/) }));
    for (const cursor of ['garbage', '1.2.3', '-.-', 'ZZ.1', `${'z'.repeat(13)}.1`])
      expect(() => searchArchive(dir, 'contract', { cursor }), cursor).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/cursor is not one the search gave/) }));
    expect(searchArchive(dir, 'contract', { limit: SEARCH_LIMITS.pageMax }).hits).toHaveLength(2);
  });

  it('refuses brackets and "-" nested deeper than 16 at the bracket that goes too deep, before FTS5\'s parser stack can overflow', () => {
    const ok = `${'('.repeat(SEARCH_LIMITS.queryMaxDepth)}contract${')'.repeat(SEARCH_LIMITS.queryMaxDepth)}`;
    expect(subjects(ok)).toHaveLength(2);
    const deep = `${'(a OR '.repeat(SEARCH_LIMITS.queryMaxDepth + 1)}contract${')'.repeat(SEARCH_LIMITS.queryMaxDepth + 1)}`;
    expect(refusal(deep)).toMatchObject({ code: 'SEARCH_QUERY_INVALID', position: 6 * SEARCH_LIMITS.queryMaxDepth, message: expect.stringMatching(/nested more than 16 deep/) });
    expect(refusal('-'.repeat(17) + 'x')).toMatchObject({ code: 'SEARCH_QUERY_INVALID', position: 16 });
    // The deepest query the parser lets through, of every kind of nesting, runs.
    // (Words with ß are searched in two spellings: one more level in FTS5.)
    let q = 'contract Straße';
    for (let i = 0; i < SEARCH_LIMITS.queryMaxDepth; i++) q = i % 2 ? `{w${i} ${q} -w${i}x}` : `(w${i} OR ${q})`;
    expect(refusal(q), q).toBeUndefined();
    q = 'contract Straße';
    for (let i = 0; i < SEARCH_LIMITS.queryMaxDepth; i++) q = i % 2 ? `(w${i} ${q} -x${i}ss)` : `(w${i} OR ${q})`;
    expect(refusal(q), q).toBeUndefined();
  });

  it('each FTS5 syntax error SQLite gives for raw input is, through the query language, a search or SEARCH_QUERY_INVALID in words', () => {
    const db = new Database(searchFile(dir), { readonly: true });
    const raw = ['a AND', 'AND a', 'AND', 'OR', 'a OR', '(a', 'a)', '"a', 'a"b', 'NEAR(a b', 'NEAR(a b, x)', 'NEAR()', '{nosuch}: a', 'nosuch:a', 'subject:', ':', '^', '*', '+', 'a + ', 'a NOT', 'NOT a', '-a', 'a-b', 'e-mail', 'a:b:c', '10:30', 'http://x', 'café:x', '{', '}', 'a AND OR b', '(((a)', 'a & b', "a'b", 'a.b', 'a,b', 'a/b', '@', 'a@b.c', '\u0000'];
    try {
      for (const q of raw) {
        // Proof that the input is an FTS5 error when given to SQLite as it is...
        expect(() => db.prepare('SELECT rowid FROM fts WHERE fts MATCH ?').all(q), q).toThrow(/fts5|syntax error|no such column|unterminated string|expected integer|unknown special query/i);
        // ...and that through the query language it never reaches the person as one.
        const r = refusal(q);
        if (r) {
          expect(r.code, q).toBe('SEARCH_QUERY_INVALID');
          expect(r.message, q).not.toMatch(SQLITE_WORDS);
        }
      }
    } finally {
      db.close();
    }
  });

  it('never answers any mix of operators, syntax and text with anything but hits or SEARCH_QUERY_INVALID (1,500 random queries)', () => {
    const parts = ['contract', 'Anna', 'café', '会議', 'Москве', '🙂', '&', '-', '--', '-x', 'NOT', 'OR', 'AND', 'or', 'near', 'NEAR', '(', ')', '{', '}', '"', '“', '”', '""', '*', 'c*', '^', ':', 'a:b', 'from:', 'from:anna', 'FROM:"Anna Adler"', 'to:@example.org', 'subject:re:', 'folder:INBOX', 'folder:entwürfe', 'in:"Sent Items"', 'has:attachment', 'has:pdf', 'filename:report-2024.pdf', 'before:2024-03-01', 'after:2024/02', 'before:2024-02-30', 'older_than:1w', 'newer_than:0d', 'larger:1M', 'smaller:10k', 'larger:-1', 'size:1.5MB', 'is:deleted-on-server', 'is:unread', 'is:nothing', 'label:x', 'form:x', 'http://x.example/a', '10:30', '\u0000', '\u3000', '（', '）', '：'];
    let seed = 15;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 1500; i++) {
      const n = 1 + rand(8);
      const q = Array.from({ length: n }, () => parts[rand(parts.length)]!).join(rand(3) === 0 ? '' : ' ');
      const r = refusal(q);
      if (r) {
        expect(r.code, q).toBe('SEARCH_QUERY_INVALID');
        expect(r.message, q).not.toMatch(SQLITE_WORDS);
        expect(r.position >= 0 && r.position <= q.length, q).toBe(true);
      }
    }
  });

  it('reads the ways of writing one query as the same query', () => {
    const tree = (q: string) => JSON.stringify(parseQuery(q), (k, v) => (k === 'pos' ? undefined : v));
    expect(tree('FROM:Anna')).toBe(tree('from:Anna'));
    expect(tree('{a b}')).toBe(tree('a OR b'));
    expect(tree('Tom & Jerry')).toBe(tree('Tom Jerry'));
    expect(tree('a - b')).toBe(tree('a b'));
    expect(tree('“a b”')).toBe(tree('"a b"'));
    expect(tree('size:1M')).toBe(tree('larger:1M'));
    expect(tree('attachment:pdf')).toBe(tree('filename:pdf'));
    expect(tree('in:INBOX')).toBe(tree('folder:INBOX'));
  });
});
