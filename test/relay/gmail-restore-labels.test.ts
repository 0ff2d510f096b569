import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterEach, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import { generatedMessages } from '../support/corpus.ts';
import { startFakeGmail, type FakeGmail } from '../support/fake-gmail.ts';
import { startFakeImap, type FakeImap } from '../support/fake-imap.ts';
import { sha256 } from '../support/mailbox-state.ts';

const closers: (FakeGmail | FakeImap)[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-gmail-labels-'));
  dirs.push(d);
  return d;
}
async function gmail(opts: Parameters<typeof startFakeGmail>[0] = {}): Promise<FakeGmail> {
  const g = await startFakeGmail({ password: 'pw', ...opts });
  closers.push(g);
  return g;
}
const account = (port: number, user = 'me@gmail.com') => ({ host: '127.0.0.1', port, security: 'none' as const, user, password: 'pw' });
/** Gmail names a label folder on the wire in modified UTF-7, as IMAP does. */
const wire = (label: string): string => iconv.encode(label, 'utf-7-imap').toString();

describe('Gmail labels on the way back', () => {
  it('labels with spaces, quotes, non-ASCII letters and nesting come back exactly (quoted, modified UTF-7 on the wire)', async () => {
    const labels = ['My Label', 'Say "hi"', wire('Entwürfe/Ärger'), wire('日本語'), 'a/b/c'];
    const raws = generatedMessages(labels.length + 1, 41);
    const src = await gmail({ messages: raws.map((raw, i) => ({ raw, labels: i < labels.length ? ['\\Inbox', labels[i]!, labels[(i + 1) % labels.length]!] : [] })) });
    const archive = tmp();
    expect((await runBackup({ archiveDir: archive, account: account(src.port), retry: { maxAttempts: 1 } })).status).toBe('completed');
    const dest = await gmail();
    const r = await runRestore({ archiveDir: archive, target: account(dest.port), retry: { maxAttempts: 1 } });
    expect(r.skipped).toEqual([]);
    expect(r.status).toBe('completed');
    expect(dest.counters.appends).toBe(raws.length);
    const got = new Map(dest.messages.map((m) => [sha256(m.raw), dest.labelsOf(m)]));
    for (const m of src.messages) expect(got.get(sha256(m.raw))).toEqual(src.labelsOf(m));
    // The labels exist as folders with the same wire names (nothing double-encoded or decoded).
    for (const l of labels) expect(dest.folderNames()).toContain(l);
  }, 60_000);

  it('finds a localized All Mail on the destination by its \\All flag: appended there, no "[Gmail]/All Mail" created', async () => {
    const raws = generatedMessages(6, 42);
    const src = await gmail({ messages: raws.map((raw, i) => ({ raw, labels: i % 2 ? ['Work'] : [] })) });
    const archive = tmp();
    expect((await runBackup({ archiveDir: archive, account: account(src.port), retry: { maxAttempts: 1 } })).status).toBe('completed');
    const dest = await gmail({ allMailName: '[Gmail]/Alle Nachrichten' });
    const r = await runRestore({ archiveDir: archive, target: account(dest.port), retry: { maxAttempts: 1 } });
    expect(r).toMatchObject({ status: 'completed', restored: 6 });
    // Only the user label is created (as restore recreates every folder); no second All Mail.
    expect(dest.commands.filter((c) => /^\S+ CREATE /i.test(c)).map((c) => c.replace(/^\S+ CREATE /i, ''))).toEqual(['Work']);
    expect(dest.folderNames()).not.toContain('[Gmail]/All Mail');
    expect(dest.commands.filter((c) => /APPEND/i.test(c)).every((c) => c.includes('[Gmail]/Alle Nachrichten'))).toBe(true);
    expect(dest.messages.filter((m) => m.labels.has('Work'))).toHaveLength(3);
  }, 60_000);

  it('restores mail from a server without labels into Gmail once per content: a message in two folders becomes one message with two labels', async () => {
    const raws = generatedMessages(4, 43);
    const imap = await startFakeImap({
      password: 'pw',
      folders: {
        INBOX: raws.map((raw, i) => ({ uid: i + 1, raw, flags: ['\\Seen'] })),
        Projects: [{ uid: 1, raw: raws[0]! }, { uid: 2, raw: raws[1]! }],
        'Projects/2024': [{ uid: 1, raw: raws[0]! }],
      },
    });
    closers.push(imap);
    const archive = tmp();
    expect((await runBackup({ archiveDir: archive, account: account(imap.port, 'u'), retry: { maxAttempts: 1 } })).status).toBe('completed');
    const dest = await gmail();
    const r = await runRestore({ archiveDir: archive, target: account(dest.port), retry: { maxAttempts: 1 } });
    expect(r.status).toBe('completed');
    expect(r.plan?.labels).toMatchObject({ mode: 'gmail', messages: 4, memberships: 7, labelsToAdd: 3 });
    expect(dest.counters.appends).toBe(4);
    const got = new Map(dest.messages.map((m) => [sha256(m.raw), dest.labelsOf(m)]));
    expect(got.get(sha256(raws[0]!))).toEqual(['Projects', 'Projects/2024', '\\Inbox'].sort());
    expect(got.get(sha256(raws[1]!))).toEqual(['Projects', '\\Inbox'].sort());
    expect(got.get(sha256(raws[3]!))).toEqual(['\\Inbox']);
  }, 60_000);

  it('a label Gmail refuses ends Partially Complete with LABELS_NOT_APPLIED, every message still appended once; a rerun adds the label and appends nothing', async () => {
    const raws = generatedMessages(5, 44);
    const src = await gmail({ messages: raws.map((raw, i) => ({ raw, labels: i < 3 ? ['Keep', 'Refused'] : ['Keep'] })) });
    const archive = tmp();
    expect((await runBackup({ archiveDir: archive, account: account(src.port), retry: { maxAttempts: 1 } })).status).toBe('completed');
    const dest = await gmail({ faults: { refuseLabels: ['Refused'] } });
    const r = await runRestore({ archiveDir: archive, target: account(dest.port), retry: { maxAttempts: 1 } });
    expect(r).toMatchObject({ status: 'partially_complete', errorCode: 'LABELS_NOT_APPLIED', restored: 5 });
    expect(r.skipped.filter((x) => x.code === 'LABELS_NOT_APPLIED')).toHaveLength(3);
    expect(dest.messages.every((m) => m.labels.has('Keep'))).toBe(true);

    dest.faults.refuseLabels = [];
    dest.resetCounters();
    const again = await runRestore({ archiveDir: archive, target: account(dest.port), retry: { maxAttempts: 1 } });
    expect(again).toMatchObject({ status: 'completed', restored: 0, labelsAdded: 3 });
    expect(dest.counters.appends).toBe(0);
    const got = new Map(dest.messages.map((m) => [sha256(m.raw), dest.labelsOf(m)]));
    for (const m of src.messages) expect(got.get(sha256(m.raw))).toEqual(src.labelsOf(m));
  }, 60_000);
});
