import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import type { RestoreOptions } from '../../relay/jobs/restore/restore-types.ts';
import { startFakeGmail, type FakeGmail, type GmailMessage } from '../support/fake-gmail.ts';
import { gmailMailbox } from '../support/gmail-mailbox.ts';
import { sha256 } from '../support/mailbox-state.ts';

const dirs: string[] = [];
const servers: FakeGmail[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-gmail-restore-'));
  dirs.push(d);
  return d;
}
async function gmailServer(seeds = gmailMailbox({ inAllMail: 0, memberships: 0, spam: 0, trash: 0 }).seeds): Promise<FakeGmail> {
  const g = await startFakeGmail({ messages: seeds, password: 'pw' });
  servers.push(g);
  return g;
}
const account = (g: FakeGmail) => ({ host: '127.0.0.1', port: g.port, security: 'none' as const, user: 'me@gmail.com', password: 'pw' });
const timeouts = { connectMs: 5000, greetingMs: 5000, socketMs: 20_000 };

function restoreInto(g: FakeGmail, extra: Partial<RestoreOptions> = {}) {
  return runRestore({ archiveDir: archive, target: account(g), timeouts, retry: { maxAttempts: 1, baseDelayMs: 10 }, ...extra });
}

/** Each message of a Gmail account by content: its labels, flags and where it is (Spam, Trash). */
function byContent(g: FakeGmail): Map<string, { labels: string[]; flags: string[]; place: string }[]> {
  const out = new Map<string, { labels: string[]; flags: string[]; place: string }[]>();
  for (const m of g.messages) {
    const h = sha256(m.raw);
    out.set(h, [...(out.get(h) ?? []), summary(g, m)]);
  }
  return out;
}
function summary(g: FakeGmail, m: GmailMessage) {
  return { labels: g.labelsOf(m), flags: [...m.flags].sort(), place: m.spam ? 'spam' : m.trash ? 'trash' : 'mail' };
}

let source: FakeGmail;
let archive: string;
let distinct: number;
beforeAll(async () => {
  const box = gmailMailbox();
  distinct = box.seeds.length;
  source = await gmailServer(box.seeds);
  archive = tmp();
  const r = await runBackup({ archiveDir: archive, account: account(source), timeouts, retry: { maxAttempts: 1, baseDelayMs: 10 } });
  expect(r.status).toBe('completed');
}, 120_000);
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('restore of a Gmail archive into Gmail', () => {
  it('appends each of 1,000 messages once and gives each its labels back with STORE +X-GM-LABELS; a rerun appends nothing', async () => {
    const dest = await gmailServer();
    const records = tmp();
    const dry = await restoreInto(dest, { dryRun: true, appendRecordsDir: records });
    expect(dry.plan?.labels).toMatchObject({ mode: 'gmail', messages: distinct, memberships: expect.any(Number) });
    expect(dry.plan?.toAppend).toBe(distinct);
    expect(dest.counters.appends).toBe(0);

    const r = await restoreInto(dest, { appendRecordsDir: records });
    expect(r.skipped).toEqual([]);
    expect(r).toMatchObject({ status: 'completed', restored: distinct });
    console.info(`[gmail-restore] APPENDs ${dest.counters.appends} for ${distinct} distinct messages (${r.plan?.labels?.memberships} archived memberships); labels added ${r.labelsAdded} in ${dest.counters.labelStores} STOREs`);
    expect(dest.counters.appends).toBe(distinct);
    expect(dest.messages).toHaveLength(distinct);
    // Same messages, each with the same labels, flags and place as in the account backed up.
    expect(byContent(dest)).toEqual(byContent(source));

    dest.resetCounters();
    const again = await restoreInto(dest, { appendRecordsDir: records });
    expect(again).toMatchObject({ status: 'completed', restored: 0, alreadyPresent: distinct, labelsAdded: 0 });
    expect(dest.counters.appends).toBe(0);
    expect(dest.counters.labelStores).toBe(0);
    expect(dest.messages).toHaveLength(distinct);
  }, 300_000);

  it('a rerun without the append record (found by Message-ID and content) appends nothing either, and messages without a Message-ID keep their labels together', async () => {
    const dest = await gmailServer();
    expect((await restoreInto(dest)).status).toBe('completed');
    dest.resetCounters();
    const again = await restoreInto(dest);
    expect(again).toMatchObject({ status: 'completed', restored: 0 });
    expect(dest.counters.appends).toBe(0);
    const noId = source.messages.filter((m) => !/^Message-ID:/im.test(m.raw.toString('latin1')));
    expect(noId.length).toBeGreaterThanOrEqual(4);
    const got = byContent(dest);
    // One object each (not one per label), with all of its labels.
    for (const m of noId) expect(got.get(sha256(m.raw))).toEqual([summary(source, m)]);
  }, 300_000);

  it('restores one label folder as a selection: each message appended once into that label, nothing else', async () => {
    const dest = await gmailServer();
    const r = await restoreInto(dest, { scope: { folder: 'Work/2024' } });
    expect(r.status).toBe('completed');
    const expected = source.messages.filter((m) => m.labels.has('Work/2024'));
    expect(dest.counters.appends).toBe(expected.length);
    for (const m of dest.messages) expect(dest.labelsOf(m).filter((l) => !l.startsWith('\\'))).toEqual(['Work/2024']);
  }, 120_000);
});
