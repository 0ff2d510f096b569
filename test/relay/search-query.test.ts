import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSearchSessions, searchArchive, updateSearchIndex, type SearchHit } from '../../relay/search/index.ts';
import { parseQuery } from '../../relay/search/query-parser.ts';
import { startOfDay } from '../../relay/search/zone-date.ts';
import { mail, writeRun } from '../support/search-archive.ts';

/**
 * Each operator of the query language against a small archive whose every message is known, and
 * every way a query can be malformed (SEARCH_QUERY_INVALID with the position, never an SQLite
 * message). Zones are passed in: no result depends on the machine's time zone.
 */

const dirs: string[] = [];
let dir: string;
const M = {
  contract: mail({ from: 'Anna Adler <anna@example.org>', to: 'Bob Brown <bob@example.net>', subject: 'Quarterly contract review', date: 'Tue, 05 Mar 2024 10:00:00 +0000', body: 'Please sign the contract by Friday.' }),
  // 23:30 in Los Angeles on Feb 29 is 07:30 UTC on March 1.
  lunch: mail({ from: 'Ben <ben@example.net>', to: 'Carla <carla@example.com>', cc: 'Dora Diaz <dora@example.com>', subject: 'Lunch', date: 'Thu, 29 Feb 2024 23:30:00 -0800', body: 'Meeting at noon near the station.' }),
  budget: Buffer.from(
    [
      'From: Erik <erik@example.org>', 'To: Bob Brown <bob@example.net>', 'Subject: Budget', 'Date: Sun, 31 Dec 2023 23:59:59 +0000', 'Message-ID: <budget@example.org>', 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="XX"', '', '--XX', 'Content-Type: text/plain; charset=utf-8', '', 'Numbers for next year attached.', '--XX',
      'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; name="Budget-2024.xlsx"', 'Content-Disposition: attachment; filename="Budget-2024.xlsx"',
      'Content-Transfer-Encoding: base64', '', Buffer.alloc(150_000, 7).toString('base64').replace(/.{76}/g, '$&\r\n'), '--XX--', '',
    ].join('\r\n'),
  ),
  newsletter: mail({ from: 'Shop <news@shop.example>', to: 'Bob Brown <bob@example.net>', subject: 'Newsletter', date: 'Fri, 01 Mar 2024 12:00:00 +0000', contentType: 'text/html; charset=utf-8', body: '<html><head><script>var tracking = "xylophone";</script></head><body><p>Spring <b>sale</b> on umbrellas</p><a href="https://track.example/zebrafish">shop</a></body></html>' }),
  draft: mail({ from: 'Anna Adler <anna@example.org>', to: 'team@example.org', subject: 'Re: contract', date: 'Wed, 06 Mar 2024 08:00:00 +0000', body: 'Here is the contract draft.' }),
  invoice: mail({ from: 'Billing <billing@example.com>', to: 'Bob Brown <bob@example.net>', subject: 'Old invoice', date: 'Mon, 04 Feb 2019 09:00:00 +0000', body: 'Invoice 4711 is paid.' }),
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-search-query-'));
  dirs.push(dir);
  await writeRun(dir, [
    { folder: 'INBOX', messages: [{ raw: M.contract, flags: ['\\Seen'] }, { raw: M.lunch, flags: ['\\Seen'] }, { raw: M.budget, flags: ['\\Seen'] }, { raw: M.newsletter, flags: ['\\Seen'] }, { raw: M.draft, flags: ['\\Flagged'] }] },
    { folder: 'Archive', messages: [{ raw: M.contract, flags: ['\\Seen'] }, { raw: M.invoice, flags: ['\\Seen', '\\Answered'] }] },
  ]);
  // The next run: the draft was deleted from INBOX on the server.
  await writeRun(dir, [], { gone: [{ folder: 'INBOX', uids: [5] }] });
  await updateSearchIndex(dir);
});
afterAll(() => {
  closeSearchSessions();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const subjects = (q: string, zone = 'UTC'): string[] => searchArchive(dir, q, { timeZone: zone, limit: 500 }).hits.map((h) => `${h.subject} [${h.folder}]`);
const hits = (q: string): SearchHit[] => searchArchive(dir, q, { timeZone: 'UTC', limit: 500 }).hits;

describe('search operators', () => {
  it('finds a free word in any header or the body, newest first, once per folder that holds the message', () => {
    const h = hits('contract');
    expect(h.map((x) => x.subject)).toEqual(['Re: contract', 'Quarterly contract review', 'Quarterly contract review']);
    expect(new Set(h.slice(1).map((x) => x.folder))).toEqual(new Set(['INBOX', 'Archive']));
    expect(h[0]!.snippet).toContain('\u0002contract\u0003');
  });

  it('matches words by their English stem, as notmuch does ("meetings" finds "Meeting", "signed" finds "sign")', () => {
    expect(subjects('meetings')).toEqual(['Lunch [INBOX]']);
    expect(new Set(subjects('signed'))).toEqual(new Set(['Quarterly contract review [INBOX]', 'Quarterly contract review [Archive]']));
  });

  it('finds a "phrase" only with its words in that order', () => {
    expect(subjects('"contract draft"')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('"draft contract"')).toEqual([]);
  });

  it('from: matches the sender name or address', () => {
    for (const q of ['from:anna', 'from:Adler', 'from:anna@example.org', 'from:"Anna Adler"']) expect(subjects(q), q).toHaveLength(3);
    expect(subjects('from:bob')).toEqual([]);
  });

  it('to: matches To and Cc, cc: only Cc', () => {
    expect(subjects('to:dora')).toEqual(['Lunch [INBOX]']);
    expect(subjects('cc:dora')).toEqual(['Lunch [INBOX]']);
    expect(subjects('cc:carla')).toEqual([]);
    expect(subjects('to:team@example.org')).toEqual(['Re: contract [INBOX]']);
  });

  it('subject: and body: look only there', () => {
    expect(subjects('subject:lunch')).toEqual(['Lunch [INBOX]']);
    expect(subjects('subject:friday')).toEqual([]);
    expect(subjects('body:friday')).toHaveLength(2);
  });

  it('folder: (and in:) names a folder, case-insensitively', () => {
    expect(subjects('folder:Archive')).toEqual(['Quarterly contract review [Archive]', 'Old invoice [Archive]']);
    expect(subjects('folder:Archive contract')).toEqual(['Quarterly contract review [Archive]']);
    expect(subjects('in:archive invoice')).toEqual(['Old invoice [Archive]']);
    expect(subjects('folder:Nowhere')).toEqual([]);
  });

  it('has:attachment and filename: find attachments by any part of their name', () => {
    expect(subjects('has:attachment')).toEqual(['Budget [INBOX]']);
    for (const q of ['filename:budget', 'filename:xlsx', 'filename:Budget-2024.xlsx', 'filename:"budget 2024"']) expect(subjects(q), q).toEqual(['Budget [INBOX]']);
    expect(subjects('filename:pdf')).toEqual([]);
  });

  it('before: and after: start at midnight in the zone they are given', () => {
    // The lunch message is 2024-03-01 07:30 UTC, 2024-02-29 23:30 in Los Angeles.
    expect(subjects('lunch after:2024-03-01', 'UTC')).toEqual(['Lunch [INBOX]']);
    expect(subjects('lunch after:2024-03-01', 'America/Los_Angeles')).toEqual([]);
    expect(subjects('lunch before:2024-03-01', 'America/Los_Angeles')).toEqual(['Lunch [INBOX]']);
    expect(subjects('lunch before:2024-03-01', 'UTC')).toEqual([]);
    expect(new Set(subjects('after:2024-03-05 before:2024-03-06'))).toEqual(new Set(['Quarterly contract review [Archive]', 'Quarterly contract review [INBOX]']));
    expect(subjects('before:2020')).toEqual(['Old invoice [Archive]']);
    expect(subjects('after:2024/03 before:2024/03/02')).toEqual(['Newsletter [INBOX]', 'Lunch [INBOX]']);
  });

  it('a day begins at its local midnight also on the days clocks change, and at the jump where midnight does not exist', () => {
    expect(new Date(startOfDay(2024, 3, 31, 'Europe/Berlin')).toISOString()).toBe('2024-03-30T23:00:00.000Z'); // DST starts at 02:00
    expect(new Date(startOfDay(2024, 10, 27, 'Europe/Berlin')).toISOString()).toBe('2024-10-26T22:00:00.000Z'); // DST ends at 03:00
    expect(new Date(startOfDay(2024, 11, 3, 'America/Los_Angeles')).toISOString()).toBe('2024-11-03T07:00:00.000Z');
    expect(new Date(startOfDay(2024, 1, 1, 'Pacific/Kiritimati')).toISOString()).toBe('2023-12-31T10:00:00.000Z');
    expect(new Date(startOfDay(2024, 1, 1, 'Asia/Kolkata')).toISOString()).toBe('2023-12-31T18:30:00.000Z');
    // Where clocks jump over midnight (00:00 becomes 01:00), the day begins at the jump, not an hour
    // of the day before; where they go back over it, at the one midnight the clock shows.
    expect(new Date(startOfDay(2024, 9, 8, 'America/Santiago')).toISOString()).toBe('2024-09-08T04:00:00.000Z');
    expect(new Date(startOfDay(2024, 3, 10, 'America/Havana')).toISOString()).toBe('2024-03-10T05:00:00.000Z');
    expect(new Date(startOfDay(2024, 3, 31, 'Asia/Beirut')).toISOString()).toBe('2024-03-30T22:00:00.000Z');
    expect(new Date(startOfDay(2024, 4, 7, 'America/Santiago')).toISOString()).toBe('2024-04-07T04:00:00.000Z');
    expect(new Date(startOfDay(2024, 11, 3, 'America/Havana')).toISOString()).toBe('2024-11-03T04:00:00.000Z');
    expect(new Date(startOfDay(2024, 10, 27, 'Asia/Beirut')).toISOString()).toBe('2024-10-26T22:00:00.000Z');
    expect(() => searchArchive(dir, 'after:2024-01-01', { timeZone: 'Mars/Olympus' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('larger: and smaller: compare the message size', () => {
    expect(subjects('larger:100K')).toEqual(['Budget [INBOX]']);
    expect(subjects('smaller:100K')).not.toContain('Budget [INBOX]');
    expect(subjects('smaller:100K')).toHaveLength(6);
  });

  it('is:deleted-on-server finds what the server no longer holds in that folder', () => {
    expect(subjects('is:deleted-on-server')).toEqual(['Re: contract [INBOX]']);
    expect(hits('contract').find((h) => h.subject === 'Re: contract')!.goneOnServer).toBe(true);
    expect(subjects('contract -is:deleted-on-server')).toHaveLength(2);
  });

  it('is:unread, is:read, is:flagged and is:answered read the archived flags', () => {
    expect(subjects('is:unread')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('is:flagged')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('is:answered')).toEqual(['Old invoice [Archive]']);
    expect(subjects('is:read')).toHaveLength(6);
  });

  it('combines terms with AND by default, OR, negation and brackets', () => {
    expect(subjects('contract anna -draft')).toHaveLength(2);
    expect(subjects('contract AND draft')).toEqual(['Re: contract [INBOX]']);
    expect(subjects('lunch OR budget')).toEqual(['Lunch [INBOX]', 'Budget [INBOX]']);
    expect(subjects('(lunch OR budget) -has:attachment')).toEqual(['Lunch [INBOX]']);
    expect(subjects('NOT folder:INBOX')).toEqual(['Quarterly contract review [Archive]', 'Old invoice [Archive]']);
    expect(subjects('-contract -invoice -lunch')).toEqual(['Newsletter [INBOX]', 'Budget [INBOX]']);
    expect(subjects('invoice OR larger:100K')).toEqual(['Budget [INBOX]', 'Old invoice [Archive]']);
    expect(subjects('umbrella*')).toEqual(['Newsletter [INBOX]']);
  });

  it('an empty query lists everything, newest first', () => {
    const all = hits('');
    expect(all).toHaveLength(7);
    const dates = all.map((h) => Date.parse(h.date!));
    expect([...dates].sort((a, b) => b - a)).toEqual(dates);
  });

  it('pages: the pages of a search, joined, are the whole result, each hit once', () => {
    const whole = hits('').map((h) => h.id);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const p = searchArchive(dir, '', { limit: 2, ...(cursor ? { cursor } : {}) });
      paged.push(...p.hits.map((h) => h.id));
      cursor = p.nextCursor;
    } while (cursor);
    expect(paged).toEqual(whole);
    expect(searchArchive(dir, 'contract', { count: true }).total).toBe(3);
  });

  it('reads HTML-only mail as text: its words are found, its script and link targets are not', () => {
    expect(subjects('umbrellas sale')).toEqual(['Newsletter [INBOX]']);
    expect(subjects('xylophone')).toEqual([]);
    expect(subjects('zebrafish')).toEqual([]);
  });

  it('narrows to one archived account with account, and refuses one the archive does not hold', () => {
    expect(searchArchive(dir, 'contract', { account: 'alice@imap.example.org' }).hits).toHaveLength(3);
    expect(() => searchArchive(dir, 'contract', { account: 'mallory@imap.example.org' })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('queries that cannot be read', () => {
  const cases: [string, number, RegExp][] = [
    ['from:"Anna', 5, /quote is never closed/],
    ['(lunch OR budget', 0, /bracket is never closed/],
    ['lunch)', 5, /closing bracket has no opening/],
    ['lunch OR', 6, /OR" needs something/],
    ['OR lunch', 0, /OR" needs something to search for on its left/],
    ['lunch AND', 6, /AND" needs something/],
    ['form:anna', 0, /unknown operator "form:": did you mean "from:"/],
    ['meeting label:work', 8, /no "label:" operator: folders are searched with folder:/],
    ['from:', 5, /from: needs a value/],
    ['before:yesterday', 7, /date/],
    ['after:2024-02-30', 6, /date/],
    ['larger:big', 7, /size/],
    ['is:important', 3, /is: knows/],
    ['has:pdf', 4, /has: knows only/],
    ['-', 0, /nothing to search for: "-" leaves out what follows it directly/],
    ['()', 0, /empty brackets/],
    ['subject:(a b)', 8, /not brackets/],
    ['!!!', 0, /nothing to search for: "!!!" has no letter or digit/],
    ['NOT', 0, /NOT" needs something/],
  ];
  for (const [q, pos, msg] of cases)
    it(`refuses ${JSON.stringify(q)} at character ${pos + 1} with SEARCH_QUERY_INVALID`, () => {
      let err: unknown;
      try {
        searchArchive(dir, q, { timeZone: 'UTC' });
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'SEARCH_QUERY_INVALID', details: { position: pos } });
      expect((err as Error).message).toMatch(msg);
    });

  it('never lets FTS5 or SQL syntax through: odd input is searched for or refused, never an SQLite error', () => {
    const odd = ['NEAR(a b)', '{subject}: x', 'subject : x', '"a" *', 'a*b', '^a', 'a+b', "'; DROP TABLE docs; --", 'a"b', '*', 'col:x', '日本語', '🙂 contract', 'x\u0000y', 'a -b -c -d -e', '-(-(-(a)))', 'contract\u200b'];
    for (const q of odd) {
      try {
        searchArchive(dir, q, { timeZone: 'UTC' });
      } catch (e) {
        expect(e, q).toMatchObject({ code: 'SEARCH_QUERY_INVALID' });
        expect((e as Error).message, q).not.toMatch(/sqlite|fts5|syntax error|no such column/i);
      }
    }
    expect(fs.existsSync(path.join(dir, 'search.sqlite'))).toBe(true);
    expect(hits('contract')).toHaveLength(3);
  });

  it('refuses a query of more than 64 terms or 1,000 characters', () => {
    expect(() => parseQuery(Array.from({ length: 65 }, (_, i) => `w${i}`).join(' '))).toThrow(expect.objectContaining({ code: 'SEARCH_QUERY_INVALID' }));
    expect(() => parseQuery('a'.repeat(1001))).toThrow(expect.objectContaining({ code: 'SEARCH_QUERY_INVALID', details: { position: 1000 } }));
  });
});
