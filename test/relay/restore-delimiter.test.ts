import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { serverState } from '../support/mailbox-state.ts';

const pw = (user: string): string => `${user}-Secret-pw`;
const FOLDERS = ['Entwürfe', 'Projekte/2024/Q1', '日本語/フォルダ'];

/** Sorted "folder|hash flags date" lines with the folder path mapped by `rename`. */
async function lines(dc: Dovecot, user: string, rename: (f: string) => string = (f) => f): Promise<string[]> {
  const c = await dc.client(user, pw(user));
  try {
    return [...(await serverState(c))].flatMap(([f, msgs]) => msgs.map((m) => `${rename(f)}|${m.hash} ${m.flags.join(',')} ${m.internalDate}`)).sort();
  } finally {
    await c.logout();
  }
}

describe.skipIf(!dovecotAvailable())('restore onto a server with another delimiter and a namespace prefix', () => {
  let dc: Dovecot;
  let archive: string;
  let original: string[];

  beforeAll(async () => {
    dc = await startDovecot({ users: ['alice', 'bob'].map((name) => ({ name, password: pw(name) })) });
    archive = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-restore-delim-'));
    const c = await dc.client('alice', pw('alice'));
    const msgs = generatedMessages(FOLDERS.length * 2 + 2, 31, { prefix: 'delim' });
    let i = 0;
    for (const f of FOLDERS) {
      await c.mailboxCreate(f);
      for (let k = 0; k < 2; k++) await c.append(f, msgs[i++]!, ['\\Seen', '$Delim'], new Date(Date.UTC(2011, 3, 5, 6, 7, k)));
    }
    for (let k = 0; k < 2; k++) await c.append('INBOX', msgs[i++]!, [], new Date(Date.UTC(2012, 0, 1)));
    await c.logout();
    const r = await runBackup({ archiveDir: archive, account: { host: '127.0.0.1', port: dc.port, security: 'none', user: 'alice', password: pw('alice') } });
    expect(r.status).toBe('completed');
    original = await lines(dc, 'alice');
    // The same server now speaks like Courier: "." as delimiter and everything under "INBOX.".
    const conf = fs.readFileSync(dc.confFile, 'utf8').replace('  separator = /\n', '  separator = .\n  prefix = INBOX.\n');
    fs.writeFileSync(dc.confFile, conf);
    expect(spawnSync('doveadm', ['-c', dc.confFile, 'reload']).status).toBe(0);
    for (const until = Date.now() + 10_000; ; ) {
      const probe = await dc.client('bob', pw('bob'));
      const ns = probe.namespace;
      await probe.logout();
      if (ns?.delimiter === '.') break;
      if (Date.now() > until) throw new Error('Dovecot did not take the new namespace within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await dc?.stop();
    fs.rmSync(archive, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  it('maps "/" paths to "." under the INBOX. prefix, and a second run finds everything present', async () => {
    const target = { host: '127.0.0.1', port: dc.port, security: 'none' as const, user: 'bob', password: pw('bob') };
    const r = await runRestore({ archiveDir: archive, target });
    expect(r).toMatchObject({ status: 'completed', restored: original.length, alreadyPresent: 0 });
    expect(r.plan!.foldersToCreate.sort()).toEqual(['INBOX.Entwürfe', 'INBOX.Projekte.2024.Q1', 'INBOX.日本語.フォルダ']);
    const toSlash = (f: string): string => (f === 'INBOX' ? f : f.replace(/^INBOX\./, '').replaceAll('.', '/'));
    expect(await lines(dc, 'bob', toSlash)).toEqual(original);
    const again = await runRestore({ archiveDir: archive, target });
    expect(again).toMatchObject({ status: 'completed', restored: 0, alreadyPresent: original.length, foldersCreated: 0 });
  });
});
