import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import type { RestoreOptions } from '../../relay/jobs/restore/restore-types.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startFakeGmail, type FakeGmail } from '../support/fake-gmail.ts';
import { gmailMailbox } from '../support/gmail-mailbox.ts';
import { serverState, sha256 } from '../support/mailbox-state.ts';

const pw = (u: string): string => `${u}-Secret-pw`;

describe.skipIf(!dovecotAvailable())('restore of a Gmail archive into a real Dovecot: labels become folders', () => {
  let dc: Dovecot;
  let gmail: FakeGmail;
  let archive: string;
  const box = gmailMailbox({ inAllMail: 60, memberships: 150, spam: 2, trash: 1 });
  beforeAll(async () => {
    dc = await startDovecot({ users: ['perlabel', 'firstlabel'].map((name) => ({ name, password: pw(name) })) });
    gmail = await startFakeGmail({ messages: box.seeds, password: 'pw' });
    archive = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-gmail-dovecot-'));
    const r = await runBackup({ archiveDir: archive, account: { host: '127.0.0.1', port: gmail.port, security: 'none', user: 'me@gmail.com', password: 'pw' }, retry: { maxAttempts: 1 } });
    expect(r.status).toBe('completed');
  }, 120_000);
  afterAll(async () => {
    await gmail?.close();
    await dc?.stop();
    fs.rmSync(archive, { recursive: true, force: true });
  });
  const restore = (user: string, extra: Partial<RestoreOptions> = {}) =>
    runRestore({ archiveDir: archive, target: { host: '127.0.0.1', port: dc.port, security: 'none', user, password: pw(user) }, retry: { maxAttempts: 1, baseDelayMs: 10 }, ...extra });
  async function where(user: string): Promise<Map<string, string[]>> {
    const c = await dc.client(user, pw(user));
    try {
      const out = new Map<string, string[]>();
      for (const [folder, msgs] of await serverState(c)) for (const m of msgs) out.set(m.hash, [...(out.get(m.hash) ?? []), folder].sort());
      return out;
    } finally {
      await c.logout();
    }
  }

  it('by default puts each message into the folder of every label it had, All Mail included (as before Gmail mode), and says so in the dry run', async () => {
    const dry = await restore('perlabel', { dryRun: true });
    expect(dry.plan?.labels).toMatchObject({ mode: 'folder-per-label', messages: 63, labelsToAdd: 0 });
    const memberships = dry.plan!.labels!.memberships;
    expect(dry.plan?.toAppend).toBe(memberships);
    const r = await restore('perlabel');
    expect(r).toMatchObject({ status: 'completed', restored: memberships });
    const held = await where('perlabel');
    expect(held.size).toBe(63);
    for (const m of gmail.messages) {
      const folders = held.get(sha256(m.raw))!;
      // All Mail (unless in Spam or Trash) plus one folder per label.
      expect(folders.length, m.msgId).toBe(m.spam || m.trash ? 1 : 1 + gmail.labelsOf(m).length);
      for (const l of gmail.labelsOf(m).filter((x) => !x.startsWith('\\'))) expect(folders).toContain(l);
    }
  }, 120_000);

  it('with "first label only" puts each message once, into its first label (INBOX, then user labels by name, then system ones), and a rerun appends nothing', async () => {
    const dry = await restore('firstlabel', { dryRun: true, labels: 'first-label' });
    expect(dry.plan?.labels).toMatchObject({ mode: 'first-label', messages: 63 });
    expect(dry.plan?.toAppend).toBe(63);
    const r = await restore('firstlabel', { labels: 'first-label' });
    expect(r).toMatchObject({ status: 'completed', restored: 63 });
    const held = await where('firstlabel');
    expect(held.size).toBe(63);
    for (const m of gmail.messages) {
      const folders = held.get(sha256(m.raw))!;
      expect(folders).toHaveLength(1);
      const labels = gmail.labelsOf(m);
      const user = labels.filter((l) => !l.startsWith('\\')).sort();
      if (labels.includes('\\Inbox')) expect(folders[0]).toBe('INBOX');
      else if (user.length) expect(folders[0]).toBe(user[0]);
    }
    const again = await restore('firstlabel', { labels: 'first-label' });
    expect(again).toMatchObject({ status: 'completed', restored: 0, alreadyPresent: 63 });
  }, 120_000);
});
