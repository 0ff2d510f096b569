import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVE_BROWSE_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { ArchiveResultByMethod } from '../../lib/protocol/archive-browse.ts';
import { RequestFrame } from '../../lib/protocol/client-frames.ts';
import { createArchiveCommands, indexCatchUp, previewOf, type ArchiveBackend } from '../../relay/server/archive-commands.ts';
import { dispatch, type DispatchDeps } from '../../relay/server/dispatcher.ts';

// The archive.* command layer of the relay with a stand-in search module: what the door promises
// whatever the module does (a deadline, answers that fit the wire, errors with their position).
// The real module against a real Dovecot backup: archive-selection-relay.test.ts.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function dataDirWithArchive(accountId = 'work'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-archive-cmd-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'archives', accountId), { recursive: true });
  fs.writeFileSync(path.join(dir, 'archives', accountId, 'index.sqlite'), '');
  return dir;
}

const hit = { id: '3f2a9c0d1e2b4a5c-3', account: 'work@mail.example:993', folder: 'INBOX', date: null, internalDate: null, from: 'a', to: 'b', subject: 's', size: 1, flags: [], goneOnServer: false, hasAttachment: false };
const never = () => new Promise<never>(() => {});
function backend(over: Partial<ArchiveBackend> = {}): ArchiveBackend {
  return {
    listRuns: () => [],
    listFolders: () => [],
    listMessages: () => ({ hits: [] }),
    searchArchive: () => ({ hits: [hit] }),
    showMessage: () => never(),
    ...over,
  };
}
const deps = (archive: DispatchDeps['archive']): DispatchDeps => ({ jobs: {} as never, credentials: {} as never, testConnection: {} as never, log: () => {}, archive });
const frame = (method: string, params: unknown) => RequestFrame.parse({ type: 'request', id: 'r1', method, params });

describe('the relay\'s archive commands', () => {
  it('answers a search with the relay\'s account id, never the archive\'s USER@HOST:PORT, and only the wire\'s fields', async () => {
    const archive = createArchiveCommands(dataDirWithArchive(), async () => backend());
    const out = await dispatch(frame('archive.search', { accountId: 'work', query: 'x' }), deps(archive));
    expect(out).toMatchObject({ type: 'result', result: { hits: [{ id: hit.id, account: 'work' }] } });
    expect(JSON.stringify(out)).not.toContain('mail.example');
    expect(JSON.stringify(out)).not.toContain('internalDate');
  });

  it('an account with no archive yet is NOT_FOUND before the search module is even loaded', async () => {
    let loaded = false;
    const archive = createArchiveCommands(dataDirWithArchive(), async () => ((loaded = true), backend()));
    expect(await dispatch(frame('archive.folders', { accountId: 'other' }), deps(archive))).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(loaded).toBe(false);
  });

  it('a request the module never answers ends with CONNECTION_TIMEOUT at the deadline', async () => {
    const archive = createArchiveCommands(dataDirWithArchive(), async () => backend(), 50);
    expect(await dispatch(frame('archive.show', { accountId: 'work', id: hit.id }), deps(archive))).toMatchObject({ type: 'error', code: 'CONNECTION_TIMEOUT' });
  });

  it('a query error keeps its code and position on the wire, for the search box to point at', async () => {
    const archive = createArchiveCommands(dataDirWithArchive(), async () =>
      backend({ searchArchive: () => { throw mailkeepError('SEARCH_QUERY_INVALID', 'a " is never closed', { position: 8 }); } }),
    );
    expect(await dispatch(frame('archive.search', { accountId: 'work', query: 'subject:"x' }), deps(archive))).toMatchObject({
      type: 'error', code: 'SEARCH_QUERY_INVALID', details: { position: 8 },
    });
  });

  it('an answer that does not fit the protocol is an internal error, never a malformed frame', async () => {
    const archive = createArchiveCommands(dataDirWithArchive(), async () => backend({ listFolders: () => [{ name: 'INBOX', delimiter: '/', specialUse: null, messages: -1, goneOnServer: 0 }] }));
    expect(await dispatch(frame('archive.folders', { accountId: 'work' }), deps(archive))).toMatchObject({ type: 'error', code: 'UNKNOWN', message: 'internal error' });
  });

  it('a relay without the archive commands refuses them with INVALID_INPUT', async () => {
    expect(await dispatch(frame('archive.runs', { accountId: 'work' }), deps(undefined))).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
  });

  it('a preview longer than the wire carries is cut and says so; a short one is whole', () => {
    const max = ARCHIVE_BROWSE_LIMITS.previewTextMaxChars;
    const base = { id: hit.id, account: 'work', folder: 'INBOX', headers: [], attachments: [], size: 1, flags: [], date: null, goneOnServer: false };
    const long = previewOf({ ...base, text: 'x'.repeat(max + 5), html: '<p>' });
    expect(long.text).toHaveLength(max);
    expect(long.truncated).toBe(true);
    expect(previewOf({ ...base, text: 'hi' }).truncated).toBe(false);
  });

  it('cuts a preview\'s header names and values, headers and parse error to what the wire carries, so the answer always fits', () => {
    const L = ARCHIVE_BROWSE_LIMITS;
    const base = { id: hit.id, account: 'work', folder: 'INBOX', text: '', attachments: [], size: 1, flags: [], date: null, goneOnServer: false };
    const headers = Array.from({ length: L.previewHeadersMax + 3 }, () => ({ name: `X-${'n'.repeat(L.previewHeaderNameChars)}`, value: 'v'.repeat(L.previewHeaderValueChars + 10) }));
    const cut = previewOf({ ...base, headers, parseError: 'e'.repeat(L.previewParseErrorChars * 2) });
    expect(cut.headers).toHaveLength(L.previewHeadersMax);
    expect(cut.headers[0]!.name).toHaveLength(L.previewHeaderNameChars);
    expect(cut.headers[0]!.value).toHaveLength(L.previewHeaderValueChars);
    expect(ArchiveResultByMethod['archive.show'].safeParse(cut).success).toBe(true);
    // previewOf leaves the parse error to its caller, which cuts it the same way.
    expect(ArchiveResultByMethod['archive.show'].safeParse({ ...cut, parseError: 'e'.repeat(L.previewParseErrorChars + 1) }).success).toBe(false);
  });

  it('asks the background indexer to catch up once per change of the archive, not on every keystroke', async () => {
    const dir = path.join(dataDirWithArchive(), 'archives', 'work');
    const scheduled: string[] = [];
    const indexer = { schedule: (d: string) => void scheduled.push(d), idle: async () => {} };
    await indexCatchUp(dir, indexer);
    await indexCatchUp(dir, indexer);
    expect(scheduled).toEqual([dir]);
    // A backup commits: the index file (or its WAL) changes, and the next request asks again.
    fs.writeFileSync(path.join(dir, 'index.sqlite-wal'), 'x');
    await indexCatchUp(dir, indexer);
    expect(scheduled).toEqual([dir, dir]);
  });
});
