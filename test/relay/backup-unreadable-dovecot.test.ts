/**
 * Issue 9 item 4 on a real server: one maildir file Dovecot cannot read (mode 000; Dovecot's mail
 * processes run as `vmail`, or as the unprivileged test user, never as root) costs that message
 * only. Dovecot drops the connection on that FETCH; the backup narrows the batch down to the
 * message, logs in again, and backs up the rest of the folder and of the account.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import type { BackupOptions } from '../../relay/jobs/backup/types.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { archiveState, sha256 } from '../support/mailbox-state.ts';

const USER = { name: 'uma', password: 'uma-Secret-pw' };

/** The maildir file (cur/ or new/) of the message with this Message-ID (Dovecot may store LF line ends). */
function maildirFileOf(maildir: string, raw: Buffer): string {
  const id = /^Message-ID: (<[^>]+>)/im.exec(raw.toString('latin1'))![1]!;
  for (const sub of ['cur', 'new']) {
    const d = path.join(maildir, sub);
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) if (fs.readFileSync(path.join(d, f), 'latin1').includes(`Message-ID: ${id}`)) return path.join(d, f);
  }
  throw new Error('message file not found');
}

describe.skipIf(!dovecotAvailable())('backup of a Dovecot maildir with one unreadable message file', () => {
  let dc: Dovecot;
  const tmp: string[] = [];
  beforeAll(async () => {
    dc = await startDovecot({ users: [USER] });
  });
  afterAll(async () => {
    await dc?.stop();
    for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  it('skips only that message with MESSAGE_UNREADABLE, on a first and an incremental run, and backs up the rest of the account', async () => {
    const msgs = generatedMessages(5, 77);
    const c = await dc.client(USER.name, USER.password);
    for (const m of msgs.slice(0, 3)) await c.append('INBOX', m, ['\\Seen']);
    await c.mailboxCreate('Later');
    await c.append('Later', msgs[3]!, []);
    await c.logout();
    const bad = maildirFileOf(dc.maildir(USER.name), msgs[1]!);
    fs.chmodSync(bad, 0o000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-unread-'));
    tmp.push(dir);
    const opts: BackupOptions = {
      archiveDir: dir,
      account: { host: '127.0.0.1', port: dc.port, security: 'none', user: USER.name, password: USER.password },
      retry: { maxAttempts: 2, baseDelayMs: 50 },
    };
    try {
      const first = await runBackup(opts);
      expect(first).toMatchObject({ status: 'partially_completed', failed: false, errorCode: 'MESSAGE_UNREADABLE' });
      expect(first.skipped).toEqual([expect.objectContaining({ folder: 'INBOX', uid: 2, code: 'MESSAGE_UNREADABLE' })]);
      const held = archiveState(dir);
      expect(held.get('INBOX')!.map((m) => [m.uid, m.hash])).toEqual([
        [1, sha256(msgs[0]!)],
        [3, sha256(msgs[2]!)],
      ]);
      expect(held.get('Later')!.map((m) => m.hash)).toEqual([sha256(msgs[3]!)]);

      const c2 = await dc.client(USER.name, USER.password);
      await c2.append('INBOX', msgs[4]!, []);
      await c2.logout();
      const next = await runBackup(opts); // incremental: envelopes with Message-ID first
      expect(next).toMatchObject({ status: 'partially_completed', messages: 1 });
      expect(next.skipped.map((s) => [s.folder, s.uid, s.code])).toEqual([['INBOX', 2, 'MESSAGE_UNREADABLE']]);
    } finally {
      fs.chmodSync(bad, 0o600);
    }
    const healed = await runBackup(opts);
    expect(healed).toMatchObject({ status: 'completed', messages: 1 });
    expect(archiveState(dir).get('INBOX')!.map((m) => m.uid)).toEqual([1, 2, 3, 4]);
  });
});
