/**
 * A destination folder that cannot be made: CREATE refused (and its fallback name refused too), or
 * CREATE answered OK for a folder LIST never shows. Real servers answer OK only for folders that
 * exist, so the fake destination plays that part. The folder's messages are not appended anywhere,
 * the run is Partially Complete with FOLDER_NOT_CREATED and the server's words, the other folders
 * are copied.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapAccount } from '../../relay/imap/session.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runMigrate } from '../../relay/jobs/migrate/run-migrate.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startFakeAppendServer } from '../support/fake-append-server.ts';

const pw = (user: string): string => `${user}-Secret-pw`;
const fake = (port: number): ImapAccount => ({ host: '127.0.0.1', port, security: 'none', user: 'dst', password: 'any-Secret-pw' });
const FAULTS = { refuseCreate: { names: ['Refused'], response: 'Permission denied' }, createUnlisted: ['Vanishing'] };

describe.skipIf(!dovecotAvailable())('a destination folder that cannot be created', () => {
  let dc: Dovecot;
  let archive: string;
  const account = (user: string): ImapAccount => ({ host: '127.0.0.1', port: dc.port, security: 'none', user, password: pw(user) });

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ name: 'src', password: pw('src') }] });
    const c = await dc.client('src', pw('src'));
    const msgs = generatedMessages(6, 51, { prefix: 'create-fault' });
    let i = 0;
    for (const f of ['Fine', 'Refused', 'Vanishing']) {
      await c.mailboxCreate(f);
      for (let k = 0; k < 2; k++) await c.append(f, msgs[i++]!, ['\\Seen'], new Date(Date.UTC(2005, 1, 2, 3, 4, i)));
    }
    await c.mailboxCreate('Empty');
    await c.logout();
    archive = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-create-fault-'));
    expect((await runBackup({ archiveDir: archive, account: account('src') })).status).toBe('completed');
  }, 60_000);

  afterAll(async () => {
    await dc?.stop();
    fs.rmSync(archive, { recursive: true, force: true });
  });

  const expectReported = (skipped: { folder: string; code: string; reason: string }[]): void => {
    expect(skipped.filter((s) => s.code === 'FOLDER_NOT_CREATED').map((s) => [s.folder.replace(/^.*?(Refused|Vanishing)$/, '$1'), s.reason])).toEqual([
      ['Refused', 'CREATE Refused refused: Permission denied'],
      ['Refused', 'CREATE Refused refused: Permission denied'],
      ['Vanishing', 'CREATE Vanishing answered OK but the server does not list it as a folder'],
      ['Vanishing', 'CREATE Vanishing answered OK but the server does not list it as a folder'],
    ]);
  };

  it('migrate: FOLDER_NOT_CREATED for each message of that folder, nothing appended to it, the other folders (an empty one too) created and copied', async () => {
    const server = await startFakeAppendServer({ faults: FAULTS });
    try {
      const r = await runMigrate({ source: account('src'), destination: fake(server.port), retry: { maxAttempts: 1 } });
      expect(r).toMatchObject({ status: 'partially_complete', errorCode: 'FOLDER_NOT_CREATED', migrated: 2, notMigrated: 4, foldersCreated: 2 });
      expectReported(r.skipped);
      expect(server.appended.map((a) => a.folder)).toEqual(['Fine', 'Fine']);
      expect(server.commands.filter((c) => /^\S+ CREATE /.test(c)).map((c) => c.replace(/^\S+ CREATE /, '')).sort()).toEqual(['Empty', 'Fine', 'Refused', 'Vanishing']);
    } finally {
      await server.close();
    }
  });

  it('restore: the same, from the archive', async () => {
    const server = await startFakeAppendServer({ faults: FAULTS });
    try {
      const r = await runRestore({ archiveDir: archive, target: fake(server.port), retry: { maxAttempts: 1 } });
      expect(r).toMatchObject({ status: 'partially_complete', errorCode: 'FOLDER_NOT_CREATED', restored: 2, notRestored: 4, foldersCreated: 2 });
      expectReported(r.skipped);
      expect(server.appended.map((a) => a.folder)).toEqual(['Fine', 'Fine']);
    } finally {
      await server.close();
    }
  });
});
