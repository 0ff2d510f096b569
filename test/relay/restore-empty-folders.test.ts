/**
 * Empty folders come back (issue 10 item 5): restore of the whole account or of one named folder
 * recreates folders that held no message, as migrate does; a scope that picks messages (dates)
 * creates only the folders of what it picks. A dry run lists them and creates nothing.
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

const pw = (user: string): string => `${user}-Secret-pw`;
const USERS = ['src', 'whole', 'named', 'dated', 'dry', 'mig'];

describe.skipIf(!dovecotAvailable())('empty folders in restore and migrate', () => {
  let dc: Dovecot;
  let archive: string;
  const account = (user: string): ImapAccount => ({ host: '127.0.0.1', port: dc.port, security: 'none', user, password: pw(user) });
  const folders = async (user: string): Promise<string[]> => {
    const c = await dc.client(user, pw(user));
    try {
      return (await c.list()).map((l) => l.path).sort();
    } finally {
      await c.logout();
    }
  };

  beforeAll(async () => {
    dc = await startDovecot({ users: USERS.map((name) => ({ name, password: pw(name) })) });
    const c = await dc.client('src', pw('src'));
    for (const f of ['Projekte', 'Leer', 'Leer/Auch leer', 'Leer ✓']) await c.mailboxCreate(f);
    for (const [i, m] of generatedMessages(2, 61, { prefix: 'empty' }).entries()) await c.append('Projekte', m, ['\\Seen'], new Date(Date.UTC(2003, 4, 5, 6, 7, i)));
    await c.logout();
    archive = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-empty-folders-'));
    expect((await runBackup({ archiveDir: archive, account: account('src') })).status).toBe('completed');
  }, 60_000);

  afterAll(async () => {
    await dc?.stop();
    fs.rmSync(archive, { recursive: true, force: true });
  });

  const ALL = ['INBOX', 'Leer', 'Leer/Auch leer', 'Leer ✓', 'Projekte'].sort();

  it('restore of the whole account recreates every empty folder, and a rerun creates nothing', async () => {
    const r = await runRestore({ archiveDir: archive, target: account('whole') });
    expect(r).toMatchObject({ status: 'completed', restored: 2, foldersCreated: 4 });
    expect(await folders('whole')).toEqual(ALL);
    const again = await runRestore({ archiveDir: archive, target: account('whole') });
    expect(again).toMatchObject({ status: 'completed', restored: 0, foldersCreated: 0 });
    expect(again.plan!.foldersToCreate).toEqual([]);
  });

  it('restore of one named empty folder creates just that folder', async () => {
    const r = await runRestore({ archiveDir: archive, target: account('named'), scope: { folder: 'Leer/Auch leer' } });
    expect(r).toMatchObject({ status: 'completed', restored: 0, foldersCreated: 1 });
    expect(await folders('named')).toEqual(['INBOX', 'Leer', 'Leer/Auch leer']);
  });

  it('a scope that picks messages by date creates only the folders of what it picks', async () => {
    const r = await runRestore({ archiveDir: archive, target: account('dated'), scope: { since: new Date(Date.UTC(2003, 0, 1)) } });
    expect(r).toMatchObject({ status: 'completed', restored: 2, foldersCreated: 1 });
    expect(await folders('dated')).toEqual(['INBOX', 'Projekte']);
  });

  it('a dry run lists the empty folders it would create and creates nothing', async () => {
    const r = await runRestore({ archiveDir: archive, target: account('dry'), dryRun: true });
    expect(r.plan!.foldersToCreate.sort()).toEqual(['Leer', 'Leer/Auch leer', 'Leer ✓', 'Projekte'].sort());
    const m = await runMigrate({ source: account('src'), destination: account('dry'), dryRun: true });
    expect(m.plan!.foldersToCreate.sort()).toEqual(['Leer', 'Leer/Auch leer', 'Leer ✓', 'Projekte'].sort());
    expect(await folders('dry')).toEqual(['INBOX']);
  });

  it('migrate recreates every empty folder, and a rerun creates nothing', async () => {
    const r = await runMigrate({ source: account('src'), destination: account('mig') });
    expect(r).toMatchObject({ status: 'completed', migrated: 2, foldersCreated: 4 });
    expect(await folders('mig')).toEqual(ALL);
    expect(await runMigrate({ source: account('src'), destination: account('mig') })).toMatchObject({ status: 'completed', migrated: 0, foldersCreated: 0 });
  });
});
