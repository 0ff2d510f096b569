import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import type { BackupProgress } from '../../relay/jobs/backup/types.ts';
import { startFakeGmail, type FakeGmail, type GmailMessage } from '../support/fake-gmail.ts';
import { gmailMailbox } from '../support/gmail-mailbox.ts';
import { sha256 } from '../support/mailbox-state.ts';

const dirs: string[] = [];
let gmail: FakeGmail | undefined;
afterEach(async () => {
  await gmail?.close();
  gmail = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-gmail-'));
  dirs.push(d);
  return d;
}

export function backupGmail(g: FakeGmail, archiveDir: string, onProgress?: (p: BackupProgress) => void) {
  return runBackup(
    {
      archiveDir,
      account: { host: '127.0.0.1', port: g.port, security: 'none', user: 'me@gmail.com', password: 'pw' },
      timeouts: { connectMs: 5000, greetingMs: 5000, socketMs: 20_000 },
      retry: { maxAttempts: 1, baseDelayMs: 10 },
    },
    onProgress ? { onProgress } : {},
  );
}

/** The run's "N new messages" as its history shows it (the archive's runs table). */
function historyNewMessages(dir: string): number[] {
  const db = openArchiveForReading(dir);
  try {
    return db.prepare<[], number>('SELECT new_messages FROM runs ORDER BY id').pluck().all();
  } finally {
    db.close();
  }
}

/** X-GM-MSGID -> the archived folders holding it (present rows). */
function archivedFolders(dir: string): Map<string, string[]> {
  const db = openArchiveForReading(dir);
  try {
    const out = new Map<string, string[]>();
    for (const r of db
      .prepare<[], { gm: string; name: string }>('SELECT m.gm_msgid AS gm, f.name FROM messages m JOIN folders f ON f.id = m.folder_id WHERE m.gone_run IS NULL ORDER BY f.name')
      .all())
      out.set(r.gm, [...(out.get(r.gm) ?? []), r.name]);
    return out;
  } finally {
    db.close();
  }
}

/** The folders Gmail shows a message in, as the fake lists them. */
function expectedFolders(g: FakeGmail, m: GmailMessage): string[] {
  if (m.spam) return ['[Gmail]/Spam'];
  if (m.trash) return ['[Gmail]/Trash'];
  const sys: Record<string, string> = { '\\Inbox': 'INBOX', '\\Sent': '[Gmail]/Sent Mail', '\\Important': '[Gmail]/Important', '\\Draft': '[Gmail]/Drafts', '\\Starred': '[Gmail]/Starred' };
  return ['[Gmail]/All Mail', ...g.labelsOf(m).map((l) => sys[l] ?? l)].sort();
}

describe('Gmail mode backup (X-GM-EXT-1)', () => {
  it('downloads each of 1,000 messages with 2,500 label memberships once, records every label, and downloads nothing on the second run', async () => {
    const box = gmailMailbox();
    expect(box.labelMemberships).toBe(2500);
    expect(box.seeds).toHaveLength(1000);
    gmail = await startFakeGmail({ messages: box.seeds, password: 'pw' });
    const dir = tmp();

    const seen: BackupProgress[] = [];
    const first = await backupGmail(gmail, dir, (p) => seen.push(p));
    // Counted as the user sees the mailbox in Gmail: 1,000 messages, not 1,000 + their 2,500 labels.
    expect(first).toMatchObject({ status: 'completed', errorCode: null, messages: 1000 });
    expect(historyNewMessages(dir)).toEqual([1000]);
    // The bar never counts past its total, and its total is the distinct messages from the start
    // (All Mail, Spam and Trash by STATUS), not All Mail plus every label folder's memberships.
    expect(seen.length).toBeGreaterThan(2);
    for (const p of seen) {
      expect(p.runTotal).toBe(1000);
      expect(p.messages).toBeLessThanOrEqual(1000);
    }
    expect(seen.at(-1)!.messages).toBe(1000);
    const fetched = gmail.counters.bodyBytesSent;
    console.info(`[gmail-backup] body bytes fetched ${fetched} vs distinct content ${box.distinctBytes} (x${(fetched / box.distinctBytes).toFixed(4)}); header bytes ${gmail.counters.headerBytesSent}`);
    expect(fetched).toBeGreaterThanOrEqual(box.distinctBytes);
    expect(fetched).toBeLessThanOrEqual(box.distinctBytes * 1.05);

    // Every message is in the archive once by content, in exactly the folders Gmail shows it in.
    const held = archivedFolders(dir);
    expect(held.size).toBe(1000);
    for (const m of gmail.messages) expect(held.get(m.msgId), `message ${m.msgId}`).toEqual(expectedFolders(gmail, m));
    const db = openArchiveForReading(dir);
    try {
      expect(db.prepare('SELECT COUNT(*) FROM blobs').pluck().get()).toBe(1000);
      // All Mail's rows carry the thread and the labels as Gmail gave them.
      const row = db
        .prepare<[string], { gm_thrid: string; gm_labels: string; blob_hash: string }>(
          "SELECT m.gm_thrid, m.gm_labels, m.blob_hash FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.special_use = '\\All' AND m.gm_msgid = ?",
        )
        .get(gmail.messages[4]!.msgId)!;
      expect(row.gm_thrid).toBe(gmail.messages[4]!.threadId);
      expect(JSON.parse(row.gm_labels)).toEqual(gmail.labelsOf(gmail.messages[4]!));
      expect(row.blob_hash).toBe(sha256(gmail.messages[4]!.raw));
    } finally {
      db.close();
    }

    // I1: the backup only read (EXAMINE, BODY.PEEK): no STORE, COPY, MOVE, APPEND, EXPUNGE or SELECT.
    expect(gmail.commands.filter((c) => /^\S+ (UID )?(STORE|COPY|MOVE|APPEND|EXPUNGE|SELECT)\b/i.test(c))).toEqual([]);
    expect(gmail.commands.filter((c) => /FETCH/i.test(c) && /BODY\[\]/i.test(c))).toEqual([]);

    gmail.resetCounters();
    const second = await backupGmail(gmail, dir);
    expect(second).toMatchObject({ status: 'completed', messages: 0, bytes: 0 });
    expect(gmail.counters.bodyBytesSent).toBe(0);
  }, 120_000);

  it('reflects labels added and removed since, and downloads only a message that is new, on an incremental run', async () => {
    const box = gmailMailbox({ inAllMail: 60, memberships: 150, spam: 2, trash: 1 });
    gmail = await startFakeGmail({ messages: box.seeds, password: 'pw' });
    const dir = tmp();
    expect((await backupGmail(gmail, dir)).status).toBe('completed');

    const [a, b] = gmail.messages;
    gmail.addLabel(a!, 'Travel');
    gmail.addLabel(a!, 'Brand new/Nested');
    gmail.removeLabel(b!, [...b!.labels][0]!);
    const fresh = gmail.deliver({ raw: Buffer.from('From: x@example.org\r\nSubject: new\r\nMessage-ID: <new-1@example.org>\r\n\r\nnew since\r\n'), labels: ['\\Inbox', 'Work'] });
    gmail.resetCounters();

    const run = await backupGmail(gmail, dir);
    expect(run.status).toBe('completed');
    // One new message (in INBOX and Work: two labels, one message); label changes are not new mail.
    expect(run.messages).toBe(1);
    expect(historyNewMessages(dir).at(-1)).toBe(1);
    expect(gmail.counters.bodyBytesSent).toBe(fresh.raw.length);
    const held = archivedFolders(dir);
    for (const m of [a!, b!, fresh]) expect(held.get(m.msgId)).toEqual(expectedFolders(gmail, m));
    const db = openArchiveForReading(dir);
    try {
      const labels = db
        .prepare<[string], string>("SELECT m.gm_labels FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.special_use = '\\All' AND m.gm_msgid = ? AND m.gone_run IS NULL")
        .pluck()
        .get(a!.msgId)!;
      expect(JSON.parse(labels)).toEqual(gmail.labelsOf(a!));
    } finally {
      db.close();
    }
  }, 60_000);

  it('finds All Mail by its \\All flag, not by its name: a localized "[Gmail]/Alle Nachrichten" is backed up first all the same', async () => {
    const box = gmailMailbox({ inAllMail: 20, memberships: 50, spam: 0, trash: 0 });
    gmail = await startFakeGmail({ messages: box.seeds, password: 'pw', allMailName: '[Gmail]/Alle Nachrichten' });
    const dir = tmp();
    expect((await backupGmail(gmail, dir)).status).toBe('completed');
    const fetches = gmail.commands.filter((c) => /FETCH/i.test(c) && /BODY/i.test(c));
    const selects = gmail.commands.filter((c) => /^\S+ (EXAMINE|SELECT)/i.test(c));
    expect(selects[0]).toContain('[Gmail]/Alle Nachrichten');
    expect(fetches.length).toBeGreaterThan(0);
    expect(gmail.counters.bodyBytesSent).toBe(box.distinctBytes);
  }, 60_000);
});
