import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestFrame } from '../../lib/protocol/client-frames.ts';
import { createArchiveCommands, loadArchiveBackend } from '../../relay/server/archive-commands.ts';
import { dispatch, type DispatchDeps } from '../../relay/server/dispatcher.ts';
import { closeSearchSessions, updateSearchIndex } from '../../relay/search/index.ts';
import { mail, writeRun } from '../support/search-archive.ts';

// The Archive page's archive.* requests against a real archive and the real search module (no
// IMAP server needed: the archive is written by the real ArchiveWriter): dates in the page's zone,
// and what "deleted on server" says at a past run. The same requests after a real backup and
// restore on Dovecot: archive-selection-relay.test.ts.

let dataDir: string;
const deps = (archive: DispatchDeps['archive']): DispatchDeps => ({ jobs: {} as never, credentials: {} as never, testConnection: {} as never, log: () => {}, archive });
let seq = 0;
const ask = async (method: string, params: Record<string, unknown>) => {
  const archive = createArchiveCommands(dataDir, loadArchiveBackend);
  return (await dispatch(RequestFrame.parse({ type: 'request', id: `r${++seq}`, method, params }), deps(archive))) as { type: string; code?: string; result?: Record<string, unknown> };
};
type Hit = { subject: string; goneOnServer: boolean };
const subjects = async (query: string, extra: Record<string, unknown> = {}) => {
  const r = await ask('archive.search', { accountId: 'work', query, ...extra });
  if (r.type !== 'result') throw new Error(`${r.code}`);
  return (r.result!.hits as Hit[]).map((h) => h.subject);
};

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-archive-page-'));
  const dir = path.join(dataDir, 'archives', 'work');
  fs.mkdirSync(dir, { recursive: true });
  // 05:30 UTC on 10 Nov 2025: 21:30 on 9 Nov in Los Angeles, 14:30 on 10 Nov in Tokyo.
  await writeRun(dir, [
    {
      folder: 'INBOX',
      messages: [
        { raw: mail({ subject: 'late evening in LA', date: 'Mon, 10 Nov 2025 05:30:00 +0000' }) },
        { raw: mail({ subject: 'deleted later', date: 'Sat, 01 Nov 2025 12:00:00 +0000' }) },
      ],
    },
  ]);
  // Run 2: the second message is gone from the server.
  await writeRun(dir, [], { gone: [{ folder: 'INBOX', uids: [2] }] });
  await updateSearchIndex(dir);
}, 60_000);

afterAll(() => {
  closeSearchSessions();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('archive.search dates in the page\'s time zone', () => {
  it('finds a message on the day the page shows it: in Los Angeles 9 Nov, in Tokyo 10 Nov', async () => {
    const la = { timeZone: 'America/Los_Angeles' };
    expect(await subjects('after:2025-11-09 before:2025-11-10', la)).toEqual(['late evening in LA']);
    expect(await subjects('after:2025-11-10 before:2025-11-11', la)).toEqual([]);
    const tokyo = { timeZone: 'Asia/Tokyo' };
    expect(await subjects('after:2025-11-10 before:2025-11-11', tokyo)).toEqual(['late evening in LA']);
    expect(await subjects('after:2025-11-09 before:2025-11-10', tokyo)).toEqual([]);
  });

  it('without a zone uses the relay\'s own (its TZ), as the CLI does', async () => {
    const was = process.env.TZ;
    process.env.TZ = 'America/Los_Angeles';
    try {
      expect(await subjects('after:2025-11-09 before:2025-11-10')).toEqual(['late evening in LA']);
    } finally {
      if (was === undefined) delete process.env.TZ;
      else process.env.TZ = was;
    }
  });

  it('a zone that is not an IANA name is refused by the frame schema the door parses with (INVALID_INPUT, over the socket in archive-selection-relay)', () => {
    const parsed = RequestFrame.safeParse({ type: 'request', id: 'z', method: 'archive.search', params: { accountId: 'work', query: 'after:2025-11-09', timeZone: 'Mars/Olympus_Mons' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['params', 'timeZone'], message: expect.stringMatching(/IANA time zone/) });
  });
});

describe('"deleted on server" at a past run', () => {
  it('now: the message gone in run 2 carries the mark, in the list, the search and the folder count', async () => {
    const list = await ask('archive.messages', { accountId: 'work', folder: 'INBOX' });
    expect((list.result!.hits as Hit[]).map((h) => [h.subject, h.goneOnServer])).toEqual([['late evening in LA', false], ['deleted later', true]]);
    const folders = await ask('archive.folders', { accountId: 'work' });
    expect(folders.result!.folders).toMatchObject([{ name: 'INBOX', messages: 2, goneOnServer: 1 }]);
  });

  it('at run 1, when both were on the server: no row, hit or folder says deleted', async () => {
    const list = await ask('archive.messages', { accountId: 'work', folder: 'INBOX', atRun: 1 });
    expect((list.result!.hits as Hit[]).map((h) => [h.subject, h.goneOnServer])).toEqual([['late evening in LA', false], ['deleted later', false]]);
    const found = await ask('archive.search', { accountId: 'work', query: 'deleted', atRun: 1, timeZone: 'UTC' });
    expect((found.result!.hits as Hit[]).map((h) => [h.subject, h.goneOnServer])).toEqual([['deleted later', false]]);
    const folders = await ask('archive.folders', { accountId: 'work', atRun: 1 });
    expect(folders.result!.folders).toMatchObject([{ name: 'INBOX', messages: 2, goneOnServer: 0 }]);
  });

  it('at run 2, the message gone then is not listed at all (the view is what the server held)', async () => {
    const list = await ask('archive.messages', { accountId: 'work', folder: 'INBOX', atRun: 2 });
    expect((list.result!.hits as Hit[]).map((h) => [h.subject, h.goneOnServer])).toEqual([['late evening in LA', false]]);
  });
});
