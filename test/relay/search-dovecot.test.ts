import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import type { BackupOptions } from '../../relay/jobs/backup/types.ts';
import { closeSearchSessions, listFolders, listMessages, searchArchive, showMessage, updateSearchIndex } from '../../relay/search/index.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { runCli } from '../support/run-cli.ts';
import { mail } from '../support/search-archive.ts';

/**
 * Search over what real backups of a real Dovecot stored: a message deleted on the server is found
 * by is:deleted-on-server, and the point-in-time view shows each folder as it was at each run.
 */
const USERS = [{ name: 'sarah', password: 'sarah-Secret-pw' }];

describe.skipIf(!dovecotAvailable() && !process.env.CI)('search after real backups from Dovecot', () => {
  let dc: Dovecot;
  let dir: string;
  let runs: number[];
  const account = 'sarah@127.0.0.1';
  const opts = (): BackupOptions => ({
    archiveDir: dir,
    account: { host: '127.0.0.1', port: dc.port, security: 'none', user: 'sarah', password: 'sarah-Secret-pw' },
    retry: { maxAttempts: 2, baseDelayMs: 100 },
  });

  beforeAll(async () => {
    expect(dovecotAvailable(), 'Dovecot is needed (apt-get install dovecot-imapd)').toBe(true);
    dc = await startDovecot({ users: USERS });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-search-dovecot-'));
    const c = await dc.client('sarah', 'sarah-Secret-pw');
    await c.mailboxCreate('Entwürfe');
    await c.append('INBOX', mail({ subject: 'Invoice March', body: 'the invoice for march', date: 'Fri, 01 Mar 2024 09:00:00 +0000' }), ['\\Seen']);
    await c.append('INBOX', mail({ subject: 'Contract from Anna', from: 'Anna <anna@example.org>', body: 'please sign the contract', date: 'Mon, 04 Mar 2024 09:00:00 +0000' }), ['\\Seen']);
    await c.append('Entwürfe', mail({ subject: 'Draft reply', body: 'a draft about the contract', date: 'Tue, 05 Mar 2024 09:00:00 +0000' }), ['\\Draft']);
    const r1 = await runBackup(opts());
    // Between the runs: the contract is deleted on the server, a new message arrives.
    await c.mailboxOpen('INBOX');
    const uids = (await c.search({ subject: 'Contract' }, { uid: true })) || [];
    expect(uids).toHaveLength(1);
    await c.messageDelete(String(uids[0]), { uid: true });
    await c.append('INBOX', mail({ subject: 'Lunch tomorrow', body: 'lunch at noon', date: 'Wed, 06 Mar 2024 09:00:00 +0000' }), []);
    await c.logout();
    const r2 = await runBackup(opts());
    expect(r2).toMatchObject({ status: 'completed', disappeared: 1, messages: 1 });
    runs = [r1.runId!, r2.runId!];
    await updateSearchIndex(dir);
  });
  afterAll(async () => {
    closeSearchSessions();
    await dc?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  it('finds the message deleted on the server with is:deleted-on-server, marked so, and still shows it', async () => {
    const gone = searchArchive(dir, 'is:deleted-on-server', { timeZone: 'UTC' }).hits;
    expect(gone.map((h) => [h.subject, h.folder, h.goneOnServer])).toEqual([['Contract from Anna', 'INBOX', true]]);
    expect(searchArchive(dir, 'contract -is:deleted-on-server', { timeZone: 'UTC' }).hits.map((h) => h.subject)).toEqual(['Draft reply']);
    const shown = await showMessage(dir, gone[0]!.id);
    expect(shown).toMatchObject({ goneOnServer: true, folder: 'INBOX' });
    expect(shown.text).toContain('please sign the contract');
  });

  it('shows each folder as it was at each backup run (point in time)', () => {
    const at = (run: number) => listMessages(dir, account, 'INBOX', { atRun: run }).hits.map((h) => h.subject);
    expect(at(runs[0]!)).toEqual(['Contract from Anna', 'Invoice March']);
    expect(at(runs[1]!)).toEqual(['Lunch tomorrow', 'Invoice March']);
    expect(listMessages(dir, account, 'INBOX').hits.map((h) => h.subject)).toEqual(['Lunch tomorrow', 'Contract from Anna', 'Invoice March']);
    expect(searchArchive(dir, 'contract', { atRun: runs[0]!, timeZone: 'UTC' }).hits.map((h) => h.subject)).toEqual(['Draft reply', 'Contract from Anna']);
    expect(searchArchive(dir, 'contract', { atRun: runs[1]!, timeZone: 'UTC' }).hits.map((h) => h.subject)).toEqual(['Draft reply']);
    const folders = (run?: number) => listFolders(dir, account, run === undefined ? {} : { atRun: run }).map((f) => [f.name, f.messages, f.goneOnServer]);
    expect(folders(runs[0]!)).toEqual([['Entwürfe', 1, 0], ['INBOX', 2, 1]]);
    expect(folders(runs[1]!)).toEqual([['Entwürfe', 1, 0], ['INBOX', 2, 0]]);
    expect(folders()).toEqual([['Entwürfe', 1, 0], ['INBOX', 3, 1]]);
    // The relay keeps one archive per account: no account named means its only one.
    expect(listFolders(dir, undefined)).toEqual(listFolders(dir, account));
    expect(listMessages(dir, undefined, 'INBOX', { atRun: runs[0]! })).toEqual(listMessages(dir, account, 'INBOX', { atRun: runs[0]! }));
    expect(() => listMessages(dir, account, 'INBOX', { atRun: 999 })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('mailkeep search, show and reindex work on the archive as a person runs them', async () => {
    const s = await runCli(['search', '--archive', dir, 'from:anna', 'contract']);
    expect(s.code).toBe(0);
    const line = s.stdout.trim();
    expect(line).toMatch(/^2024-03-04 \d\d:00 {2}Anna <anna@example\.org> +Contract from Anna +INBOX \(deleted on server\) {2}[0-9a-f]{16}-\d+$/);
    const id = line.split(/\s+/).pop()!;
    // At the first run the contract was on the server: not marked deleted there (as on the Archive page).
    const past = await runCli(['search', '--archive', dir, '--at-run', String(runs[0]), 'from:anna', 'contract']);
    expect(past.stdout.trim()).toMatch(/Contract from Anna +INBOX {2}[0-9a-f]{16}-\d+$/);
    const shown = await runCli(['show', '--archive', dir, id]);
    expect(shown.stdout).toContain('Subject: Contract from Anna');
    expect(shown.stdout).toContain('please sign the contract');
    const rawOut = await runCli(['show', '--archive', dir, id, '--raw']);
    expect(rawOut.stdout).toContain('Subject: Contract from Anna\r\n');
    const bad = await runCli(['search', '--archive', dir, 'subject:"unclosed']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error SEARCH_QUERY_INVALID: this quote is never closed');
    expect(bad.stderr).toContain('  subject:"unclosed\n          ^');
    const json = JSON.parse((await runCli(['search', '--archive', dir, '--json', 'lunch'])).stdout);
    expect(json.hits.map((h: { subject: string }) => h.subject)).toEqual(['Lunch tomorrow']);
    const re = await runCli(['reindex', '--archive', dir, '--json']);
    expect(JSON.parse(re.stdout)).toMatchObject({ kind: 'reindex', complete: true, indexed: 4, memberships: 4 });
    const missing = await runCli(['show', '--archive', dir, '0000000000000000-1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error NOT_FOUND: /);
  });
});
