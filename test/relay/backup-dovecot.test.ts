import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disappearedInRun, openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import { verifyArchive } from '../../relay/archive/verify.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import type { BackupOptions } from '../../relay/jobs/backup/types.ts';
import { generatedMessages, sharedCorpusMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startImapProxy } from '../support/imap-proxy.ts';
import { archiveState, countRows, serverState } from '../support/mailbox-state.ts';
import { runCli } from '../support/run-cli.ts';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'hank', 'ivy'].map((name) => ({ name, password: `${name}-Secret-pw` }));
const pw = (user: string): string => `${user}-Secret-pw`;

describe.skipIf(!dovecotAvailable())('backup against a real Dovecot', () => {
  let dc: Dovecot;
  const tmp: string[] = [];
  const archiveDir = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-arch-'));
    tmp.push(d);
    return d;
  };
  const opts = (user: string, archive: string, port = dc.port): BackupOptions => ({
    archiveDir: archive,
    account: { host: '127.0.0.1', port, security: 'none', user, password: pw(user) },
    retry: { maxAttempts: 2, baseDelayMs: 100 },
  });

  beforeAll(async () => {
    dc = await startDovecot({ users: USERS });
  });
  afterAll(async () => {
    await dc?.stop();
    for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  const ODD = ['Entwürfe', '日本語/フォルダ', 'Sp ace', 'Quote"d', 'a/b/c', 'Back\\slash', 'Percent%Star*'];

  async function seedOdd(user: string): Promise<void> {
    const c = await dc.client(user, pw(user));
    const msgs = generatedMessages(ODD.length * 3, 7);
    let i = 0;
    for (const n of ODD) {
      await c.mailboxCreate(n);
      for (let k = 0; k < 3; k++) await c.append(n, msgs[i++]!, k === 0 ? ['\\Seen', '\\Flagged', '$Label1'] : ['\\Answered'], new Date(Date.UTC(2022, 2, 4, 5, 6, k)));
    }
    // The same message in two more folders: one blob, three memberships.
    await c.append('INBOX', msgs[0]!, ['\\Seen']);
    await c.append('Sp ace', msgs[0]!, []);
    await c.logout();
  }

  it('stores every message of a tree of odd folder names byte-identical, with flags, keywords and INTERNALDATE', async () => {
    await seedOdd('alice');
    const dir = archiveDir();
    const r = await runBackup(opts('alice', dir));
    expect(r).toMatchObject({ status: 'completed', errorCode: null, skipped: [] });
    const c = await dc.client('alice', pw('alice'));
    const server = await serverState(c);
    await c.logout();
    const archive = archiveState(dir);
    expect([...archive.keys()].sort()).toEqual([...server.keys()].filter((k) => server.get(k)!.length > 0).sort());
    for (const [folder, msgs] of server) expect(archive.get(folder) ?? []).toEqual(msgs);
    expect(r.messages).toBe(ODD.length * 3 + 2);
    expect(countRows(dir, 'SELECT COUNT(*) FROM blobs')).toBe(ODD.length * 3);
    const db = openArchiveForReading(dir);
    const raw = db.prepare('SELECT raw_name, delimiter FROM folders WHERE name = ?').get('Entwürfe');
    db.close();
    expect(raw).toEqual({ raw_name: 'Entw&APw-rfe', delimiter: '/' });
    const v = await verifyArchive(dir);
    expect(v).toMatchObject({ ok: true, blobs: ODD.length * 3, messages: ODD.length * 3 + 2 });
  });

  it('sends no command that changes the server: EXAMINE only, never SELECT, STORE, EXPUNGE, COPY, MOVE, APPEND', async () => {
    const proxy = await startImapProxy({ host: '127.0.0.1', port: dc.port });
    try {
      const dir = archiveDir();
      await runBackup(opts('alice', dir, proxy.port));
      // A second, incremental run exercises the flag-sync path too.
      const c = await dc.client('alice', pw('alice'));
      await c.mailboxOpen('Entwürfe');
      await c.messageFlagsAdd('1:*', ['$Changed']);
      await c.logout();
      expect((await runBackup(opts('alice', dir, proxy.port))).flagsUpdated).toBeGreaterThan(0);
      const verbs = new Set(proxy.verbs());
      expect(verbs.has('EXAMINE')).toBe(true);
      for (const bad of ['SELECT', 'STORE', 'UID STORE', 'EXPUNGE', 'UID EXPUNGE', 'COPY', 'UID COPY', 'MOVE', 'UID MOVE', 'APPEND', 'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE'])
        expect(verbs.has(bad), bad).toBe(false);
      const bodyFetches = proxy.lines.filter((l) => /BODY|BINARY|RFC822(?!\.SIZE)/i.test(l));
      expect(bodyFetches.length).toBeGreaterThan(0);
      for (const l of bodyFetches) expect(l).toMatch(/BODY\.PEEK\[/);
      expect(proxy.lines.join('\n')).not.toContain(pw('alice'));
    } finally {
      await proxy.close();
    }
  });

  it('fetches nothing on an unchanged second run and only adds a snapshot', async () => {
    const dir = archiveDir();
    // The account is identified by host, port and user: both runs go through the same proxy.
    const proxy = await startImapProxy({ host: '127.0.0.1', port: dc.port });
    await runBackup(opts('alice', dir, proxy.port));
    const before = countRows(dir, 'SELECT COUNT(*) FROM messages');
    proxy.clear();
    try {
      const r = await runBackup(opts('alice', dir, proxy.port));
      expect(r).toMatchObject({ status: 'completed', messages: 0, bytes: 0 });
      expect(r.foldersUnchanged).toBe(r.foldersChecked);
      expect(proxy.verbs().filter((v) => v.includes('FETCH') || v === 'EXAMINE')).toEqual([]);
    } finally {
      await proxy.close();
    }
    expect(countRows(dir, 'SELECT COUNT(*) FROM messages')).toBe(before);
    expect(countRows(dir, 'SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL')).toBe(2);
  });

  it('picks up new mail and flag changes, keeps deleted mail and lists it as disappeared, fetching nothing twice', async () => {
    const c = await dc.client('bob', pw('bob'));
    const msgs = generatedMessages(8, 11);
    await c.mailboxCreate('Projekte/2024');
    for (const m of msgs.slice(0, 5)) await c.append('INBOX', m, []);
    await c.append('Projekte/2024', msgs[5]!, ['\\Seen']);
    const dir = archiveDir();
    const proxy = await startImapProxy({ host: '127.0.0.1', port: dc.port });
    expect((await runBackup(opts('bob', dir, proxy.port))).messages).toBe(6);

    await c.append('INBOX', msgs[6]!, ['$New']);
    await c.append('Projekte/2024', msgs[7]!, []);
    await c.mailboxOpen('INBOX');
    await c.messageFlagsAdd('2', ['\\Flagged', '$Important'], { uid: true });
    await c.messageDelete('3', { uid: true });
    proxy.clear();
    const r = await runBackup(opts('bob', dir, proxy.port));
    await proxy.close();
    expect(r).toMatchObject({ status: 'completed', messages: 2, flagsUpdated: 1, disappeared: 1 });
    // Only the two new UIDs were asked for with a body.
    const bodies = proxy.lines.filter((l) => l.includes('BODY.PEEK[]'));
    expect(bodies.map((l) => l.split(' ')[3])).toEqual(['6', '2']);

    const server = await serverState(c);
    await c.logout();
    const archive = archiveState(dir);
    for (const [folder, list] of server) expect(archive.get(folder)).toEqual(list);
    const db = openArchiveForReading(dir);
    const gone = disappearedInRun(db, 1);
    expect(gone.messages.map((m) => [m.folder, m.uid])).toEqual([['INBOX', 3]]);
    expect(db.prepare('SELECT COUNT(*) FROM messages WHERE uid = 3 AND folder_id = (SELECT id FROM folders WHERE name = ?)').pluck().get('INBOX')).toBe(1);
    db.close();
  });

  it('after a UIDVALIDITY change (folder recreated with the same mail) downloads nothing already stored and deletes nothing', async () => {
    const c = await dc.client('carol', pw('carol'));
    const msgs = generatedMessages(6, 21);
    await c.mailboxCreate('Work');
    for (const m of msgs) await c.append('Work', m, ['\\Seen'], new Date('2021-05-06T07:08:09Z'));
    const dir = archiveDir();
    const proxy = await startImapProxy({ host: '127.0.0.1', port: dc.port });
    await runBackup(opts('carol', dir, proxy.port));
    const oldValidity = countRows(dir, "SELECT uidvalidity FROM checkpoints c JOIN folders f ON f.id = c.folder_id WHERE f.name = 'Work'");

    await c.mailboxDelete('Work');
    await new Promise((r) => setTimeout(r, 1100)); // Dovecot's UIDVALIDITY is a timestamp
    await c.mailboxCreate('Work');
    for (const m of msgs) await c.append('Work', m, ['\\Seen'], new Date('2021-05-06T07:08:09Z'));
    await c.logout();

    proxy.clear();
    const r = await runBackup(opts('carol', dir, proxy.port));
    await proxy.close();
    expect(r.status).toBe('completed');
    expect(r.messages).toBe(6);
    expect(r.bytes).toBe(0);
    expect(proxy.lines.filter((l) => l.includes('BODY.PEEK[]'))).toEqual([]);
    const newValidity = countRows(dir, "SELECT uidvalidity FROM checkpoints c JOIN folders f ON f.id = c.folder_id WHERE f.name = 'Work'");
    expect(newValidity).not.toBe(oldValidity);
    expect(countRows(dir, 'SELECT COUNT(*) FROM blobs')).toBe(6);
    expect(countRows(dir, 'SELECT COUNT(*) FROM messages')).toBe(12); // both generations kept
    const db = openArchiveForReading(dir);
    expect(disappearedInRun(db, 1).messages).toEqual([]); // same content still there: nothing "disappeared"
    db.close();
  });

  it('ends Partially Completed listing a folder the server cannot read, and backs up the rest', async () => {
    const c = await dc.client('dave', pw('dave'));
    await c.mailboxCreate('Locked');
    await c.append('Locked', generatedMessages(1, 31)[0]!, []);
    await c.append('INBOX', generatedMessages(1, 32)[0]!, []);
    await c.logout();
    const lockedDir = path.join(dc.maildir('dave'), '.Locked');
    fs.chmodSync(lockedDir, 0o000); // the imap process runs as vmail (or a plain user): it cannot enter
    try {
      const dir = archiveDir();
      const r = await runBackup(opts('dave', dir));
      expect(r.status).toBe('partially_completed');
      expect(r.failed).toBe(false);
      expect(r.skipped).toEqual([expect.objectContaining({ folder: 'Locked', uid: null, code: 'FOLDER_UNREADABLE' })]);
      expect(archiveState(dir).get('INBOX')).toHaveLength(1);
      const cli = await runCli(['backup', '--archive', dir, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', 'dave', '--password-env', 'MK_PW', '--json'], { MK_PW: pw('dave') });
      expect(cli.code).toBe(3);
      expect(cli.json).toMatchObject({ kind: 'backup', status: 'Partially Completed', errors: [expect.objectContaining({ folder: 'Locked', code: 'FOLDER_UNREADABLE' })] });
    } finally {
      fs.chmodSync(lockedDir, 0o700);
    }
  });

  it('round-trips the real-world corpus and the generated corpus byte for byte (hash of the server bytes)', async () => {
    const real = sharedCorpusMessages(150);
    const c = await dc.client('erin', pw('erin'));
    await c.mailboxCreate('Corpus');
    for (const m of real) await c.append('Corpus', m.raw, []);
    for (const m of generatedMessages(30, 41)) await c.append('INBOX', m, ['\\Seen']);
    const server = await serverState(c);
    await c.logout();
    const dir = archiveDir();
    const r = await runBackup(opts('erin', dir));
    expect(r.status).toBe('completed');
    expect(r.messages).toBe(real.length + 30);
    const archive = archiveState(dir);
    for (const [folder, list] of server) if (list.length) expect(archive.get(folder)).toEqual(list);
    expect((await verifyArchive(dir)).ok).toBe(true);
  });

  it('over implicit TLS with --ca and via the CLI: wrong password exits 4 Authentication Error without a retry', async () => {
    const dir = archiveDir();
    const args = ['backup', '--archive', dir, '--host', 'localhost', '--port', String(dc.tlsPort), '--security', 'tls', '--user', 'frank', '--password-env', 'MK_PW', '--ca', dc.certFile, '--json'];
    const ok = await runCli(args, { MK_PW: pw('frank') });
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ kind: 'backup', status: 'Completed', errors: [] });
    const bad = await runCli(args, { MK_PW: 'wrong-password-123' });
    expect(bad.code).toBe(4);
    expect(bad.json).toMatchObject({ status: 'Authentication Error', errorCode: 'AUTH_FAILED', attempts: 1 });
    expect(bad.lines.filter((l) => l.statusId === 'retrying')).toEqual([]);
    expect(bad.stdout + bad.stderr).not.toContain('wrong-password-123');
  });

  it('keeps many accounts in one archive, storing a message both received once', async () => {
    const shared = generatedMessages(1, 77)[0]!;
    for (const user of ['hank', 'ivy']) {
      const c = await dc.client(user, pw(user));
      await c.append('INBOX', shared, []);
      await c.append('INBOX', generatedMessages(1, user.length * 1000)[0]!, []);
      await c.logout();
    }
    const dir = archiveDir();
    expect((await runBackup(opts('hank', dir))).status).toBe('completed');
    expect((await runBackup(opts('ivy', dir))).status).toBe('completed');
    expect(countRows(dir, 'SELECT COUNT(*) FROM accounts')).toBe(2);
    expect(countRows(dir, 'SELECT COUNT(*) FROM messages')).toBe(4);
    expect(countRows(dir, 'SELECT COUNT(*) FROM blobs')).toBe(3);
    const info = await runCli(['archive-info', '--archive', dir, '--json']);
    expect((info.json!.accounts as { user: string }[]).map((a) => a.user)).toEqual(['hank', 'ivy']);
  });

  it('reports progress by folder with done/total and bytes, ending each folder at its total', async () => {
    const dir = archiveDir();
    const events: { folder: string; done: number; total: number; bytes: number; folderIndex: number; folderCount: number }[] = [];
    const r = await runBackup(opts('alice', dir), { onProgress: (p) => events.push(p) });
    expect(r.status).toBe('completed');
    const folders = new Set(events.map((e) => e.folder));
    expect(folders).toContain('Entwürfe');
    expect(folders).toContain('日本語/フォルダ');
    const last = events.filter((e) => e.folder === 'Entwürfe').at(-1)!;
    expect(last).toMatchObject({ done: 3, total: 3 });
    expect(events.at(-1)!.bytes).toBe(r.bytes);
    expect(events.every((e) => e.folderCount === events[0]!.folderCount && e.folderIndex >= 1)).toBe(true);
  });

  it('reports the run\'s total before fetching: a first run counts every folder, an incremental run only once the last folder is searched', async () => {
    const dir = archiveDir();
    const first: { runTotal?: number | null; messages: number; folderIndex: number; folderCount: number }[] = [];
    const r = await runBackup(opts('alice', dir), { onProgress: (p) => first.push(p) });
    expect(r.status).toBe('completed');
    // A first run knows its total from the first report on, and it never falls below what is done.
    expect(first[0]!.runTotal).toBe(r.messages);
    expect(first.every((e) => e.runTotal != null && e.runTotal >= e.messages)).toBe(true);
    expect(first.at(-1)).toMatchObject({ messages: r.messages, runTotal: r.messages });
    const c = await dc.client('alice', pw('alice'));
    await c.append('INBOX', generatedMessages(1, 4242)[0]!, []);
    await c.logout();
    const again: { runTotal?: number | null; messages: number; folderIndex: number; folderCount: number }[] = [];
    expect((await runBackup(opts('alice', dir), { onProgress: (p) => again.push(p) })).status).toBe('completed');
    // No total is made up while folders are not searched yet; the last folder's reports have the exact one.
    expect(again.filter((e) => e.folderIndex < e.folderCount).every((e) => e.runTotal === null)).toBe(true);
    expect(again.at(-1)).toMatchObject({ messages: 1, runTotal: 1 });
  });

  it('upgrades with STARTTLS against the given CA, and a certificate it cannot trust is a Connection Error', async () => {
    const dir = archiveDir();
    const account = { host: 'localhost', port: dc.port, security: 'starttls' as const, user: 'frank', password: pw('frank') };
    const ok = await runBackup({ archiveDir: dir, account: { ...account, ca: dc.certPem } });
    expect(ok.status).toBe('completed');
    const bad = await runBackup({ archiveDir: dir, account, retry: { maxAttempts: 1 } });
    expect(bad).toMatchObject({ status: 'connection_error', errorCode: 'TLS_CERT_UNTRUSTED' });
    const cli = await runCli(
      ['backup', '--archive', dir, '--host', 'localhost', '--port', String(dc.port), '--security', 'starttls', '--user', 'frank', '--password-env', 'MK_PW', '--max-attempts', '1'],
      { MK_PW: pw('frank') },
    );
    expect(cli.code).toBe(5);
    expect(cli.stderr).toMatch(/error TLS_CERT_UNTRUSTED: .*pass that certificate \(PEM\) with --ca FILE/);
  });

  it('on a refused port goes Retrying, then exits 5 Connection Error', async () => {
    const { freePort } = await import('../support/dovecot.ts');
    const port = await freePort();
    const dir = archiveDir();
    const r = await runCli(
      ['backup', '--archive', dir, '--host', '127.0.0.1', '--port', String(port), '--security', 'none', '--user', 'x', '--password-env', 'MK_PW', '--json', '--max-attempts', '3', '--retry-delay-ms', '50'],
      { MK_PW: 'x' },
    );
    expect(r.code).toBe(5);
    expect(r.lines.filter((l) => l.event === 'status').map((l) => l.statusId)).toEqual(['preparing', 'retrying', 'retrying', 'connection_error']);
    expect(r.json).toMatchObject({ status: 'Connection Error', errorCode: 'CONNECTION_REFUSED', attempts: 3 });
  });
});
