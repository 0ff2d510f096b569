/**
 * A full disk during a backup (standards: "full or read-only disks ... loses nothing"): the run
 * ends with DISK_FULL, what was committed before stays sound, and once space is freed the next
 * run completes with every message, byte for byte. The archive lives on a small tmpfs mounted by
 * the test (root only; under CI a machine that cannot mount fails the test).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyArchive } from '../../relay/archive/verify.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import type { BackupOptions } from '../../relay/jobs/backup/types.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { archiveState, serverState } from '../support/mailbox-state.ts';

const USER = { name: 'dora', password: 'dora-Secret-pw' };
const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;
if (process.env.CI && !(canMount && dovecotAvailable())) throw new Error('backup-disk-full needs root (to mount a tmpfs) and Dovecot under CI');

/** `count` messages of `lines` 80-byte lines each, all different. */
function messages(tag: string, count: number, lines: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => {
    const line = `${tag} ${String(i).padStart(5, '0')} ${'abcdefghij'.repeat(7)}\r\n`;
    return Buffer.from(`From: a@example.org\r\nTo: b@example.org\r\nSubject: ${tag} ${i}\r\nMessage-ID: <${tag}-${i}@example.org>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n${line.repeat(lines)}`);
  });
}

// Both more than the 4 MB the archive's disk holds at first: large messages (the disk fills while a
// group is written) and many small ones (it fills while pack writes are still being gathered).
const CASES = [
  { folder: 'INBOX', tag: 'big', count: 40, lines: 2000 },
  { folder: 'Small', tag: 'small', count: 2500, lines: 30 },
];

describe.skipIf(!(canMount && dovecotAvailable()))('a backup onto a disk that fills up', () => {
  let dc: Dovecot;
  let mnt: string;
  beforeAll(async () => {
    dc = await startDovecot({ users: [USER] });
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-full-'));
  });
  afterAll(async () => {
    if (mnt) fs.rmSync(mnt, { recursive: true, force: true });
    await dc?.stop();
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  it.each(CASES)('ends with DISK_FULL keeping what it committed, and the run after space is freed completes with every message ($count $tag messages)', async ({ folder, tag, count, lines }) => {
    const c = await dc.client(USER.name, USER.password);
    if (folder !== 'INBOX') await c.mailboxCreate(folder);
    for (const m of messages(tag, count, lines)) await c.append(folder, m, ['\\Seen']);
    await c.logout();
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mnt], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    try {
      const archive = path.join(mnt, 'archive');
      const opts: BackupOptions = {
        archiveDir: archive,
        account: { host: '127.0.0.1', port: dc.port, security: 'none', user: USER.name, password: USER.password },
        retry: { maxAttempts: 1, baseDelayMs: 10 },
        groupCommitMessages: tag === 'big' ? 5 : undefined,
      };
      const first = await runBackup(opts);
      expect(first.status).not.toBe('completed');
      expect(first.errorCode).toBe('DISK_FULL');
      const afterFull = await verifyArchive(archive);
      expect(afterFull.problems).toEqual([]);
      const kept = archiveState(archive).get(folder)?.length ?? 0;
      expect(kept).toBeLessThan(count);

      expect(spawnSync('mount', ['-o', 'remount,size=64m', mnt]).status).toBe(0);
      const second = await runBackup(opts);
      expect(second).toMatchObject({ status: 'completed', errorCode: null });
      const c2 = await dc.client(USER.name, USER.password);
      const server = await serverState(c2);
      await c2.logout();
      expect(archiveState(archive)).toEqual(server);
      const report = await verifyArchive(archive);
      expect(report.ok, JSON.stringify(report.problems)).toBe(true);
      expect(report.messages).toBe([...server.values()].reduce((n, f) => n + f.length, 0));
    } finally {
      spawnSync('umount', [mnt]);
    }
  }, 180_000);
});
