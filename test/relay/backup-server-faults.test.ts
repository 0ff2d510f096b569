/**
 * Issue 9 items 3, 4, 5, 8 and part of 9, against the scripted fake server: whatever the server
 * leaves out, garbles, refuses, drops or trickles, nothing it owes us is skipped silently, one bad
 * message costs that message only, every run ends, and folders keep exactly the server's names.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import type { BackupOptions } from '../../relay/jobs/backup/types.ts';
import { generatedMessages } from '../support/corpus.ts';
import { startFakeImap, type FakeFaults, type FakeImap, type FakeMessage } from '../support/fake-imap.ts';
import { archiveState, countRows, sha256 } from '../support/mailbox-state.ts';

const raws = generatedMessages(5, 9);
const inbox = (): FakeMessage[] => raws.slice(0, 3).map((raw, i) => ({ uid: i + 1, raw, flags: ['\\Seen'] }));
const worlds = (): Record<string, FakeMessage[]> => ({ INBOX: inbox(), Work: [{ uid: 1, raw: raws[3]! }] });

let fake: FakeImap | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function serve(faults: FakeFaults, folders = worlds()): Promise<{ folders: Record<string, FakeMessage[]>; dir: string }> {
  fake = await startFakeImap({ folders, faults, password: 'pw' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-srvfault-'));
  dirs.push(dir);
  return { folders, dir };
}

function backup(dir: string, extra: Partial<BackupOptions> = {}) {
  return runBackup({
    archiveDir: dir,
    account: { host: '127.0.0.1', port: fake!.port, security: 'none', user: 'u', password: 'pw' },
    timeouts: { connectMs: 2000, greetingMs: 2000, socketMs: 2000 },
    retry: { maxAttempts: 2, baseDelayMs: 20 },
    ...extra,
  });
}

/** folder -> [uid, sha256] of what the archive holds. */
const stored = (dir: string): Record<string, [number, string][]> =>
  Object.fromEntries([...archiveState(dir)].map(([f, ms]) => [f, ms.map((m) => [m.uid, m.hash] as [number, string])]));
const expected = (folders: Record<string, FakeMessage[]>, folder: string, uids: number[]): [number, string][] =>
  folders[folder]!.filter((m) => uids.includes(m.uid)).map((m) => [m.uid, sha256(m.raw)]);
const lastUid = (dir: string, folder: string): number =>
  countRows(dir, `SELECT c.last_uid FROM checkpoints c JOIN folders f ON f.id = c.folder_id WHERE f.name = '${folder}'`);

describe('nothing the server owes is skipped silently', () => {
  it('names a message a FETCH answered OK without, keeps the cursor below it, and fetches it once the server sends it', async () => {
    const { folders, dir } = await serve({ omitUids: [2] });
    const r = await backup(dir);
    expect(r.status).toBe('partially_completed');
    expect(r.skipped).toEqual([expect.objectContaining({ folder: 'INBOX', uid: 2, code: 'MESSAGE_MISSING' })]);
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 3]));
    expect(lastUid(dir, 'INBOX')).toBe(1);

    const again = await backup(dir); // still left out: named again, not forgotten
    expect(again.status).toBe('partially_completed');
    expect(again.skipped.map((s) => [s.uid, s.code])).toEqual([[2, 'MESSAGE_MISSING']]);
    expect(lastUid(dir, 'INBOX')).toBe(1);

    fake!.faults.omitUids = [];
    const healed = await backup(dir);
    expect(healed).toMatchObject({ status: 'completed', messages: 1, skipped: [] });
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 2, 3]));
    expect(lastUid(dir, 'INBOX')).toBe(3);
  });

  it('stores no message whose bytes differ in length from its RFC822.SIZE, and names it until it arrives whole', async () => {
    const { folders, dir } = await serve({ truncatedBody: { 2: 7 } });
    const r = await backup(dir);
    expect(r.skipped).toEqual([expect.objectContaining({ folder: 'INBOX', uid: 2, code: 'MESSAGE_SIZE_MISMATCH' })]);
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 3]));
    fake!.faults.truncatedBody = {};
    expect(await backup(dir)).toMatchObject({ status: 'completed', messages: 1 });
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 2, 3]));
  });

  it('keeps the right bytes under the right UID when a literal is shorter than announced (the parser swallows what follows)', async () => {
    const { folders, dir } = await serve({ shortLiteral: { 2: 5 } });
    const r = await backup(dir);
    expect(r.status).toBe('partially_completed');
    expect(r.skipped.map((s) => s.uid)).toEqual([2]);
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 3]));
    fake!.faults.shortLiteral = {};
    expect(await backup(dir)).toMatchObject({ status: 'completed', messages: 1 });
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 2, 3]));
  });

  it('keeps the right bytes under the right UID when a literal is longer than announced', async () => {
    const { folders, dir } = await serve({ longLiteral: { 2: 40 } });
    const r = await backup(dir);
    const named = r.skipped.map((s) => s.uid);
    const held = stored(dir).INBOX!;
    // Every stored message is byte for byte the server's message of that UID; none is left unnamed.
    expect(held).toEqual(expected(folders, 'INBOX', held.map(([uid]) => uid)));
    expect([...held.map(([uid]) => uid), ...named].sort()).toEqual([1, 2, 3]);
  });

  it('never stores bytes under a UID they do not belong to when a too-long literal carries a forged FETCH response', async () => {
    const { folders, dir } = await serve({ smuggle: { 1: 2 } });
    const r = await backup(dir);
    const named = r.skipped.map((s) => s.uid);
    const held = stored(dir).INBOX!;
    expect(held).toEqual(expected(folders, 'INBOX', held.map(([uid]) => uid)));
    expect([...held.map(([uid]) => uid), ...named].sort()).toEqual([1, 2, 3]);
    expect(countRows(dir, 'SELECT COUNT(*) FROM blobs WHERE length = 5')).toBe(0);
  });

  it('names a message whose announced RFC822.SIZE is impossible instead of storing it', async () => {
    const { folders, dir } = await serve({ sizeText: { 3: '-3' } });
    const r = await backup(dir);
    expect(r.status).toBe('partially_completed');
    expect(r.skipped).toEqual([expect.objectContaining({ uid: 3, code: 'MESSAGE_SIZE_MISMATCH' })]);
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 2]));
  });
});

describe('large (streamed) messages', () => {
  const big = (fill: string): Buffer => Buffer.concat([Buffer.from(`Subject: big ${fill}\r\nMessage-ID: <big-${fill}@x>\r\n\r\n`), Buffer.alloc(4.5 * 1024 * 1024, fill)]);
  const bigWorld = (): Record<string, FakeMessage[]> => ({ INBOX: [{ uid: 1, raw: raws[0]! }, { uid: 2, raw: big('a') }, { uid: 3, raw: big('b') }, { uid: 4, raw: raws[1]! }] });

  it('stores a streamed message only when its length is the announced RFC822.SIZE', async () => {
    const { folders, dir } = await serve({ sizeText: { 2: String(big('a').length + 10) } }, bigWorld());
    const r = await backup(dir);
    expect(r.skipped).toEqual([expect.objectContaining({ uid: 2, code: 'MESSAGE_SIZE_MISMATCH' })]);
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 3, 4]));
    fake!.faults.sizeText = {};
    expect(await backup(dir)).toMatchObject({ status: 'completed', messages: 1 });
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 2, 3, 4]));
  });

  it('skips a streamed message on which the server drops the connection and goes on with the next', async () => {
    const { folders, dir } = await serve({ dropOnUids: [2] }, bigWorld());
    const r = await backup(dir);
    expect(r.skipped).toEqual([expect.objectContaining({ uid: 2, code: 'MESSAGE_UNREADABLE' })]);
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 3, 4]));
  });
});

describe('one bad message costs one message', () => {
  it('skips a message the server answers NO for on a first and on an incremental run, backing up the rest', async () => {
    const { folders, dir } = await serve({ unreadableUids: [2] });
    const first = await backup(dir);
    expect(first.status).toBe('partially_completed');
    expect(first.skipped).toEqual([expect.objectContaining({ folder: 'INBOX', uid: 2, code: 'MESSAGE_UNREADABLE' })]);

    folders.INBOX!.push({ uid: 4, raw: raws[4]! }); // new mail: the next run is incremental
    const next = await backup(dir);
    expect(next.status).toBe('partially_completed');
    expect(next.skipped).toEqual([expect.objectContaining({ folder: 'INBOX', uid: 2, code: 'MESSAGE_UNREADABLE' })]);
    expect(next.messages).toBe(1);
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 3, 4]));
    expect(stored(dir).Work).toEqual(expected(folders, 'Work', [1]));
  });

  it('skips a message on whose FETCH the server drops the connection, logs in again and backs up the rest of the folder and account', async () => {
    const { folders, dir } = await serve({ dropOnUids: [2] });
    const r = await backup(dir);
    expect(r.status).toBe('partially_completed');
    expect(r.skipped).toEqual([expect.objectContaining({ folder: 'INBOX', uid: 2, code: 'MESSAGE_UNREADABLE' })]);
    expect(stored(dir)).toEqual({ INBOX: expected(folders, 'INBOX', [1, 3]), Work: expected(folders, 'Work', [1]) });

    folders.INBOX!.push({ uid: 4, raw: raws[4]! });
    const next = await backup(dir); // incremental, still dropping on UID 2
    expect(next.skipped.map((s) => [s.uid, s.code])).toEqual([[2, 'MESSAGE_UNREADABLE']]);
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', [1, 3, 4]));
    fake!.faults.dropOnUids = [];
    expect(await backup(dir)).toMatchObject({ status: 'completed', messages: 1 });
  });

  it('narrows a dropped batch to the one message: the rest of the batch goes back to one FETCH', async () => {
    const many = generatedMessages(30, 12).map((raw, i) => ({ uid: i + 1, raw }));
    const { folders, dir } = await serve({ dropOnUids: [5] }, { INBOX: many });
    const r = await backup(dir);
    expect(r.skipped.map((x) => [x.uid, x.code])).toEqual([[5, 'MESSAGE_UNREADABLE']]);
    expect(stored(dir).INBOX).toEqual(expected(folders, 'INBOX', many.map((m) => m.uid).filter((u) => u !== 5)));
    const bodyFetches = fake!.commands.filter((c) => / UID FETCH \S+ \(UID BODY\.PEEK\[\]/i.test(c)).map((c) => c.split(' ')[3]);
    expect(bodyFetches).toEqual(['1:30', '5', '6:30']);
  });

  it('does not fetch message by message when every batch succeeds', async () => {
    const { dir } = await serve({});
    expect(await backup(dir)).toMatchObject({ status: 'completed', messages: 4 });
    // Per folder: the sizes FETCH of the bytes total (issue 14: the forecast), one envelope FETCH, one body FETCH.
    const sizes = fake!.commands.filter((c) => / UID FETCH \S+ \(UID RFC822\.SIZE\)$/i.test(c));
    expect(sizes).toHaveLength(2);
    const fetches = fake!.commands.filter((c) => / UID FETCH /i.test(c) && !sizes.includes(c));
    expect(fetches).toHaveLength(4);
    expect(fake!.commands.filter((c) => /LOGIN/i.test(c))).toHaveLength(1);
    expect(fake!.commands.some((c) => / (SELECT|STORE|EXPUNGE|COPY|MOVE) /i.test(c) || /BODY\[/i.test(c))).toBe(false); // read-only (I1)
  });

  for (const [what, faults, folder] of [
    ['a negative UIDVALIDITY', { uidValidity: { Work: '-5' } }, 'Work'],
    ['a UIDVALIDITY beyond 32 bits', { uidValidity: { Work: '4294967296' } }, 'Work'],
    ['a UIDVALIDITY of zero', { uidValidity: { INBOX: '0' } }, 'INBOX'],
    ['a negative EXISTS', { exists: { INBOX: '-1' } }, 'INBOX'],
  ] as [string, FakeFaults, string][])
    it(`skips only the folder whose server sent ${what}, with FOLDER_UNREADABLE and no raw SQLite message`, async () => {
      const { folders, dir } = await serve(faults);
      const r = await backup(dir);
      expect(r).toMatchObject({ status: 'partially_completed', failed: false, errorCode: 'FOLDER_UNREADABLE' });
      expect(r.skipped).toEqual([expect.objectContaining({ folder, uid: null, code: 'FOLDER_UNREADABLE' })]);
      expect(JSON.stringify(r)).not.toMatch(/SQLITE|constraint/i);
      const other = folder === 'INBOX' ? 'Work' : 'INBOX';
      expect(stored(dir)[other]).toEqual(expected(folders, other, folders[other]!.map((m) => m.uid)));
    });
});

describe('every run ends', () => {
  it('skips a trickled message with MESSAGE_TOO_SLOW (each byte arrives before the idle timeout) and backs up the rest', async () => {
    const { folders, dir } = await serve({ trickleUids: [2], trickleMs: 100 });
    const r = await backup(dir, { deadlines: { messageBaseMs: 400, minBytesPerSecond: 1_000_000 } });
    expect(r.status).toBe('partially_completed');
    expect(r.skipped).toEqual([expect.objectContaining({ folder: 'INBOX', uid: 2, code: 'MESSAGE_TOO_SLOW' })]);
    expect(stored(dir)).toEqual({ INBOX: expected(folders, 'INBOX', [1, 3]), Work: expected(folders, 'Work', [1]) });
  });

  for (const command of ['LOGIN', 'LIST', 'EXAMINE', 'UID SEARCH'])
    it(`ends as a Connection Error when the server trickles its answer to ${command}`, async () => {
      const { dir } = await serve({ trickleCommands: [command], trickleMs: 100 });
      const r = await backup(dir, {
        timeouts: { connectMs: 300, greetingMs: 300, socketMs: 2000 },
        deadlines: { messageBaseMs: 400, minBytesPerSecond: 1_000_000 },
      });
      expect(r).toMatchObject({ status: 'connection_error', errorCode: 'CONNECTION_TIMEOUT', attempts: 2 });
    });

  it('ends a run that a trickle holds within the per-message deadlines with RUN_TIME_LIMIT, and the next run resumes', async () => {
    const { folders, dir } = await serve({ trickleUids: [1, 2, 3], trickleMs: 100 });
    const r = await backup(dir, { deadlines: { runMs: 1500 } });
    expect(r).toMatchObject({ status: 'partially_completed', errorCode: 'RUN_TIME_LIMIT' });
    fake!.faults.trickleUids = [];
    expect(await backup(dir)).toMatchObject({ status: 'completed' });
    expect(stored(dir)).toEqual({ INBOX: expected(folders, 'INBOX', [1, 2, 3]), Work: expected(folders, 'Work', [1]) });
  });

  it('ends as a Connection Error, not as every message unreadable, when the server trickles every message', async () => {
    const { dir } = await serve({ trickleUids: [1, 2, 3], trickleMs: 100 });
    const r = await backup(dir, { deadlines: { messageBaseMs: 300, minBytesPerSecond: 1_000_000 } });
    expect(r).toMatchObject({ status: 'connection_error', errorCode: 'CONNECTION_TIMEOUT' });
  });
});

describe('folder names are exactly the server’s', () => {
  it('keeps R&D-Team on a server with UTF8=ACCEPT, where the listed name is the name', async () => {
    const { folders, dir } = await serve({ utf8Accept: true }, { INBOX: inbox(), 'R&D-Team': [{ uid: 1, raw: raws[3]! }], 'Entwürfe': [{ uid: 5, raw: raws[4]! }] });
    const r = await backup(dir);
    expect(r).toMatchObject({ status: 'completed', skipped: [] });
    expect(stored(dir)).toEqual({
      INBOX: expected(folders, 'INBOX', [1, 2, 3]),
      'R&D-Team': expected(folders, 'R&D-Team', [1]),
      'Entwürfe': expected(folders, 'Entwürfe', [5]),
    });
    expect(fake!.commands.some((c) => /ENABLE .*UTF8=ACCEPT/i.test(c))).toBe(true);
  });

  it('opens a folder by the exact name listed, also when it is not canonical modified UTF-7, and shows the decoded name', async () => {
    // "&AGEAYgBj-" decodes to "abc", whose canonical form is "abc": a re-encoded name would not open.
    const { folders, dir } = await serve({}, { INBOX: inbox(), '&AGEAYgBj-': [{ uid: 1, raw: raws[3]! }], 'Entw&APw-rfe': [{ uid: 2, raw: raws[4]! }] });
    const r = await backup(dir);
    expect(r).toMatchObject({ status: 'completed', skipped: [] });
    expect(stored(dir)).toEqual({
      INBOX: expected(folders, 'INBOX', [1, 2, 3]),
      abc: expected(folders, '&AGEAYgBj-', [1]),
      'Entwürfe': expected(folders, 'Entw&APw-rfe', [2]),
    });
    expect(countRows(dir, "SELECT COUNT(*) FROM folders WHERE raw_name = '&AGEAYgBj-' AND name = 'abc'")).toBe(1);
    expect(fake!.commands.some((c) => c.includes('EXAMINE "&AGEAYgBj-"'))).toBe(true);
  });
});

describe('UIDVALIDITY', () => {
  it('reports disappeared: 0 when a folder comes back under a new UIDVALIDITY with the same messages', async () => {
    const { dir } = await serve({});
    expect(await backup(dir)).toMatchObject({ status: 'completed', messages: 4 });
    fake!.faults.uidValidity = { INBOX: '8' };
    const r = await backup(dir);
    expect(r).toMatchObject({ status: 'completed', disappeared: 0, messages: 3, bytes: 0 });
  });

  it('still counts a message deleted on the server as disappeared', async () => {
    const { folders, dir } = await serve({});
    await backup(dir);
    folders.INBOX!.splice(1, 1);
    expect(await backup(dir)).toMatchObject({ status: 'completed', disappeared: 1 });
  });
});
