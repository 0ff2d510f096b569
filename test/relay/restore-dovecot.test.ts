import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { restorePrompts } from '../../relay/jobs/restore/restore-prompts.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import type { RestoreOptions, RestoreResult } from '../../relay/jobs/restore/restore-types.ts';
import { generatedMessages, sharedCorpusMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { countRows, serverState } from '../support/mailbox-state.ts';

const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank', 'ivan', 'judy', 'kate'];
const pw = (user: string): string => `${user}-Secret-pw`;
const QUOTA_USER = 'quota';

/** Folders with odd names: nested, non-ASCII, spaces, quotes, wildcards. */
const FOLDERS = ['INBOX', 'Entwürfe', '日本語/フォルダ', 'Projekte/2024/Q1', 'Sp ace', 'Quote"d', 'Percent%Star*'];

type Content = Map<string, string[]>;

/** folder -> sorted "hash flags date" lines: what a person would call "the same mailbox", UIDs aside. */
async function contentOf(dc: Dovecot, user: string): Promise<Content> {
  const c = await dc.client(user, pw(user));
  try {
    const state = await serverState(c);
    const out: Content = new Map();
    for (const [folder, msgs] of state) if (msgs.length) out.set(folder, msgs.map((m) => `${m.hash} ${m.flags.join(',')} ${m.internalDate}`).sort());
    return out;
  } finally {
    await c.logout();
  }
}

function total(c: Content): number {
  return [...c.values()].reduce((n, l) => n + l.length, 0);
}

describe.skipIf(!dovecotAvailable())('restore against a real Dovecot', () => {
  let dc: Dovecot;
  let archive: string;
  const tmp: string[] = [];
  const mkdir = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-restore-'));
    tmp.push(d);
    return d;
  };
  const account = (user: string, port = dc.port): RestoreOptions['target'] => ({ host: '127.0.0.1', port, security: 'none', user, password: pw(user) });
  const restore = (user: string, extra: Partial<RestoreOptions> = {}, statuses?: string[]): Promise<RestoreResult> =>
    runRestore(
      { archiveDir: archive, source: { user: 'alice', host: '127.0.0.1' }, target: account(user), retry: { maxAttempts: 2, baseDelayMs: 50 }, ...extra },
      { onStatus: (s) => statuses?.push(s) },
    );
  const backup = async (user: string, dir = archive): Promise<void> => {
    const r = await runBackup({ archiveDir: dir, account: account(user), retry: { maxAttempts: 1 } });
    expect(r.status).toBe('completed');
  };
  let original: Content;

  async function seed(c: ImapFlow): Promise<void> {
    const msgs = generatedMessages(FOLDERS.length * 4, 11, { prefix: 'restore' });
    let i = 0;
    for (const f of FOLDERS) {
      if (f !== 'INBOX') await c.mailboxCreate(f);
      for (let k = 0; k < 4; k++)
        await c.append(f, msgs[i++]!, k === 0 ? ['\\Seen', '\\Flagged', '$Label1', 'Projekt_X'] : k === 1 ? ['\\Answered', '\\Draft'] : k === 2 ? ['\\Seen'] : [], new Date(Date.UTC(2003, 4, 6, 7, 8, 9 + k)));
    }
    // No Message-ID: found again by size + INTERNALDATE + content hash.
    await c.append('Entwürfe', Buffer.from('From: a@example.org\r\nSubject: no id\r\n\r\nbody without a message id\r\n'), ['\\Seen'], new Date(Date.UTC(1999, 11, 31, 23, 59, 59)));
    // The same message in a second folder: one blob, two memberships, restored into both.
    await c.append('Sp ace', msgs[0]!, ['\\Seen']);
    // Real-world (often malformed) messages, when the shared corpus is here.
    const real = sharedCorpusMessages(30);
    if (real.length) {
      await c.mailboxCreate('Real');
      for (const m of real) await c.append('Real', m.raw, ['\\Seen'], new Date(Date.UTC(2010, 0, 2)));
    }
  }

  beforeAll(async () => {
    dc = await startDovecot({ users: [...NAMES.map((name) => ({ name, password: pw(name) })), { name: QUOTA_USER, password: pw(QUOTA_USER), quota: '60K' }] });
    archive = mkdir();
    const c = await dc.client('alice', pw('alice'));
    await seed(c);
    await c.logout();
    await backup('alice');
    original = await contentOf(dc, 'alice');
  });
  afterAll(async () => {
    await dc?.stop();
    for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  it('restores into an empty account so that both are identical folder by folder: bytes, flags, keywords, INTERNALDATE', async () => {
    const statuses: string[] = [];
    const r = await restore('bob', {}, statuses);
    expect(r).toMatchObject({ status: 'completed', errorCode: null, alreadyPresent: 0, notRestored: 0, skipped: [] });
    expect(r.restored).toBe(total(original));
    expect(statuses).toEqual(['running', 'completed']);
    expect(await contentOf(dc, 'bob')).toEqual(original);
  });

  it('appends nothing when the same restore runs again', async () => {
    const r = await restore('bob');
    expect(r).toMatchObject({ status: 'completed', restored: 0, alreadyPresent: total(original), foldersCreated: 0 });
    expect(await contentOf(dc, 'bob')).toEqual(original);
  });

  it('brings back exactly the messages deleted from the original account, in their folders', async () => {
    const c = await dc.client('alice', pw('alice'));
    for (const [folder, seqs] of [['日本語/フォルダ', '1:2'], ['Entwürfe', '5'], ['Projekte/2024/Q1', '4']] as const) {
      await c.mailboxOpen(folder);
      await c.messageDelete(seqs);
    }
    await c.logout();
    expect(total(await contentOf(dc, 'alice'))).toBe(total(original) - 4);
    await backup('alice'); // the archive now lists them as gone: restore still offers them
    const r = await restore('alice');
    expect(r).toMatchObject({ status: 'completed', restored: 4, alreadyPresent: total(original) - 4 });
    expect(await contentOf(dc, 'alice')).toEqual(original);
  });

  it('recreates the tree under a "Restored 2026-11-25" folder', async () => {
    const r = await restore('carol', { into: 'Restored 2026-11-25' });
    expect(r).toMatchObject({ status: 'completed', restored: total(original) });
    const got = await contentOf(dc, 'carol');
    expect(new Map([...got].map(([k, v]) => [k.replace(/^Restored 2026-11-25\//, ''), v]))).toEqual(original);
    expect([...got.keys()].every((k) => k.startsWith('Restored 2026-11-25/'))).toBe(true);
    expect((await restore('carol', { into: 'Restored 2026-11-25' })).restored).toBe(0);
  });

  it('plans exactly in a dry run: per folder to append and already present, folders to create, quota; and changes nothing', async () => {
    const dry = await restore('dave', { dryRun: true, scope: { folder: 'Entwürfe' } });
    expect(dry).toMatchObject({ status: 'completed', dryRun: true, restored: 0 });
    expect(dry.plan).toMatchObject({ toAppend: 5, alreadyPresent: 0, foldersToCreate: ['Entwürfe'], overAppendLimit: 0, corrupt: 0 });
    expect(await contentOf(dc, 'dave')).toEqual(new Map());
    const partial = await restore('dave', { scope: { folder: 'Entwürfe', since: new Date(Date.UTC(2003, 4, 6, 7, 8, 10)) } });
    expect(partial.restored).toBe(3); // INTERNALDATEs :09 to :12 and one in 1999: three are at or after :10
    const again = await restore('dave', { dryRun: true });
    expect(again.plan!.alreadyPresent).toBe(3);
    expect(again.plan!.toAppend).toBe(total(original) - 3);
    expect(again.plan!.folders.find((f) => f.destination === 'Entwürfe')).toMatchObject({ create: false, toAppend: 2, alreadyPresent: 3 });
    const real = await restore('dave');
    expect(real.restored).toBe(again.plan!.toAppend);
    expect(await contentOf(dc, 'dave')).toEqual(original);
    const q = await restore(QUOTA_USER, { dryRun: true });
    expect(q.plan!.quota).toMatchObject({ limitBytes: 60 * 1024, usedBytes: 0 });
  });

  it('restores the account as it was at a chosen run, and one-click: just what was deleted in a run (not what was moved)', async () => {
    const dir = mkdir();
    const c = await dc.client('erin', pw('erin'));
    await c.mailboxCreate('Ordner/Unter');
    const msgs = generatedMessages(8, 23, { prefix: 'erin' });
    for (const m of msgs.slice(0, 5)) await c.append('Ordner/Unter', m, ['\\Seen', '$Erin'], new Date(Date.UTC(2015, 1, 2)));
    await c.logout();
    await backup('erin', dir);
    const before = await contentOf(dc, 'erin');
    const c2 = await dc.client('erin', pw('erin'));
    await c2.mailboxOpen('Ordner/Unter');
    await c2.messageDelete('1:2');
    await c2.messageMove('1', 'INBOX'); // moved, not deleted: never offered by the prompt
    for (const m of msgs.slice(5)) await c2.append('INBOX', m);
    await c2.logout();
    await backup('erin', dir);
    const db = openArchiveForReading(dir);
    const runs = db.prepare<[], number>('SELECT id FROM runs ORDER BY id').pluck().all();
    db.close();
    const opts = { archiveDir: dir, source: { user: 'erin', host: '127.0.0.1' }, retry: { maxAttempts: 1 } };
    const atRun = await runRestore({ ...opts, target: account('frank'), scope: { atRun: runs[0]! } });
    expect(atRun).toMatchObject({ status: 'completed', restored: 5 });
    expect(await contentOf(dc, 'frank')).toEqual(before);
    const prompts = restorePrompts(dir);
    expect(prompts).toEqual([expect.objectContaining({ runId: runs[1], folder: 'Ordner/Unter', messages: 2 })]);
    expect(prompts[0]!.since! < prompts[0]!.at).toBe(true);
    const oneClick = await runRestore({ ...opts, target: account('erin'), scope: { disappearedInRun: prompts[0]!.runId, folder: prompts[0]!.folder } });
    expect(oneClick).toMatchObject({ status: 'completed', restored: 2, alreadyPresent: 0 });
    const after = await contentOf(dc, 'erin');
    expect(after.get('Ordner/Unter')).toHaveLength(4);
    const moved = after.get('INBOX')!.filter((l) => before.get('Ordner/Unter')!.includes(l));
    expect(moved).toHaveLength(1);
    expect([...after.get('Ordner/Unter')!, ...moved].sort()).toEqual(before.get('Ordner/Unter'));
  });

  it('ends Partially Complete with exact counts when the server storage is full, and a later run restores only the rest', async () => {
    const statuses: string[] = [];
    const r = await restore(QUOTA_USER, {}, statuses);
    expect(r).toMatchObject({ status: 'partially_complete', errorCode: 'QUOTA_EXCEEDED' });
    expect(r.message).toMatch(/storage is full/);
    expect(r.restored).toBeGreaterThan(0);
    expect(r.restored + r.notRestored).toBe(total(original));
    expect(total(await contentOf(dc, QUOTA_USER))).toBe(r.restored);
    expect(statuses).toEqual(['running', 'partially_complete']);
    // Raise the quota: rewrite the passwd-file and make Dovecot reload it.
    const users = path.join(dc.dir, 'users');
    fs.writeFileSync(users, fs.readFileSync(users, 'utf8').replace('storage=60K', 'storage=100M'));
    expect(spawnSync('doveadm', ['-c', dc.confFile, 'reload']).status).toBe(0);
    for (const until = Date.now() + 10_000; (await restore(QUOTA_USER, { dryRun: true })).plan?.quota?.limitBytes !== 100 * 1024 * 1024; ) {
      if (Date.now() > until) throw new Error('Dovecot did not pick up the raised quota within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const rest = await restore(QUOTA_USER);
    expect(rest).toMatchObject({ status: 'completed', restored: r.notRestored, alreadyPresent: r.restored });
    expect(await contentOf(dc, QUOTA_USER)).toEqual(original);
  });

  it('never sends a blob that fails its hash: reported as ARCHIVE_CORRUPT, the rest restored', async () => {
    const copy = mkdir();
    fs.cpSync(archive, copy, { recursive: true });
    const db = openArchiveForReading(copy);
    const victim = db
      .prepare<[], { hash: string; file: string; offset: number; folder: string }>(
        `SELECT b.hash, p.file, b.offset, f.name AS folder FROM blobs b JOIN packs p ON p.id = b.pack_id JOIN messages m ON m.blob_hash = b.hash
         JOIN folders f ON f.id = m.folder_id WHERE f.name = 'Quote"d' LIMIT 1`,
      )
      .get()!;
    db.close();
    const fd = fs.openSync(path.join(copy, 'packs', victim.file), 'r+');
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, victim.offset + 20);
    byte[0] = byte[0]! ^ 0xff;
    fs.writeSync(fd, byte, 0, 1, victim.offset + 20);
    fs.closeSync(fd);
    const dry = await runRestore({ archiveDir: copy, target: account('gina'), dryRun: true });
    expect(dry.plan).toMatchObject({ corrupt: 1, toAppend: total(original) - 1 });
    const r = await runRestore({ archiveDir: copy, target: account('gina') });
    expect(r).toMatchObject({ status: 'partially_complete', errorCode: 'ARCHIVE_CORRUPT', restored: total(original) - 1, notRestored: 1 });
    expect(r.skipped).toEqual([expect.objectContaining({ code: 'ARCHIVE_CORRUPT', hash: victim.hash, folder: 'Quote"d' })]);
    const got = await contentOf(dc, 'gina');
    expect(got.get('Quote"d')!.some((l) => l.startsWith(victim.hash))).toBe(false);
    expect(total(got)).toBe(total(original) - 1);
  });

  it('a wrong password is an Authentication Error, not retried', async () => {
    const statuses: string[] = [];
    const r = await runRestore(
      { archiveDir: archive, target: { ...account('hank'), password: 'wrong-Secret' }, retry: { maxAttempts: 3, baseDelayMs: 50 } },
      { onStatus: (s) => statuses.push(s) },
    );
    expect(r).toMatchObject({ status: 'authentication_error', errorCode: 'AUTH_FAILED', attempts: 1, restored: 0 });
    expect(statuses).toEqual(['running', 'authentication_error']);
    expect(JSON.stringify(r)).not.toContain('wrong-Secret');
  });

  it('a refused port goes Retrying, then Connection Error after the attempts', async () => {
    const statuses: string[] = [];
    const r = await runRestore(
      { archiveDir: archive, target: account('hank', 1), retry: { maxAttempts: 2, baseDelayMs: 50 } },
      { onStatus: (s) => statuses.push(s) },
    );
    expect(r).toMatchObject({ status: 'connection_error', errorCode: 'CONNECTION_REFUSED', attempts: 2 });
    expect(statuses).toEqual(['running', 'retrying', 'retrying', 'connection_error']);
  });

  it('after a UIDVALIDITY change (folder recreated with the same mail) restores each message once, not once per generation', async () => {
    const dir = mkdir();
    const msgs = generatedMessages(4, 41, { prefix: 'uidv' });
    const c = await dc.client('ivan', pw('ivan'));
    await c.mailboxCreate('Wechsel');
    for (const m of msgs) await c.append('Wechsel', m, ['\\Seen'], new Date(Date.UTC(2016, 6, 7)));
    await c.logout();
    await backup('ivan', dir);
    const c2 = await dc.client('ivan', pw('ivan'));
    await c2.mailboxDelete('Wechsel');
    await c2.mailboxCreate('Wechsel');
    for (const m of msgs) await c2.append('Wechsel', m, ['\\Seen'], new Date(Date.UTC(2016, 6, 7)));
    await c2.logout();
    await backup('ivan', dir);
    expect(countRows(dir, 'SELECT COUNT(*) FROM messages')).toBe(8); // two generations of four
    const r = await runRestore({ archiveDir: dir, target: account('judy') });
    expect(r).toMatchObject({ status: 'completed', restored: 4 });
    expect(await contentOf(dc, 'judy')).toEqual(await contentOf(dc, 'ivan'));
  });

  it('restores an explicit set: archived memberships by folder, UIDVALIDITY and UID, or blobs by hash', async () => {
    const db = openArchiveForReading(archive);
    const rows = db
      .prepare<[], { name: string; uidvalidity: number; uid: number; blob_hash: string }>(
        `SELECT f.name, m.uidvalidity, m.uid, m.blob_hash FROM messages m JOIN folders f ON f.id = m.folder_id
         WHERE f.name IN ('日本語/フォルダ', 'Projekte/2024/Q1') AND m.gone_run IS NULL ORDER BY f.name, m.uid LIMIT 3`,
      )
      .all();
    db.close();
    const bySet = await restore('kate', { scope: { messages: rows.slice(0, 2).map((r) => ({ folder: r.name, uidValidity: r.uidvalidity, uid: r.uid })) } });
    expect(bySet).toMatchObject({ status: 'completed', restored: 2 });
    const byHash = await restore('kate', { scope: { hashes: [rows[2]!.blob_hash, rows[0]!.blob_hash] } });
    expect(byHash).toMatchObject({ status: 'completed', restored: 1, alreadyPresent: 1 });
    const got = await contentOf(dc, 'kate');
    expect(total(got)).toBe(3);
    for (const r of rows) expect(got.get(r.name)!.some((l) => l.startsWith(r.blob_hash))).toBe(true);
  });
});
