import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_BROWSE_LIMITS } from '../../lib/limits.ts';
import { RequestFrame } from '../../lib/protocol/client-frames.ts';
import { createArchiveCommands, loadArchiveBackend } from '../../relay/server/archive-commands.ts';
import { dispatch, type DispatchDeps } from '../../relay/server/dispatcher.ts';
import { closeSearchSessions, searchArchive, updateSearchIndex } from '../../relay/search/index.ts';
import { mail, writeRun } from '../support/search-archive.ts';

// A frequent word's matches are counted up to ARCHIVE_BROWSE_LIMITS.countMax for the Archive page
// ("1,000+ found"): counting them all costs a full scan at 100,000 messages (docs/search.md).

const CAP = ARCHIVE_BROWSE_LIMITS.countMax;
let dataDir: string;
let dir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-count-cap-'));
  dir = path.join(dataDir, 'archives', 'work');
  fs.mkdirSync(dir, { recursive: true });
  const messages = Array.from({ length: CAP + 1 }, (_, i) => ({ raw: mail({ subject: `weekly meeting ${i}`, date: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toUTCString() }) }));
  messages.push({ raw: mail({ subject: 'contract', date: 'Mon, 01 Jan 2024 00:00:00 +0000' }) });
  await writeRun(dir, [{ folder: 'INBOX', messages }]);
  await updateSearchIndex(dir);
}, 120_000);

afterAll(() => {
  closeSearchSessions();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('counting a search\'s matches', () => {
  it('counts up to a cap and says "at least" past it; under the cap, and when asked for all, the exact number', () => {
    expect(searchArchive(dir, 'meeting', { timeZone: 'UTC', limit: 10, count: CAP })).toMatchObject({ total: CAP, totalAtLeast: true });
    const all = searchArchive(dir, 'meeting', { timeZone: 'UTC', limit: 10, count: true });
    expect(all.total).toBe(CAP + 1);
    expect(all.totalAtLeast).toBeUndefined();
    const few = searchArchive(dir, 'contract', { timeZone: 'UTC', limit: 10, count: CAP });
    expect(few.total).toBe(1);
    expect(few.totalAtLeast).toBeUndefined();
    expect(searchArchive(dir, 'meeting', { timeZone: 'UTC', limit: 10, count: CAP + 1 })).toMatchObject({ total: CAP + 1 });
    expect(searchArchive(dir, 'meeting', { timeZone: 'UTC', limit: 10, count: CAP + 1 }).totalAtLeast).toBeUndefined();
  });

  it('archive.search answers the Archive page\'s first page with the capped count, and a later page without one', async () => {
    const deps: DispatchDeps = { jobs: {} as never, credentials: {} as never, testConnection: {} as never, log: () => {}, archive: createArchiveCommands(dataDir, loadArchiveBackend) };
    const ask = async (params: Record<string, unknown>) =>
      (await dispatch(RequestFrame.parse({ type: 'request', id: 'r1', method: 'archive.search', params: { accountId: 'work', timeZone: 'UTC', ...params } }), deps)) as { type: string; result: { total?: number; totalAtLeast?: true; nextCursor?: string } };
    const first = await ask({ query: 'meeting', limit: 50 });
    expect(first.type).toBe('result');
    expect(first.result).toMatchObject({ total: CAP, totalAtLeast: true });
    const second = await ask({ query: 'meeting', limit: 50, cursor: first.result.nextCursor });
    expect(second.result.total).toBeUndefined();
    expect((await ask({ query: 'contract', limit: 50 })).result).toMatchObject({ total: 1 });
  });
});
