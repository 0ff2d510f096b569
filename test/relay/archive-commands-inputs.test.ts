import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_BROWSE_LIMITS, SEARCH_LIMITS } from '../../lib/limits.ts';
import { RequestFrame } from '../../lib/protocol/client-frames.ts';
import { closeSearchSessions, updateSearchIndex } from '../../relay/search/index.ts';
import { createArchiveCommands, loadArchiveBackend, type ArchiveCommands } from '../../relay/server/archive-commands.ts';
import { dispatch, type DispatchDeps } from '../../relay/server/dispatcher.ts';
import { mail, writeRun } from '../support/search-archive.ts';

/**
 * What the relay's archive.* requests do with every input a page (or anything holding the relay's
 * token) can send: the wire refuses what is out of shape (INVALID_INPUT at the door), and what has
 * the right shape but names nothing gets a stable code from the real search module over a real
 * archive: NOT_FOUND for what is not there, INVALID_INPUT for what cannot be an id or a cursor,
 * SEARCH_QUERY_INVALID with a position for a query. archive-commands.test.ts: the door's promises
 * with a stand-in module.
 */

let dataDir: string;
let archive: ArchiveCommands;
let firstId: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-archive-inputs-'));
  const dir = path.join(dataDir, 'archives', 'work');
  fs.mkdirSync(dir, { recursive: true });
  await writeRun(dir, [
    {
      folder: 'INBOX',
      messages: Array.from({ length: 5 }, (_, i) => ({ raw: mail({ subject: `Message ${i}`, date: `Mon, 0${i + 1} Apr 2024 10:00:00 +0000`, body: 'hello' }) })),
    },
    {
      // Headers longer than any field of the wire, and more keywords than it carries: a spammer's or
      // a broken mailer's message must not make every search that finds it fail.
      folder: 'Long',
      messages: [
        {
          raw: mail({ from: `${'Sender '.repeat(400)}<long@example.org>`, to: 'r@example.org, '.repeat(600), subject: `Longsubject ${'word '.repeat(2000)}`, date: 'Sat, 01 Jan 2000 10:00:00 +0000', body: `longbody ${'x'.repeat(9000)} longbody`, headers: `X-${'N'.repeat(400)}: ${'v'.repeat(20000)}` }),
          flags: ['\\Seen', ...Array.from({ length: 80 }, (_, i) => `$Keyword${i}${'k'.repeat(300)}`)],
        },
      ],
    },
  ]);
  await updateSearchIndex(dir);
  archive = createArchiveCommands(dataDir, loadArchiveBackend);
  const page = await call('archive.search', { accountId: 'work', query: '' });
  if ((page as { type: string }).type !== 'result') throw new Error(JSON.stringify(page));
  firstId = (page as { result: { hits: { id: string }[] } }).result.hits[0]!.id;
});
afterAll(() => {
  closeSearchSessions();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const deps = (): DispatchDeps => ({ jobs: {} as never, credentials: {} as never, testConnection: {} as never, log: () => {}, archive });
const frame = (method: string, params: unknown) => ({ type: 'request', id: 'r1', method, params });
/** The params of `method` for account "work", with `extra`. */
const paramsFor = (method: string, extra: Record<string, unknown>) => ({
  accountId: 'work',
  ...(method === 'archive.search' ? { query: '' } : method === 'archive.messages' ? { folder: 'INBOX' } : {}),
  ...extra,
});
async function call(method: string, params: unknown): Promise<unknown> {
  const parsed = RequestFrame.safeParse(frame(method, params));
  if (!parsed.success) return { type: 'error', code: 'INVALID_INPUT', at: 'wire' };
  return dispatch(parsed.data, deps());
}

describe('archive.* requests with hostile or mistaken input', () => {
  it('refuses page sizes out of range at the wire: 0, negative, fractional, huge, a string', async () => {
    for (const limit of [0, -1, 1.5, ARCHIVE_BROWSE_LIMITS.pageMax + 1, 1e9, Number.MAX_SAFE_INTEGER, '10', null])
      for (const method of ['archive.search', 'archive.messages'])
        expect(await call(method, paramsFor(method, { limit })), `${method} ${String(limit)}`).toMatchObject({ code: 'INVALID_INPUT', at: 'wire' });
    expect(await call('archive.search', { accountId: 'work', query: '', limit: ARCHIVE_BROWSE_LIMITS.pageMax })).toMatchObject({ type: 'result' });
  });

  it('pages with the cursor it gave, and answers INVALID_INPUT for a cursor it did not give', async () => {
    const first = (await call('archive.messages', { accountId: 'work', folder: 'INBOX', limit: 2 })) as { result: { hits: unknown[]; nextCursor: string } };
    expect(first.result.hits).toHaveLength(2);
    const next = (await call('archive.messages', { accountId: 'work', folder: 'INBOX', limit: 2, cursor: first.result.nextCursor })) as { result: { hits: unknown[] } };
    expect(next.result.hits).toHaveLength(2);
    for (const cursor of ['zzzz', 'a.b.c', '-1.-1', '1.', '.1', 'x'.repeat(40), '9999999999999.1', '1.-1'])
      for (const method of ['archive.messages', 'archive.search'])
        expect(await call(method, paramsFor(method, { cursor })), `${method} ${cursor}`).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
    for (const cursor of ['', 'x'.repeat(513)]) expect(await call('archive.search', { accountId: 'work', query: '', cursor })).toMatchObject({ code: 'INVALID_INPUT', at: 'wire' });
  });

  it('shows a message by its id; an id out of shape is INVALID_INPUT, a well-formed one the archive lacks NOT_FOUND', async () => {
    expect(await call('archive.show', { accountId: 'work', id: firstId })).toMatchObject({ type: 'result', result: { id: firstId } });
    const [hash, folder] = firstId.split('-');
    for (const id of ['abc', hash!, `${hash}-0`, `${hash}-`, `${hash!.toUpperCase()}-${folder}`, `${hash}-${folder}.5`, `${hash}-99999999999999999`, `${hash!.slice(1)}-${folder}`, `${hash}0-${folder}`, '42', '..'])
      expect(await call('archive.show', { accountId: 'work', id }), id).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
    for (const id of ['ffffffffffffffff-1', `${hash}-${Number(folder) + 1}`, `${hash}-999`])
      expect(await call('archive.show', { accountId: 'work', id }), id).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    for (const id of ['', '../../etc/passwd', 'a b', 'x'.repeat(129), `${hash}/${folder}`]) expect(await call('archive.show', { accountId: 'work', id }), id).toMatchObject({ code: 'INVALID_INPUT', at: 'wire' });
  });

  it('a folder, run or account that does not exist is NOT_FOUND, whatever its name holds', async () => {
    for (const folder of ['Nowhere', 'inbox', '../../etc', "INBOX' OR '1'='1", '%', '*', 'INBOX/', '\u0000'])
      expect(await call('archive.messages', { accountId: 'work', folder }), folder).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(await call('archive.messages', { accountId: 'work', folder: 'x'.repeat(1025) })).toMatchObject({ at: 'wire' });
    for (const method of ['archive.folders', 'archive.search', 'archive.messages'])
      expect(await call(method, paramsFor(method, { atRun: 999 })), method).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    for (const atRun of [0, -1, 1.5, '1']) expect(await call('archive.folders', { accountId: 'work', atRun }), String(atRun)).toMatchObject({ at: 'wire' });
    expect(await call('archive.runs', { accountId: 'nobody' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(await call('archive.runs', { accountId: '../work' })).toMatchObject({ at: 'wire' });
  });

  it('lists, searches and shows a message whose headers, keywords and snippet are longer than the wire carries, cut to fit', async () => {
    const listed = (await call('archive.messages', { accountId: 'work', folder: 'Long' })) as { type: string; result: { hits: { id: string; subject: string; from: string; to: string; flags: string[] }[] } };
    expect(listed).toMatchObject({ type: 'result' });
    const h = listed.result.hits[0]!;
    expect(h.subject.startsWith('Longsubject word')).toBe(true);
    expect(h.subject.length).toBe(ARCHIVE_BROWSE_LIMITS.hitSubjectChars);
    expect(h.from.length).toBe(ARCHIVE_BROWSE_LIMITS.hitFromChars);
    expect(h.flags).toHaveLength(ARCHIVE_BROWSE_LIMITS.flagsMax);
    for (const query of ['longsubject', 'longbody', 'from:sender', 'to:r@example.org', 'x*'])
      expect(await call('archive.search', { accountId: 'work', query }), query).toMatchObject({ type: 'result', result: { hits: [{ id: h.id }] } });
    const shown = (await call('archive.show', { accountId: 'work', id: h.id })) as { type: string; result: { headers: { name: string; value: string }[] } };
    expect(shown).toMatchObject({ type: 'result' });
    expect(shown.result.headers.find((x) => x.name.startsWith('x-nnn') || x.name.startsWith('X-NNN'))?.value.length).toBe(ARCHIVE_BROWSE_LIMITS.previewHeaderValueChars);
  });

  it('a query the parser refuses keeps its code and position on the wire, including one longer than the parser takes', async () => {
    expect(await call('archive.search', { accountId: 'work', query: '  hello)' })).toMatchObject({ type: 'error', code: 'SEARCH_QUERY_INVALID', details: { position: 7 } });
    const long = 'x'.repeat(SEARCH_LIMITS.queryMaxChars + 1);
    expect(await call('archive.search', { accountId: 'work', query: long })).toMatchObject({ type: 'error', code: 'SEARCH_QUERY_INVALID', details: { position: SEARCH_LIMITS.queryMaxChars } });
    expect(await call('archive.search', { accountId: 'work', query: 'x'.repeat(ARCHIVE_BROWSE_LIMITS.queryMaxChars + 1) })).toMatchObject({ at: 'wire' });
  });

  it('begins before:/after: days in the page\'s time zone when it sends one, and refuses one that is no zone', async () => {
    // Message 0 is 2024-04-01 10:00 UTC: still March 31 in Pago Pago (UTC-11), where message 1 (April 2 10:00 UTC) is April 1.
    const hits = async (timeZone?: string) =>
      ((await call('archive.search', { accountId: 'work', query: 'after:2024-04-01 before:2024-04-02', ...(timeZone ? { timeZone } : {}) })) as { result: { hits: { subject: string }[] } }).result.hits.map((h) => h.subject);
    expect(await hits('UTC')).toEqual(['Message 0']);
    expect(await hits('Pacific/Pago_Pago')).toEqual(['Message 1']);
    expect(await call('archive.search', { accountId: 'work', query: 'after:2024-04-01', timeZone: 'Mars/Olympus' })).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
    for (const timeZone of ['', '../etc', 'x'.repeat(65), 'Europe Berlin']) expect(await call('archive.search', { accountId: 'work', query: '', timeZone }), timeZone).toMatchObject({ at: 'wire' });
  });
});
