import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import { verifyArchive } from '../../relay/archive/verify.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { archiveState, countRows, serverState } from '../support/mailbox-state.ts';
import { runCli, startCli } from '../support/run-cli.ts';

const USER = { name: 'gina', password: 'gina-Secret-pw' };

function committedMessages(dir: string): number {
  if (!fs.existsSync(path.join(dir, 'index.sqlite'))) return 0;
  try {
    const db = openArchiveForReading(dir);
    try {
      return (db.prepare('SELECT COUNT(*) FROM messages').pluck().get() as number) ?? 0;
    } finally {
      db.close();
    }
  } catch {
    return 0; // schema not created yet
  }
}

describe.skipIf(!dovecotAvailable())('a backup killed with SIGKILL', () => {
  let dc: Dovecot;
  let dir: string;
  const TOTAL = 4000;
  beforeAll(async () => {
    dc = await startDovecot({ users: [USER] });
    const msgs = generatedMessages(TOTAL, 99);
    dc.writeMaildir(USER.name, '', msgs.slice(0, 2500).map((raw, i) => ({ raw, flags: i % 2 ? 'S' : 'FS' })));
    dc.writeMaildir(USER.name, '.Archive', msgs.slice(2500).map((raw) => ({ raw, flags: 'S' })));
    dc.settle(USER.name);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-crash-'));
  });
  afterAll(async () => {
    await dc?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  const args = (): string[] => ['backup', '--archive', dir, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', USER.name, '--password-env', 'MK_PW', '--json', '--commit-every', '150'];

  it('resumes at every kill point with no loss and no duplicates, and verify passes', async () => {
    const killedAt: number[] = [];
    // Kill points by messages committed: before the first commit (right after start), early in
    // INBOX, late in INBOX, inside the second folder.
    for (const threshold of [0, 300, 1500, 3000]) {
      const before = committedMessages(dir);
      const { child, done } = startCli(args(), { MK_PW: USER.password });
      const deadline = Date.now() + 30_000;
      let exited = false;
      void done.then(() => (exited = true));
      while (!exited && Date.now() < deadline) {
        if (threshold === 0 ? fs.existsSync(path.join(dir, 'archive.lock')) : committedMessages(dir) >= threshold) break;
        await new Promise((r) => setTimeout(r, 15));
      }
      if (!exited && child.pid && child.pid > 0) child.kill('SIGKILL');
      const r = await done;
      killedAt.push(committedMessages(dir));
      expect(r.signal).toBe('SIGKILL'); // really killed mid-run, not finished
      expect(committedMessages(dir)).toBeGreaterThanOrEqual(before);
      // What was committed is intact even though the process died mid-write.
      if (fs.existsSync(path.join(dir, 'index.sqlite'))) expect((await verifyArchive(dir)).ok).toBe(true);
    }
    expect(killedAt.some((n) => n > 0 && n < TOTAL)).toBe(true);

    const final = await runCli(args(), { MK_PW: USER.password });
    expect(final.code).toBe(0);
    expect(final.json).toMatchObject({ status: 'Completed' });

    const c = await dc.client(USER.name, USER.password);
    const server = await serverState(c);
    await c.logout();
    const archive = archiveState(dir);
    for (const [folder, list] of server) expect(archive.get(folder) ?? []).toEqual(list);
    expect(countRows(dir, 'SELECT COUNT(*) FROM messages')).toBe(TOTAL);
    expect(countRows(dir, 'SELECT COUNT(*) FROM blobs')).toBe(TOTAL);
    expect(countRows(dir, 'SELECT COUNT(*) FROM (SELECT folder_id, uidvalidity, uid FROM messages GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)')).toBe(0);
    const v = await verifyArchive(dir);
    expect(v).toMatchObject({ ok: true, blobs: TOTAL });
    // No garbage: the packs hold exactly the committed records (44-byte header each).
    const packBytes = fs.readdirSync(path.join(dir, 'packs')).reduce((n, f) => n + fs.statSync(path.join(dir, 'packs', f)).size, 0);
    expect(packBytes).toBe(v.bytes + 44 * TOTAL);
  }, 180_000);

  it('stops cleanly on SIGINT: exit 3 (cancelled), lock released, what was received is committed and intact', async () => {
    const dir2 = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-sigint-'));
    try {
      const a = args().map((x) => (x === dir ? dir2 : x));
      const { child, done } = startCli(a, { MK_PW: USER.password });
      const deadline = Date.now() + 30_000;
      while (committedMessages(dir2) < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 15));
      if (child.pid && child.pid > 0) child.kill('SIGINT');
      const r = await done;
      expect(r.code).toBe(3);
      expect(r.json).toMatchObject({ status: 'Partially Completed', errorCode: 'CANCELLED' });
      expect(fs.existsSync(path.join(dir2, 'archive.lock'))).toBe(false);
      expect(committedMessages(dir2)).toBeGreaterThanOrEqual(300);
      expect((await verifyArchive(dir2)).ok).toBe(true);
    } finally {
      fs.rmSync(dir2, { recursive: true, force: true });
    }
  }, 60_000);
});
