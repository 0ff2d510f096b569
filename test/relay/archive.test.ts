import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { archiveInfo, disappearedInRun, folderAtRun, openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import { ArchiveWriter, type MessageMeta } from '../../relay/archive/archive-writer.ts';
import { KnownHashes } from '../../relay/archive/known-hashes.ts';
import { HEADER_BYTES } from '../../relay/archive/pack-file.ts';
import { verifyArchive } from '../../relay/archive/verify.ts';
import { sha256 } from '../support/mailbox-state.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-archive-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const meta = (uid: number, extra: Partial<MessageMeta> = {}): MessageMeta => ({
  uid,
  uidvalidity: 1,
  flags: ['\\Seen', '$Work'],
  internalDate: new Date('2023-01-02T03:04:05Z'),
  size: 0,
  messageId: `<m${uid}@x>`,
  modseq: null,
  ...extra,
});

async function fill(dir: string, bodies: Buffer[], folders = ['INBOX']): Promise<{ runId: number; folderIds: number[] }> {
  const w = ArchiveWriter.open(dir);
  try {
    const acc = w.ensureAccount('imap.example.org', 993, 'alice');
    const runId = w.beginRun(acc);
    const folderIds = folders.map((f) => w.upsertFolder(acc, runId, { rawName: f, name: f, delimiter: '/', specialUse: null }));
    for (const fid of folderIds) {
      await w.resetCheckpoint(fid, 1);
      bodies.forEach((b, i) => w.addBuffer(fid, runId, meta(i + 1), b));
    }
    await w.finishRun(runId, 'completed', null);
    return { runId, folderIds };
  } finally {
    await w.close();
  }
}

describe('the archive', () => {
  it('stores a message held by three folders as one blob with three memberships', async () => {
    const dir = tmp();
    const body = Buffer.from('Subject: same\r\n\r\nbody\r\n');
    await fill(dir, [body], ['INBOX', 'Archive', 'Sent']);
    const db = openArchiveForReading(dir);
    expect(db.prepare('SELECT COUNT(*) FROM blobs').pluck().get()).toBe(1);
    expect(db.prepare('SELECT COUNT(*) FROM messages').pluck().get()).toBe(3);
    expect(db.prepare('SELECT hash FROM blobs').pluck().get()).toBe(sha256(body));
    db.close();
  });

  it('cuts an uncommitted pack tail on open, keeps a pack the journal never named, and keeps every committed blob intact', async () => {
    const dir = tmp();
    await fill(dir, [Buffer.from('a\r\n'), Buffer.from('b\r\n')]);
    const pack = path.join(dir, 'packs', fs.readdirSync(path.join(dir, 'packs'))[0]!);
    const committed = fs.statSync(pack).size;
    fs.appendFileSync(pack, Buffer.from('MKP1 half-written record of a killed run'));
    const orphan = path.join(dir, 'packs', 'pack-00000099.mkp');
    fs.writeFileSync(orphan, 'a pack the journal never named: never cut, never deleted');
    await ArchiveWriter.open(dir).close();
    expect(fs.statSync(pack).size).toBe(committed);
    expect(fs.readFileSync(orphan, 'utf8')).toBe('a pack the journal never named: never cut, never deleted');
    expect((await verifyArchive(dir)).ok).toBe(true);
  });

  it('makes nothing visible in the index before the group commit', async () => {
    const dir = tmp();
    const w = ArchiveWriter.open(dir);
    const acc = w.ensureAccount('h', 1, 'u');
    const run = w.beginRun(acc);
    const f = w.upsertFolder(acc, run, { rawName: 'INBOX', name: 'INBOX', delimiter: '/', specialUse: null });
    await w.resetCheckpoint(f, 1);
    w.addBuffer(f, run, meta(1), Buffer.from('x\r\n'));
    w.advanceCursor(f, 1, 1);
    const reader = openArchiveForReading(dir);
    expect(reader.prepare('SELECT COUNT(*) FROM messages').pluck().get()).toBe(0);
    expect(reader.prepare('SELECT last_uid FROM checkpoints').pluck().get()).toBe(0);
    await w.commit();
    expect(reader.prepare('SELECT COUNT(*) FROM messages').pluck().get()).toBe(1);
    expect(reader.prepare('SELECT last_uid FROM checkpoints').pluck().get()).toBe(1);
    reader.close();
    await w.close();
  });

  it('stores a streamed message once: a second copy is cut off the pack again', async () => {
    const dir = tmp();
    const w = ArchiveWriter.open(dir);
    const acc = w.ensureAccount('h', 1, 'u');
    const run = w.beginRun(acc);
    const f = w.upsertFolder(acc, run, { rawName: 'INBOX', name: 'INBOX', delimiter: '/', specialUse: null });
    await w.resetCheckpoint(f, 1);
    const body = Buffer.alloc(3 * 1024 * 1024, 'x');
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < body.length; i += 1024 * 1024) yield body.subarray(i, i + 1024 * 1024);
    }
    expect(await w.addStream(f, run, meta(1), chunks())).toBe(true);
    expect(await w.addStream(f, run, meta(2), chunks())).toBe(false);
    await w.close();
    const pack = path.join(dir, 'packs', fs.readdirSync(path.join(dir, 'packs'))[0]!);
    expect(fs.statSync(pack).size).toBe(HEADER_BYTES + body.length);
    const db = openArchiveForReading(dir);
    expect(db.prepare('SELECT COUNT(*) FROM messages WHERE blob_hash = ?').pluck().get(sha256(body))).toBe(2);
    db.close();
    expect((await verifyArchive(dir)).ok).toBe(true);
  });

  it('never forgets a stored hash in its Bloom filter', () => {
    const stored = Array.from({ length: 5000 }, (_, i) => sha256(Buffer.from(`stored ${i}`)));
    const known = new KnownHashes(() => stored.slice(0, 2500));
    for (const h of stored.slice(2500)) known.add(h);
    expect(stored.every((h) => known.mayHave(h))).toBe(true);
    const others = Array.from({ length: 5000 }, (_, i) => sha256(Buffer.from(`other ${i}`)));
    expect(others.filter((h) => known.mayHave(h)).length).toBeLessThan(50);
  });

  it('refuses a second writer with ARCHIVE_LOCKED and takes over the lock of a dead process', async () => {
    const dir = tmp();
    const w = ArchiveWriter.open(dir);
    expect(() => ArchiveWriter.open(dir)).toThrow(expect.objectContaining({ code: 'ARCHIVE_LOCKED' }));
    await w.close();
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    fs.writeFileSync(path.join(dir, 'archive.lock'), `${dead.pid}\n`);
    await ArchiveWriter.open(dir).close();
  });

  it('verify reports a flipped byte and a missing blob by folder and UID', async () => {
    const dir = tmp();
    const bodies = [Buffer.from('first message\r\n'), Buffer.from('second message\r\n')];
    await fill(dir, bodies, ['Entwürfe']);
    expect((await verifyArchive(dir)).ok).toBe(true);
    const pack = path.join(dir, 'packs', fs.readdirSync(path.join(dir, 'packs'))[0]!);
    const bytes = fs.readFileSync(pack);
    const at = bytes.indexOf('first') + 2;
    bytes[at] = bytes[at]! ^ 0x01;
    fs.writeFileSync(pack, bytes);
    let r = await verifyArchive(dir);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'hash_mismatch', hash: sha256(bodies[0]!), messages: [expect.objectContaining({ folder: 'Entwürfe', uid: 1 })] })]);
    fs.truncateSync(pack, bytes.indexOf('second') - 44);
    r = await verifyArchive(dir);
    expect(r.problems.map((p) => p.kind).sort()).toEqual(['hash_mismatch', 'missing']);
    expect(r.problems.find((p) => p.kind === 'missing')!.messages[0]).toMatchObject({ folder: 'Entwürfe', uid: 2 });
  });

  it('answers what a folder held at a run and what disappeared between two runs', async () => {
    const dir = tmp();
    const { runId: run1, folderIds } = await fill(dir, [Buffer.from('1\r\n'), Buffer.from('2\r\n'), Buffer.from('3\r\n')]);
    const w = ArchiveWriter.open(dir);
    const acc = w.ensureAccount('imap.example.org', 993, 'alice');
    const run2 = w.beginRun(acc);
    await w.markGone(folderIds[0]!, 1, [1, 3], run2);
    await w.finishRun(run2, 'completed', null);
    await w.close();
    const db = openArchiveForReading(dir);
    expect(folderAtRun(db, folderIds[0]!, run1).map((m) => m.uid)).toEqual([1, 2, 3]);
    expect(folderAtRun(db, folderIds[0]!, run2).map((m) => m.uid)).toEqual([1, 3]);
    const gone = disappearedInRun(db, acc);
    expect(gone.runId).toBe(run2);
    expect(gone.messages.map((m) => [m.folder, m.uid, m.flags, m.keywords])).toEqual([['INBOX', 2, ['\\Seen'], ['$Work']]]);
    expect(archiveInfo(db).accounts[0]!.runs.map((r) => r.disappeared)).toEqual([0, 1]);
    db.close();
  });
});
