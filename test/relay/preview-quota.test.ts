/**
 * The migrate preview and the restore dry run ask the destination for its quota (GETQUOTAROOT
 * INBOX, Dovecot's quota plugin: test/support/dovecot.ts) and the preview warns before anything
 * starts when the planned bytes will not fit, instead of the run stopping Partially Complete.
 * Real Dovecot; under CI a missing Dovecot fails (the support helper throws).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quotaShortfall } from '../../lib/migrate/quota-warning.ts';
import { openSession, type ImapAccount } from '../../relay/imap/session.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { planView } from '../../relay/jobs/migrate/migrate-runner.ts';
import { runMigrate } from '../../relay/jobs/migrate/run-migrate.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { migrateCommand } from '../../relay/cli/migrate-command.ts';
import type { Io } from '../../relay/cli/io.ts';

/** An Io whose out and err collect text (a command under test writes nothing else). */
function captureIo(env: NodeJS.ProcessEnv): { io: Io; out: () => string } {
  let out = '';
  const sink = (add: (t: string) => void) => ({ write: (chunk: string | Uint8Array) => (add(String(chunk)), true) }) as unknown as NodeJS.WriteStream;
  return { io: { out: sink((t) => (out += t)), err: sink(() => undefined), env }, out: () => out };
}

const pw = (user: string): string => `${user}-Quota-pw-7`;
const line = `${'q'.repeat(998)}\r\n`;
/** 8 messages of ~20 KB: ~160 KB to copy. */
const MSGS = Array.from({ length: 8 }, (_, i) => Buffer.from(`From: a@example.org\r\nSubject: big ${i}\r\nMessage-ID: <big-${i}@example.org>\r\n\r\n${line.repeat(20)}`));
/** ~50 KB already on the small destination. */
const FILLER = Buffer.from(`From: a@example.org\r\nSubject: filler\r\nMessage-ID: <filler@example.org>\r\n\r\n${line.repeat(50)}`);

const account = (port: number, user: string): ImapAccount => ({ host: '127.0.0.1', port, security: 'none', user, password: pw(user) });

async function append(port: number, user: string, msgs: Buffer[]): Promise<void> {
  const c = await openSession(account(port, user));
  try {
    for (const m of msgs) await c.append('INBOX', m, ['\\Seen']);
  } finally {
    await c.logout();
  }
}

async function inboxCount(port: number, user: string): Promise<number> {
  const c = await openSession(account(port, user));
  try {
    const st = await c.status('INBOX', { messages: true });
    return st ? (st.messages ?? 0) : 0;
  } finally {
    await c.logout();
  }
}

describe.runIf(dovecotAvailable())('the dry runs warn when the destination’s quota cannot take the planned bytes', () => {
  let dovecot: Dovecot;
  let archive: string;
  beforeAll(async () => {
    dovecot = await startDovecot({
      users: [
        { name: 'src', password: pw('src') },
        { name: 'small', password: pw('small'), quota: '100K' },
        { name: 'roomy', password: pw('roomy'), quota: '10M' },
        { name: 'unlimited', password: pw('unlimited') },
      ],
    });
    await append(dovecot.port, 'src', MSGS);
    await append(dovecot.port, 'small', [FILLER]);
    archive = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-quota-'));
    expect((await runBackup({ archiveDir: archive, account: account(dovecot.port, 'src') })).status).toBe('completed');
  }, 120_000);
  afterAll(async () => {
    await dovecot?.stop();
    if (archive) fs.rmSync(archive, { recursive: true, force: true });
  });

  it('migrate preview into a 100 KB quota holding 50 KB: the plan carries the quota and the warning names both sizes; nothing is copied', async () => {
    const r = await runMigrate({ source: account(dovecot.port, 'src'), destination: account(dovecot.port, 'small'), dryRun: true });
    expect(r.status, r.message ?? '').toBe('completed');
    const view = planView(r.plan!);
    expect(view.destinationQuota?.limitBytes).toBe(100 * 1024);
    expect(view.destinationQuota?.usedBytes).toBeGreaterThanOrEqual(FILLER.length - 1024);
    const warning = quotaShortfall(view.bytesToCopy, view.destinationQuota, 'migration');
    expect(warning).not.toBeNull();
    expect(warning!.freeBytes).toBe(100 * 1024 - view.destinationQuota!.usedBytes!);
    expect(warning!.text).toMatch(/^\d+\.\d KB to copy, \d+\.\d KB free on the destination\. The migration would stop when the destination is full/);
    expect(await inboxCount(dovecot.port, 'small')).toBe(1);
  });

  it('mailkeep migrate --dry-run prints the same warning', async () => {
    const { io, out } = captureIo({ SRC_PW: pw('src'), DST_PW: pw('small') });
    const args = ['--from-host', '127.0.0.1', '--from-port', String(dovecot.port), '--from-security', 'none', '--from-user', 'src', '--from-password-env', 'SRC_PW',
      '--to-host', '127.0.0.1', '--to-port', String(dovecot.port), '--to-security', 'none', '--to-user', 'small', '--to-password-env', 'DST_PW', '--dry-run'];
    expect(await migrateCommand(args, io)).toBe(0);
    expect(out()).toMatch(/\nWill not fit: \d+\.\d KB to copy, \d+\.\d KB free on the destination\. The migration would stop/);
    expect(await inboxCount(dovecot.port, 'small')).toBe(1);
  });

  it('migrate preview into a roomy quota, or one without a limit: no warning', async () => {
    for (const user of ['roomy', 'unlimited']) {
      const r = await runMigrate({ source: account(dovecot.port, 'src'), destination: account(dovecot.port, user), dryRun: true });
      expect(r.status, r.message ?? '').toBe('completed');
      const view = planView(r.plan!);
      expect(view.bytesToCopy).toBeGreaterThan(100_000);
      expect(quotaShortfall(view.bytesToCopy, view.destinationQuota, 'migration'), user).toBeNull();
    }
  });

  it('restore dry run into the small quota: the plan carries the quota, and the check says it will not fit', async () => {
    const r = await runRestore({ archiveDir: archive, target: account(dovecot.port, 'small'), dryRun: true });
    expect(r.status, r.message ?? '').toBe('completed');
    const p = r.plan!;
    expect(p.quota?.limitBytes).toBe(100 * 1024);
    // What the restore runner hands the extension (restore-runner.ts: quotaUsedBytes, quotaLimitBytes).
    const warning = quotaShortfall(p.bytesToAppend, p.quota, 'restore');
    expect(warning?.text).toMatch(/^\d+\.\d KB to copy, \d+\.\d KB free on the destination\. The restore would stop/);
    expect(await inboxCount(dovecot.port, 'small')).toBe(1);
  });
});
