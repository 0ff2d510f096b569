import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../lib/protocol/common.ts';
import { messageIdOf } from '../../relay/archive/message-id.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { helloClient, jsonPost, RelayProcess, tempDataDir, type WsClient } from './relay-harness.ts';
import { startJobAndWait, stopRelayWorld } from './relay-jobs.ts';

// The Archive page's actions on a selection, through the real relay and a real Dovecot: restore
// exactly the picked messages (by archive message id) and download them (.eml for one, a zip for
// several), checked over IMAP and byte for byte. Also archive.runs, the point-in-time switch's list.

const ALICE = { name: 'alice', password: 'alice-Sel-pw-41' };
const BOB = { name: 'bob', password: 'bob-Sel-pw-52' };

function getBytes(port: number, urlPath: string, token: string): Promise<{ status: number; type: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` }, timeout: 10_000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error('download deadline passed')));
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!dovecotAvailable())('restore and download of a selection of archived messages, through the relay', () => {
  let dc: Dovecot;
  let relay: RelayProcess;
  let dataDir: string;
  let token: string;
  let c: WsClient;
  const originals = new Map<string, Buffer>(); // Message-ID -> bytes as first appended
  const account = (id: string, user: string) => ({ id, host: '127.0.0.1', port: dc.port, security: 'none', user });
  const runJob = async (key: string, kind: string, accountId: string, params: Record<string, unknown> = {}): Promise<JobSnapshot> => {
    const { jobId } = await startJobAndWait(c, `s-${key}`, { kind, accountId, idempotencyKey: `sel-${key}-0001`, params }, { timeoutMs: 60_000 });
    return ((await c.call(`g-${key}`, 'job.get', { jobId })) as { result: { job: JobSnapshot } }).result.job;
  };
  /** The jobs of an account the relay knows, newest first. */
  const jobsOf = async (accountId: string): Promise<JobSnapshot[]> => ((await c.call(`l-${accountId}-${Date.now()}`, 'job.list', { accountId, limit: 50 })) as { result: { jobs: JobSnapshot[] } }).result.jobs;
  /**
   * The backup the relay starts by itself once a restore into an archived account completed (it
   * checks the server, so "deleted on server" follows what is there), waited for until it ends.
   * Deadline: the relay starts it as the restore settles, and a backup of 8 messages takes seconds.
   */
  const backupAfterRestore = async (restoreJobId: string): Promise<JobSnapshot> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const check = (await jobsOf('alice')).find((j) => j.kind === 'backup' && j.idempotencyKey === `after-restore-${restoreJobId}`);
      if (check?.phase === 'finished') return check;
      if (Date.now() > deadline) throw new Error(`no finished backup after restore ${restoreJobId} within 60 s (${check ? check.status : 'none started'})`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  /** The archive's message ids (relay/search MessageRef: blob hash prefix and folder id) by Message-ID and folder. */
  const archivedIds = (): { id: string; folder: string; messageId: string }[] => {
    const db = new Database(path.join(dataDir, 'archives', 'alice', 'index.sqlite'), { readonly: true });
    try {
      return db
        .prepare<[], { id: string; name: string; message_id: string }>(
          "SELECT substr(m.blob_hash, 1, 16) || '-' || m.folder_id AS id, f.name, m.message_id FROM messages m JOIN folders f ON f.id = m.folder_id ORDER BY m.id",
        )
        .all()
        .map((r) => ({ id: r.id, folder: r.name, messageId: r.message_id }));
    } finally {
      db.close();
    }
  };
  /** Every message of a folder on the server, by Message-ID, as the server hands it back. */
  const onServer = async (user: { name: string; password: string }, folder: string): Promise<Map<string, Buffer>> => {
    const imap = await dc.client(user.name, user.password);
    const out = new Map<string, Buffer>();
    try {
      const lock = await imap.getMailboxLock(folder);
      try {
        for await (const m of imap.fetch('1:*', { source: true })) if (m.source) out.set(messageIdOf(m.source)!, m.source);
      } finally {
        lock.release();
      }
    } catch {
      /* no such folder: nothing there */
    }
    await imap.logout();
    return out;
  };

  beforeAll(async () => {
    dc = await startDovecot({ users: [ALICE, BOB] });
    const imap = await dc.client(ALICE.name, ALICE.password);
    await imap.mailboxCreate('Projekte');
    for (const [i, raw] of generatedMessages(8, 21, { prefix: 'sel' }).entries()) {
      originals.set(messageIdOf(raw)!, raw);
      await imap.append(i < 6 ? 'INBOX' : 'Projekte', raw, i % 2 ? ['\\Seen'] : ['\\Flagged']);
    }
    await imap.logout();
    dataDir = tempDataDir();
    relay = await RelayProcess.start(dataDir);
    token = (JSON.parse((await jsonPost(relay.port, '/pair', { code: relay.pairingCode })).body) as { token: string }).token;
    c = await helloClient(relay.port, token);
    await c.call('u1', 'account.upsert', { account: account('alice', ALICE.name), password: ALICE.password });
    await c.call('u2', 'account.upsert', { account: account('bob', BOB.name), password: BOB.password });
    expect(await runJob('b1', 'backup', 'alice')).toMatchObject({ status: 'completed' });
  }, 90_000);

  afterAll(() => stopRelayWorld({ c, relay, dc, dataDir }));

  it('archive.runs lists the account\'s backup runs newest first; an account without an archive is NOT_FOUND', async () => {
    expect(await runJob('b2', 'backup', 'alice')).toMatchObject({ status: 'completed' });
    const runs = (await c.call('r1', 'archive.runs', { accountId: 'alice' })) as { type: string; result: { runs: { id: number; startedAt: string; newMessages: number }[] } };
    expect(runs.type).toBe('result');
    expect(runs.result.runs.map((r) => r.id)).toEqual([2, 1]);
    expect(runs.result.runs[1]!.newMessages).toBe(8);
    expect(runs.result.runs[0]!.newMessages).toBe(0);
    expect(await c.call('r2', 'archive.runs', { accountId: 'bob' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(await c.call('r3', 'archive.runs', { accountId: 'nobody' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });

  type Hit = { id: string; folder: string; subject: string; from: string; goneOnServer: boolean; account: string; flags: string[] };
  const call = async <T,>(id: string, method: string, params: Record<string, unknown>): Promise<T> => {
    const r = (await c.call(id, method, params)) as { type: string; result?: T; code?: string; message?: string };
    if (r.type !== 'result') throw new Error(`${method}: ${r.code} ${r.message}`);
    return r.result!;
  };

  it('archive.folders lists each folder with its count; archive.messages pages through one folder, newest first', async () => {
    const { folders } = await call<{ folders: { name: string; messages: number; goneOnServer: number }[] }>('f1', 'archive.folders', { accountId: 'alice' });
    expect(folders.map((f) => [f.name, f.messages, f.goneOnServer])).toEqual([['INBOX', 6, 0], ['Projekte', 2, 0]]);
    const first = await call<{ hits: Hit[]; nextCursor?: string }>('m1', 'archive.messages', { accountId: 'alice', folder: 'INBOX', limit: 4 });
    expect(first.hits).toHaveLength(4);
    expect(first.nextCursor).toBeTruthy();
    const second = await call<{ hits: Hit[]; nextCursor?: string }>('m2', 'archive.messages', { accountId: 'alice', folder: 'INBOX', limit: 4, cursor: first.nextCursor });
    expect(second.hits).toHaveLength(2);
    expect(second.nextCursor).toBeUndefined();
    const all = [...first.hits, ...second.hits];
    // Each message once, named by the relay's account id (never the archive's USER@HOST:PORT), the ids the archive resolves.
    expect(new Set(all.map((h) => h.id)).size).toBe(6);
    expect(all.every((h) => h.account === 'alice' && h.folder === 'INBOX')).toBe(true);
    expect(all.map((h) => h.id).sort()).toEqual(archivedIds().filter((m) => m.folder === 'INBOX').map((m) => m.id).sort());
    expect(await c.call('m3', 'archive.messages', { accountId: 'alice', folder: 'Nope' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });

  it('archive.search finds by sender and words, and a query that cannot be parsed is SEARCH_QUERY_INVALID with its position', async () => {
    const { hits, total } = await call<{ hits: Hit[]; total?: number }>('s1', 'archive.search', { accountId: 'alice', query: 'from:s7@example.org' });
    expect(hits.map((h) => h.folder)).toEqual(['Projekte']);
    expect(total).toBe(1);
    const bad = (await c.call('s2', 'archive.search', { accountId: 'alice', query: 'subject:"unclosed' })) as { type: string; code: string; details?: { position?: number } };
    expect(bad).toMatchObject({ type: 'error', code: 'SEARCH_QUERY_INVALID' });
    expect(typeof bad.details?.position).toBe('number');
    // The page sends its time zone; one the relay does not know is refused at the door, not guessed.
    expect(await c.call('s4', 'archive.search', { accountId: 'alice', query: 'after:2025-11-09', timeZone: 'Mars/Olympus_Mons' })).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
    expect(await call('s5', 'archive.search', { accountId: 'alice', query: 'from:s7@example.org', timeZone: 'America/Los_Angeles' })).toMatchObject({ total: 1 });
  });

  it('archive.show gives the decoded headers, the text and the attachments of a search hit; an unknown id is NOT_FOUND', async () => {
    const { hits } = await call<{ hits: Hit[] }>('s3', 'archive.search', { accountId: 'alice', query: 'has:attachment' });
    expect(hits.length).toBeGreaterThan(0);
    const shown = await call<{ headers: { name: string; value: string }[]; text: string; attachments: { filename: string; size: number }[]; id: string; account: string }>('v1', 'archive.show', { accountId: 'alice', id: hits[0]!.id });
    expect(shown.id).toBe(hits[0]!.id);
    expect(shown.account).toBe('alice');
    expect(shown.headers.find((h) => h.name.toLowerCase() === 'subject')?.value).toMatch(/^Test \d+ Grüße$/);
    expect(shown.attachments[0]!.filename).toMatch(/^a\d+\.bin$/);
    expect(shown.attachments[0]!.size).toBeGreaterThan(0);
    expect(await c.call('v2', 'archive.show', { accountId: 'alice', id: '00000000deadbeef-1' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });

  it('restores exactly the selected messages, deleted from two folders, each into its folder, byte for byte; a second run appends nothing', async () => {
    const ids = archivedIds();
    const inbox = ids.filter((m) => m.folder === 'INBOX');
    const picked = [inbox[1]!, inbox[4]!, ids.find((m) => m.folder === 'Projekte')!];
    const imap = await dc.client(ALICE.name, ALICE.password);
    for (const m of picked) {
      await imap.mailboxOpen(m.folder);
      await imap.messageDelete({ header: { 'message-id': m.messageId } });
    }
    // Two more are deleted but not picked: they must stay gone.
    await imap.mailboxOpen('INBOX');
    await imap.messageDelete({ header: { 'message-id': inbox[2]!.messageId } });
    await imap.logout();
    expect((await onServer(ALICE, 'INBOX')).size).toBe(3);

    const dry = await runJob('d1', 'restore', 'alice', { messageIds: picked.map((m) => m.id), dryRun: true });
    expect(dry).toMatchObject({ status: 'completed', outcome: { counts: { toAppend: 3, alreadyPresent: 0 } } });
    expect((await onServer(ALICE, 'INBOX')).size).toBe(3);

    const x1 = await runJob('x1', 'restore', 'alice', { messageIds: picked.map((m) => m.id) });
    expect(x1).toMatchObject({ status: 'completed', outcome: { counts: { restored: 3 } } });
    // The relay backs the account up right after: the archive now knows what the server holds (the
    // one deleted and not picked is marked; the three put back are not).
    expect(await backupAfterRestore(x1.id)).toMatchObject({ status: 'completed' });
    const marked = await call<{ hits: Hit[] }>('k1', 'archive.search', { accountId: 'alice', query: 'is:deleted-on-server' });
    expect(marked.hits.map((h) => h.id)).toEqual([inbox[2]!.id]);
    const back = await onServer(ALICE, 'INBOX');
    expect([...back.keys()].sort()).toEqual([inbox[0], inbox[1], inbox[3], inbox[4], inbox[5]].map((m) => m!.messageId).sort());
    for (const m of picked.filter((p) => p.folder === 'INBOX')) expect(back.get(m.messageId)!.equals(originals.get(m.messageId)!)).toBe(true);
    const projekte = await onServer(ALICE, 'Projekte');
    expect(projekte.get(picked[2]!.messageId)!.equals(originals.get(picked[2]!.messageId)!)).toBe(true);

    const x2 = await runJob('x2', 'restore', 'alice', { messageIds: picked.map((m) => m.id) });
    expect(x2).toMatchObject({ status: 'completed', outcome: { counts: { restored: 0, alreadyPresent: 3 } } });
    // Nothing appended (and the dry run before): the server did not change, no backup is started.
    const keys = (await jobsOf('alice')).map((j) => j.idempotencyKey);
    expect(keys).not.toContain(`after-restore-${x2.id}`);
    expect(keys).not.toContain(`after-restore-${dry.id}`);
    expect((await onServer(ALICE, 'INBOX')).size).toBe(5);
  });

  it('restores a selection into another account under a new folder, and nothing else of the archive', async () => {
    const ids = archivedIds();
    const picked = [ids[0]!, ids[7]!];
    expect(await runJob('o1', 'restore', 'bob', { sourceAccountId: 'alice', messageIds: picked.map((m) => m.id), into: 'From Alice' })).toMatchObject({ status: 'completed' });
    const inbox = await onServer(BOB, 'From Alice/INBOX');
    const projekte = await onServer(BOB, 'From Alice/Projekte');
    expect([...inbox.keys()]).toEqual([picked[0]!.messageId]);
    expect([...projekte.keys()]).toEqual([picked[1]!.messageId]);
    expect(inbox.get(picked[0]!.messageId)!.equals(originals.get(picked[0]!.messageId)!)).toBe(true);
    expect((await onServer(BOB, 'INBOX')).size).toBe(0);
    // Bob has no archive: there are no marks to check, so no backup of his account starts.
    expect((await jobsOf('bob')).filter((j) => j.kind === 'backup')).toEqual([]);
  });

  it('an id of the right content in the wrong folder, or of no content, fails NOT_FOUND and appends nothing', async () => {
    const [first] = archivedIds();
    const otherFolder = first!.id.replace(/-\d+$/, '-999');
    const job = await runJob('n0', 'restore', 'bob', { sourceAccountId: 'alice', messageIds: [otherFolder] });
    expect(job).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND' });
    expect((await onServer(BOB, 'INBOX')).size).toBe(0);
  });

  it('a selection naming an id the archive does not hold fails NOT_FOUND, naming it, and appends nothing', async () => {
    const before = (await onServer(BOB, 'INBOX')).size;
    const job = await runJob('n1', 'restore', 'bob', { sourceAccountId: 'alice', messageIds: [archivedIds()[0]!.id, '00000000deadbeef-1'] });
    expect(job).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND' });
    expect(job.outcome?.message).toContain('00000000deadbeef-1');
    expect((await onServer(BOB, 'INBOX')).size).toBe(before);
  });

  it('downloads one selected message as an .eml with its archived bytes, and several as a zip of exactly them', async () => {
    const ids = archivedIds();
    const one = await runJob('e1', 'download', 'alice', { format: 'eml', messageIds: [ids[3]!.id] });
    expect(one).toMatchObject({ status: 'completed_link', outcome: { counts: { messages: 1 } } });
    const link = (one.kind === 'download' ? one.outcome?.link : undefined)!;
    expect(link.fileName).toMatch(/\.eml$/);
    const got = await getBytes(relay.port, link.url, token);
    expect(got.status).toBe(200);
    expect(got.type).toBe('message/rfc822');
    expect(got.body.equals(originals.get(ids[3]!.messageId)!)).toBe(true);

    const picked = [ids[0]!, ids[5]!, ids[6]!];
    const many = await runJob('z1', 'download', 'alice', { format: 'eml-zip', messageIds: picked.map((m) => m.id) });
    expect(many).toMatchObject({ status: 'completed_link', outcome: { counts: { messages: 3, folders: 2 } } });
    const zipLink = (many.kind === 'download' ? many.outcome?.link : undefined)!;
    const zip = await getBytes(relay.port, zipLink.url, token);
    const file = path.join(dataDir, 'selection.zip');
    fs.writeFileSync(file, zip.body);
    const py = spawnSync('python3', ['-c', 'import sys,zipfile,hashlib; z=zipfile.ZipFile(sys.argv[1]); print("\\n".join(sorted(hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist())))', file], { encoding: 'utf8' });
    const { createHash } = await import('node:crypto');
    const want = picked.map((m) => createHash('sha256').update(originals.get(m.messageId)!).digest('hex')).sort();
    expect(py.stdout.trim().split('\n'), py.stderr).toEqual(want);
  });

  it('mail deleted on the server is found by is:deleted-on-server, marked, seen at the earlier run, and its hit id restores it', async () => {
    const imap = await dc.client(ALICE.name, ALICE.password);
    await imap.mailboxOpen('Projekte');
    const gone = archivedIds().find((m) => m.folder === 'Projekte')!;
    await imap.messageDelete({ header: { 'message-id': gone.messageId } });
    await imap.logout();
    expect(await runJob('b3', 'backup', 'alice')).toMatchObject({ status: 'completed' });
    const { hits } = await call<{ hits: Hit[] }>('d1', 'archive.search', { accountId: 'alice', query: 'is:deleted-on-server folder:Projekte' });
    expect(hits.map((h) => h.id)).toEqual([gone.id]);
    expect(hits[0]!.goneOnServer).toBe(true);
    const now = await call<{ folders: { name: string; messages: number; goneOnServer: number }[] }>('d2', 'archive.folders', { accountId: 'alice' });
    expect(now.folders.find((f) => f.name === 'Projekte')).toMatchObject({ messages: 2, goneOnServer: 1 });
    // The point-in-time switch: at the first run the folder held both, and neither was gone then.
    const runs = await call<{ runs: { id: number }[] }>('d3', 'archive.runs', { accountId: 'alice' });
    const firstRun = runs.runs.at(-1)!.id;
    const atFirst = await call<{ hits: Hit[] }>('d4', 'archive.messages', { accountId: 'alice', folder: 'Projekte', atRun: firstRun });
    expect(atFirst.hits).toHaveLength(2);
    expect(await c.call('d5', 'archive.folders', { accountId: 'alice', atRun: 999 })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    const x9 = await runJob('x9', 'restore', 'alice', { messageIds: [hits[0]!.id] });
    expect(x9).toMatchObject({ status: 'completed', outcome: { counts: { restored: 1 } } });
    expect((await onServer(ALICE, 'Projekte')).get(gone.messageId)!.equals(originals.get(gone.messageId)!)).toBe(true);
    // The mark goes by what the server holds: the relay's backup after the restore found it there
    // again, so neither the search, the preview nor the folder count says "deleted on server" now.
    expect(await backupAfterRestore(x9.id)).toMatchObject({ status: 'completed' });
    expect((await call<{ hits: Hit[] }>('d6', 'archive.search', { accountId: 'alice', query: 'is:deleted-on-server folder:Projekte' })).hits).toEqual([]);
    expect(await call('d7', 'archive.show', { accountId: 'alice', id: hits[0]!.id })).toMatchObject({ goneOnServer: false });
    const after = await call<{ folders: { name: string; goneOnServer: number }[] }>('d8', 'archive.folders', { accountId: 'alice' });
    expect(after.folders.find((f) => f.name === 'Projekte')).toMatchObject({ goneOnServer: 0 });
  });

  it('an .eml of several messages is refused before a job exists', async () => {
    const ids = archivedIds();
    const r = await c.call('bad', 'job.start', { kind: 'download', accountId: 'alice', idempotencyKey: 'sel-bad-00001', params: { format: 'eml', messageIds: [ids[0]!.id, ids[1]!.id] } });
    expect(r).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
  });
});
