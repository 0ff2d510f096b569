import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportArchive } from '../../relay/export/export-archive.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { startFakeGmail, type FakeGmail, type GmailMessage } from '../support/fake-gmail.ts';
import { gmailMailbox } from '../support/gmail-mailbox.ts';
import { sha256 } from '../support/mailbox-state.ts';

/** Python's zipfile and mailbox read the export: per message its X-Gmail-Labels, X-GM-THRID and the SHA-256 of the message without those two lines. */
const READER = String.raw`
import sys, json, zipfile, mailbox, hashlib, re, tempfile, os
z = zipfile.ZipFile(sys.argv[1]); out = []
for info in z.infolist():
    with tempfile.NamedTemporaryFile(delete=False) as t: t.write(z.read(info))
    box = mailbox.mbox(t.name, create=False)
    for key in box.keys():
        raw = re.sub(rb'(?m)^>(>*From )', rb'\1', box.get_bytes(key))
        m = box.get(key)
        rest = re.sub(rb'^(X-GM-THRID: [^\r\n]*\r\n)?X-Gmail-Labels: [^\r\n]*\r\n', b'', raw, count=1)
        out.append({'file': info.filename, 'labels': m['X-Gmail-Labels'], 'thread': m['X-GM-THRID'], 'sha': hashlib.sha256(rest).hexdigest()})
    box.close(); os.unlink(t.name)
print(json.dumps(out))
`;

const TAKEOUT: Record<string, string> = { '\\Inbox': 'Inbox', '\\Sent': 'Sent', '\\Important': 'Important', '\\Draft': 'Drafts', '\\Starred': 'Starred' };

describe('mbox export of a Gmail archive, as Google Takeout writes it', () => {
  let gmail: FakeGmail;
  let dir: string;
  beforeAll(async () => {
    gmail = await startFakeGmail({ messages: gmailMailbox({ inAllMail: 60, memberships: 150, spam: 2, trash: 1 }).seeds, password: 'pw' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-gmail-export-'));
    const r = await runBackup({ archiveDir: path.join(dir, 'archive'), account: { host: '127.0.0.1', port: gmail.port, security: 'none', user: 'me@gmail.com', password: 'pw' }, retry: { maxAttempts: 1 } });
    expect(r.status).toBe('completed');
  }, 60_000);
  afterAll(async () => {
    await gmail.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const expectedLabels = (m: GmailMessage): string[] => {
    if (m.spam) return ['Spam'];
    if (m.trash) return ['Trash'];
    const l = gmail.labelsOf(m).map((x) => TAKEOUT[x] ?? x);
    return l.length ? l.sort() : ['Archived'];
  };

  it('holds each message once in "All mail Including Spam and Trash.mbox", with X-Gmail-Labels naming every label and X-GM-THRID its thread', async () => {
    const out = path.join(dir, 'gmail.zip');
    const summary = await exportArchive({ archiveDir: path.join(dir, 'archive'), format: 'mbox', out });
    expect(summary).toMatchObject({ messages: 63, folders: 1 });
    const r = spawnSync('python3', ['-c', READER, out], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(r.stderr).toBe('');
    const read = JSON.parse(r.stdout) as { file: string; labels: string; thread: string; sha: string }[];
    expect(read).toHaveLength(63);
    const bySha = new Map(read.map((x) => [x.sha, x]));
    for (const m of gmail.messages) {
      const got = bySha.get(sha256(m.raw));
      expect(got, `message ${m.msgId}`).toBeDefined();
      expect(got!.file).toBe('All mail Including Spam and Trash.mbox');
      expect(got!.labels.split(',').sort()).toEqual(expectedLabels(m));
      expect(got!.thread).toBe(m.threadId);
    }
  });

  it('exports one label as a selection with every label of each message in it, not only the selected one', async () => {
    const out = path.join(dir, 'work.zip');
    const summary = await exportArchive({ archiveDir: path.join(dir, 'archive'), format: 'mbox', out, scope: { folder: 'Work' } });
    const want = gmail.messages.filter((m) => m.labels.has('Work'));
    expect(summary.messages).toBe(want.length);
    const read = JSON.parse(spawnSync('python3', ['-c', READER, out], { encoding: 'utf8' }).stdout) as { labels: string; sha: string }[];
    const bySha = new Map(read.map((x) => [x.sha, x]));
    for (const m of want) expect(bySha.get(sha256(m.raw))!.labels.split(',').sort()).toEqual(expectedLabels(m));
  });
});
