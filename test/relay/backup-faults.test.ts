import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import type { BackupOptions } from '../../relay/jobs/backup/types.ts';
import { generatedMessages } from '../support/corpus.ts';
import { startFakeImap, type FakeFaults, type FakeImap } from '../support/fake-imap.ts';
import { archiveState } from '../support/mailbox-state.ts';

const msgs = generatedMessages(3, 5);
const folders = { INBOX: msgs.map((raw, i) => ({ uid: i + 1, raw, flags: ['\\Seen'] })), Private: [{ uid: 1, raw: msgs[0]! }] };

let fake: FakeImap | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function backupAgainst(faults: FakeFaults, extra: Partial<BackupOptions> = {}) {
  fake = await startFakeImap({ folders, faults, password: 'pw' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fault-'));
  dirs.push(dir);
  const statuses: string[] = [];
  const result = await runBackup(
    {
      archiveDir: dir,
      account: { host: '127.0.0.1', port: fake.port, security: 'none', user: 'u', password: 'pw' },
      timeouts: { connectMs: 1000, greetingMs: 1000, socketMs: 1000 },
      retry: { maxAttempts: 2, baseDelayMs: 50 },
      ...extra,
    },
    { onStatus: (s) => statuses.push(s) },
  );
  return { result, statuses, dir };
}

describe('backup against a scripted faulty server', () => {
  it('backs up a plain fake server completely (the fake speaks enough IMAP)', async () => {
    const { result, dir } = await backupAgainst({});
    expect(result.skipped).toEqual([]);
    expect(result).toMatchObject({ status: 'completed', messages: 4 });
    expect(archiveState(dir).get('INBOX')).toHaveLength(3);
  });

  it('ends in Connection Error within the deadline when the server never greets, not a hang', async () => {
    const { result, statuses } = await backupAgainst({ stallGreeting: true });
    expect(result).toMatchObject({ status: 'connection_error', errorCode: 'CONNECTION_TIMEOUT', attempts: 2 });
    expect(statuses).toEqual(['preparing', 'retrying', 'connection_error']);
  });

  it('ends in Connection Error within the deadline when the server stalls in the middle of a literal', async () => {
    const { result, statuses } = await backupAgainst({ stallMidLiteral: true });
    expect(result).toMatchObject({ status: 'connection_error', errorCode: 'CONNECTION_TIMEOUT' });
    expect(statuses).toEqual(['preparing', 'running', 'retrying', 'running', 'connection_error']);
  });

  it('retries and then reports Connection Error when the server drops the connection mid-literal, storing nothing half-received', async () => {
    const { result, statuses, dir } = await backupAgainst({ dropMidLiteral: true });
    expect(result).toMatchObject({ status: 'connection_error', errorCode: 'CONNECTION_LOST' });
    expect(statuses).toContain('retrying');
    expect(archiveState(dir).size).toBe(0);
  });

  it('treats a BYE during FETCH as a lost connection', async () => {
    const { result } = await backupAgainst({ byeOnFetch: true });
    expect(result).toMatchObject({ status: 'connection_error', errorCode: 'CONNECTION_LOST' });
  });

  it('ends Partially Completed when the server answers NO to EXAMINE of one folder', async () => {
    const { result, dir } = await backupAgainst({ unreadable: ['Private'] });
    expect(result.status).toBe('partially_completed');
    expect(result.skipped).toEqual([expect.objectContaining({ folder: 'Private', uid: null, code: 'FOLDER_UNREADABLE' })]);
    expect(archiveState(dir).get('INBOX')).toHaveLength(3);
    expect(fake!.commands.some((c) => / SELECT /i.test(c))).toBe(false);
  });

  it('ends Partially Completed listing a message the server cannot read, keeps the rest with flags, and fetches it on the next run', async () => {
    const { result, dir } = await backupAgainst({ unreadableUids: [2] });
    expect(result.status).toBe('partially_completed');
    expect(result.skipped).toEqual([expect.objectContaining({ folder: 'INBOX', uid: 2, code: 'MESSAGE_UNREADABLE' })]);
    expect(archiveState(dir).get('INBOX')!.map((m) => [m.uid, m.flags])).toEqual([
      [1, ['\\Seen']],
      [3, ['\\Seen']],
    ]);
    fake!.faults.unreadableUids = [];
    const again = await runBackup({
      archiveDir: dir,
      account: { host: '127.0.0.1', port: fake!.port, security: 'none', user: 'u', password: 'pw' },
    });
    expect(again).toMatchObject({ status: 'completed', messages: 1 });
    expect(archiveState(dir).get('INBOX')!.map((m) => m.uid)).toEqual([1, 2, 3]);
  });

  it('picks up a flag change on a server without CONDSTORE, where STATUS cannot show it', async () => {
    const { result, dir } = await backupAgainst({});
    expect(result.status).toBe('completed');
    folders.INBOX[1]!.flags = ['\\Seen', '\\Flagged', '$Later'];
    try {
      const again = await runBackup({ archiveDir: dir, account: { host: '127.0.0.1', port: fake!.port, security: 'none', user: 'u', password: 'pw' } });
      expect(again).toMatchObject({ status: 'completed', messages: 0, flagsUpdated: 1 });
      expect(archiveState(dir).get('INBOX')![1]!.flags).toEqual(['$Later', '\\Flagged', '\\Seen']);
    } finally {
      folders.INBOX[1]!.flags = ['\\Seen'];
    }
  });

  it('reports Authentication Error once, without a retry, and never echoes the password', async () => {
    fake = await startFakeImap({ folders, password: 'right' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fault-'));
    dirs.push(dir);
    const r = await runBackup({ archiveDir: dir, account: { host: '127.0.0.1', port: fake.port, security: 'none', user: 'u', password: 'wrong-Secret' } });
    expect(r).toMatchObject({ status: 'authentication_error', errorCode: 'AUTH_FAILED', attempts: 1 });
    expect(JSON.stringify(r)).not.toContain('wrong-Secret');
    expect(fake.commands.filter((c) => /LOGIN/i.test(c))).toHaveLength(1);
  });

  it('stops promptly and keeps what was committed when the signal aborts', async () => {
    fake = await startFakeImap({ folders, faults: { stallMidLiteral: true } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-fault-'));
    dirs.push(dir);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const started = Date.now();
    const r = await runBackup({ archiveDir: dir, account: { host: '127.0.0.1', port: fake.port, security: 'none', user: 'u', password: 'p' } }, { signal: ac.signal });
    expect(r).toMatchObject({ status: 'partially_completed', errorCode: 'CANCELLED' });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
