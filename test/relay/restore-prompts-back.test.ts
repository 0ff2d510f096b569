import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { restorePrompts } from '../../relay/jobs/restore/restore-prompts.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';

// "Restore them?" must not stay once the mail is back: the relay, asked again about the run that
// saw the mail go, leaves out what a later backup found on the server again, whoever restored it.

const USER = { name: 'alice', password: 'alice-Prompt-pw-7' };

describe.skipIf(!dovecotAvailable())('restore prompts of mail that came back', () => {
  let dc: Dovecot;
  let dir: string;
  const account = { host: '127.0.0.1', port: 0, security: 'none' as const, user: USER.name, password: USER.password };
  const backup = async (): Promise<void> => {
    expect((await runBackup({ archiveDir: dir, account: { ...account, port: dc.port }, retry: { maxAttempts: 1 } })).status).toBe('completed');
  };
  const deleteFirst = async (folder: string, n: number): Promise<void> => {
    const c = await dc.client(USER.name, USER.password);
    await c.mailboxOpen(folder);
    await c.messageDelete(`1:${n}`);
    await c.logout();
  };

  beforeAll(async () => {
    dc = await startDovecot({ users: [USER] });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-prompt-back-'));
    const c = await dc.client(USER.name, USER.password);
    await c.mailboxCreate('Sent');
    const msgs = generatedMessages(10, 31, { prefix: 'back' });
    for (const [i, m] of msgs.entries()) await c.append(i < 6 ? 'INBOX' : 'Sent', m);
    await c.logout();
    await backup();
  });
  afterAll(async () => {
    await dc?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  it('a prompt about mail restored from the CLI is gone after the next backup; one about mail still gone stays', async () => {
    await deleteFirst('INBOX', 3);
    await deleteFirst('Sent', 2);
    await backup();
    const first = restorePrompts(dir);
    expect(first.map((p) => [p.folder, p.messages]).sort()).toEqual([['INBOX', 3], ['Sent', 2]]);
    const runId = first[0]!.runId;

    // Restored with the CLI's engine (`mailkeep restore --folder INBOX`), not through a prompt.
    const r = await runRestore({ archiveDir: dir, target: { ...account, port: dc.port }, scope: { folder: 'INBOX' }, retry: { maxAttempts: 1 } });
    expect(r).toMatchObject({ status: 'completed', restored: 3 });
    // Before a backup has looked, the archive cannot know: the prompt still stands.
    expect(restorePrompts(dir, { runId }).map((p) => p.folder).sort()).toEqual(['INBOX', 'Sent']);
    await backup();
    expect(restorePrompts(dir, { runId })).toEqual([expect.objectContaining({ runId, folder: 'Sent', messages: 2 })]);
  });
});
