import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import { repairArchive } from '../../relay/archive/repair.ts';
import { SCHEMA_VERSION } from '../../relay/archive/schema.ts';
import { verifyArchive } from '../../relay/archive/verify.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { resolveSourceAccount, selectCandidates } from '../../relay/jobs/restore-select.ts';
import { generatedMessages } from '../support/corpus.ts';
import { startFakeGmail, type FakeGmail } from '../support/fake-gmail.ts';
import { startFakeImap, type FakeImap } from '../support/fake-imap.ts';
import { gmailMailbox } from '../support/gmail-mailbox.ts';
import { dumpIndex } from '../support/index-dump.ts';

const dirs: string[] = [];
const closers: (FakeGmail | FakeImap)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-gmail-schema-'));
  dirs.push(d);
  return d;
}
const timeouts = { connectMs: 5000, greetingMs: 5000, socketMs: 20_000 };

async function backupGmail(dir: string, g: FakeGmail): Promise<void> {
  const r = await runBackup({ archiveDir: dir, account: { host: '127.0.0.1', port: g.port, security: 'none', user: 'me@gmail.com', password: 'pw' }, timeouts, retry: { maxAttempts: 1 } });
  expect(r.status).toBe('completed');
}

/** An archive exactly as Mailkeep with schema 2 left it: a plain IMAP account backed up, the Gmail columns not there. */
async function version2Archive(): Promise<string> {
  const fake = await startFakeImap({ folders: { INBOX: generatedMessages(4, 3).map((raw, i) => ({ uid: i + 1, raw, flags: ['\\Seen'] })) }, password: 'pw' });
  closers.push(fake);
  const dir = tmp();
  const r = await runBackup({ archiveDir: dir, account: { host: '127.0.0.1', port: fake.port, security: 'none', user: 'u', password: 'pw' }, timeouts, retry: { maxAttempts: 1 } });
  expect(r.status).toBe('completed');
  const db = new Database(path.join(dir, 'index.sqlite'));
  db.exec('DROP INDEX messages_by_gm_msgid; ALTER TABLE messages DROP COLUMN gm_msgid; ALTER TABLE messages DROP COLUMN gm_thrid; ALTER TABLE messages DROP COLUMN gm_labels;');
  db.pragma('user_version = 2');
  db.close();
  return dir;
}

const version = (dir: string): number => {
  const db = new Database(path.join(dir, 'index.sqlite'), { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
};
const columns = (dir: string): string[] => {
  const db = new Database(path.join(dir, 'index.sqlite'), { readonly: true });
  try {
    return db.prepare<[], string>("SELECT name FROM pragma_table_info('messages')").pluck().all();
  } finally {
    db.close();
  }
};

describe('archive schema 3 (Gmail ids) and its journal', () => {
  it('a version-2 archive is read (restore selection, verify) without being changed, and upgraded by the next backup keeping every row', async () => {
    expect(SCHEMA_VERSION).toBe(3);
    const dir = await version2Archive();
    const before = dumpIndex(path.join(dir, 'index.sqlite'));

    const db = openArchiveForReading(dir);
    try {
      const picked = selectCandidates(db, resolveSourceAccount(db, undefined));
      expect(picked).toHaveLength(4);
      expect(picked.every((c) => c.gmMsgId === null)).toBe(true);
    } finally {
      db.close();
    }
    expect((await verifyArchive(dir)).ok).toBe(true);
    expect(version(dir)).toBe(2);
    expect(columns(dir)).not.toContain('gm_msgid');

    // The next writer upgrades: one transaction, old rows intact with empty Gmail columns.
    const g = await startFakeGmail({ messages: gmailMailbox({ inAllMail: 10, memberships: 20, spam: 1, trash: 0 }).seeds, password: 'pw' });
    closers.push(g);
    await backupGmail(dir, g);
    expect(version(dir)).toBe(3);
    const after = dumpIndex(path.join(dir, 'index.sqlite'));
    const oldRows = before.messages!.map((r) => JSON.parse(r) as Record<string, unknown>);
    const newRows = after.messages!.map((r) => JSON.parse(r) as Record<string, unknown>);
    for (const r of oldRows) expect(newRows).toContainEqual({ ...r, gm_msgid: null, gm_thrid: null, gm_labels: null });
    // One row per folder Gmail shows each message in: All Mail and one per label, or Spam alone.
    const memberships = g.messages.reduce((n, m) => n + (m.spam || m.trash ? 1 : 1 + g.labelsOf(m).length), 0);
    expect(newRows.filter((r) => r.gm_msgid !== null)).toHaveLength(memberships);
    expect((await verifyArchive(dir)).ok).toBe(true);
  }, 60_000);

  it('mailkeep repair rebuilds the Gmail columns (X-GM-MSGID, thread, labels and later label changes) from the journal alone', async () => {
    const g = await startFakeGmail({ messages: gmailMailbox({ inAllMail: 30, memberships: 70, spam: 1, trash: 1 }).seeds, password: 'pw' });
    closers.push(g);
    const dir = tmp();
    await backupGmail(dir, g);
    g.addLabel(g.messages[0]!, 'Later');
    g.removeLabel(g.messages[1]!, [...g.messages[1]!.labels][0]!);
    await backupGmail(dir, g);
    const live = dumpIndex(path.join(dir, 'index.sqlite'));
    // All Mail's row carries the new label, and the label folder holds the message.
    expect(live.messages!.filter((r) => r.includes(g.messages[0]!.msgId) && r.includes('Later'))).toHaveLength(1);
    expect(live.folders!.some((r) => r.includes('"Later"'))).toBe(true);

    fs.rmSync(path.join(dir, 'index.sqlite'));
    const report = await repairArchive(dir);
    expect(report).toMatchObject({ journalDamage: [], batchesRejected: [], blobsMissing: 0 });
    expect(dumpIndex(path.join(dir, 'index.sqlite'))).toEqual(live);
    expect((await verifyArchive(dir)).ok).toBe(true);
  }, 60_000);
});
