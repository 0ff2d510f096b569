import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveWriter } from '../../relay/archive/archive-writer.ts';
import { errorLine } from '../../relay/cli/error-line.ts';
import { stateCommand } from '../../relay/cli/state-command-io.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { EXIT, jobExitCode } from '../../relay/server/exit-codes.ts';
import { formatRetryIn } from '../../relay/cli/format-retry-in.ts';
import { formatBytes } from '../../lib/format.ts';
import { progressPrinter } from '../../relay/cli/progress-printer.ts';
import { runCli } from '../support/run-cli.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function smallArchive(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-cli-'));
  dirs.push(dir);
  const w = ArchiveWriter.open(dir);
  const acc = w.ensureAccount('imap.example.org', 993, 'alice');
  const run = w.beginRun(acc);
  const f = w.upsertFolder(acc, run, { rawName: '&ZeVnLIqe-', name: '日本語', delimiter: '/', specialUse: null });
  await w.resetCheckpoint(f, 5);
  w.addBuffer(f, run, { uid: 7, uidvalidity: 5, flags: ['\\Seen'], internalDate: new Date(), size: 0, messageId: null, modseq: null }, Buffer.from('Subject: hello\r\n\r\nworld\r\n'));
  await w.finishRun(run, 'completed', null);
  await w.close();
  return dir;
}

describe('the mailkeep command line', () => {
  it('maps every job status to one exit code, whatever the job', () => {
    expect(jobExitCode({ status: 'completed' })).toBe(EXIT.ok);
    expect(jobExitCode({ status: 'completed_link' })).toBe(EXIT.ok);
    expect(jobExitCode({ status: 'partially_completed' })).toBe(EXIT.partial);
    expect(jobExitCode({ status: 'partially_complete' })).toBe(EXIT.partial);
    expect(jobExitCode({ status: 'cancelled' })).toBe(EXIT.partial);
    expect(jobExitCode({ status: 'authentication_error' })).toBe(EXIT.auth);
    expect(jobExitCode({ status: 'connection_error' })).toBe(EXIT.connection);
    expect(jobExitCode({ status: 'failed' })).toBe(EXIT.failed);
    // Backup: a local failure after a partial run is Failed, not Partial.
    expect(jobExitCode({ status: 'partially_completed', failed: true })).toBe(EXIT.failed);
    // A request that cannot work as asked (several archived accounts, no --source) is bad usage.
    expect(jobExitCode({ status: 'failed', errorCode: 'INVALID_INPUT' })).toBe(EXIT.usage);
    expect(jobExitCode({ status: 'failed', errorCode: 'NOT_FOUND' })).toBe(EXIT.failed);
  });

  it('a command refused because the relay holds no password for the account exits 4 (as a refused password) with its own code', async () => {
    let written = '';
    const io = { out: { write: () => true }, err: { write: (s: string) => ((written += s), true) } } as never;
    expect(await stateCommand(io, async () => Promise.reject(mailkeepError('PASSWORD_NOT_STORED', 'account ada has no stored password')))).toBe(EXIT.auth);
    expect(written).toContain('PASSWORD_NOT_STORED');
    expect(await stateCommand(io, async () => Promise.reject(mailkeepError('INVALID_INPUT', 'bad')))).toBe(EXIT.usage);
  });

  it('prints help for every command and exits 0', async () => {
    for (const cmd of ['backup', 'verify', 'archive-info', 'stop']) {
      const r = await runCli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: mailkeep ${cmd}`);
    }
    const top = await runCli(['--help']);
    expect(top.stdout).toMatch(/4 {2}Authentication Error/);
  });

  it('exits 2 with a one-line error on bad usage, and never takes a password from the command line', async () => {
    const r1 = await runCli(['backup', '--archive', '/tmp/x', '--host', 'h', '--port', '993', '--security', 'tls', '--user', 'u', '--password', 'hunter2']);
    expect(r1.code).toBe(2);
    expect(r1.stderr.trim()).toBe('error INVALID_INPUT: unknown option --password (try mailkeep backup --help)');
    const r2 = await runCli(['backup', '--archive', '/tmp/x', '--host', 'h', '--port', '993', '--security', 'tls', '--user', 'u', '--password-env', 'MK_UNSET_VAR_X']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('environment variable MK_UNSET_VAR_X is not set');
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });

  it('verify exits 0 on a sound archive and 1 naming folder and UID after a byte is flipped', async () => {
    const dir = await smallArchive();
    const ok = await runCli(['verify', '--archive', dir, '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ kind: 'verify', ok: true, blobs: 1, messages: 1 });
    const pack = path.join(dir, 'packs', fs.readdirSync(path.join(dir, 'packs'))[0]!);
    const bytes = fs.readFileSync(pack);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x20;
    fs.writeFileSync(pack, bytes);
    const bad = await runCli(['verify', '--archive', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/ARCHIVE_DAMAGED hash_mismatch: .* 日本語 UID 7/);
    const badJson = await runCli(['verify', '--archive', dir, '--json']);
    expect(badJson.json).toMatchObject({ ok: false, errorCode: 'ARCHIVE_DAMAGED', problems: [{ kind: 'hash_mismatch', messages: [{ folder: '日本語', uid: 7 }] }] });
  });

  it('archive-info lists accounts, folders and runs, and exits 1 on a missing archive', async () => {
    const dir = await smallArchive();
    const r = await runCli(['archive-info', '--archive', dir, '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ kind: 'archive-info', blobs: 1, accounts: [{ user: 'alice', folders: [{ name: '日本語', rawName: '&ZeVnLIqe-', messages: 1 }], runs: [{ status: 'completed', newMessages: 1 }] }] });
    const human = await runCli(['archive-info', '--archive', dir]);
    expect(human.stdout).toContain('日本語: 1 on server at last run, 1 stored');
    const missing = await runCli(['archive-info', '--archive', path.join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error NOT_FOUND');
  });

  it('restore --folder with a folder the archive never held: NOT_FOUND listing the archived folders, before connecting', async () => {
    const dir = await smallArchive();
    const r = await runCli(
      ['restore', '--archive', dir, '--folder', 'NoSuch', '--host', '127.0.0.1', '--port', '1', '--security', 'none', '--user', 'u', '--password-env', 'MK_PW'],
      { MK_PW: 'x' },
    );
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('error NOT_FOUND: no archived folder "NoSuch" (archived folders: "日本語")');
  });

  it('exits 6 Failed when another backup holds the archive', async () => {
    const dir = await smallArchive();
    const w = ArchiveWriter.open(dir);
    try {
      const r = await runCli(['backup', '--archive', dir, '--host', '127.0.0.1', '--port', '1', '--security', 'none', '--user', 'u', '--password-env', 'MK_PW', '--json'], { MK_PW: 'x' });
      expect(r.code).toBe(6);
      expect(r.json).toMatchObject({ failed: true, errorCode: 'ARCHIVE_LOCKED' });
    } finally {
      await w.close();
    }
  });

  it('sizes read as on the pages (lib/format.ts); a retry delay is rounded up or "now"', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(46 * 1024)).toBe('46.0 KB');
    expect(formatBytes(100)).toBe('100 bytes');
    expect(formatBytes(1048576 * 2.5)).toBe('2.5 MB');
    expect(formatRetryIn(50)).toBe('in 1 s');
    expect(formatRetryIn(2000)).toBe('in 2 s');
    expect(formatRetryIn(0)).toBe('now');
  });

  it('progress lines say what the job counts', () => {
    const lines = (word: string): string => {
      let text = '';
      const stream = { isTTY: false, write: (t: string) => ((text += t), true) } as unknown as NodeJS.WriteStream;
      progressPrinter(stream, word).update({ folder: 'INBOX', folderIndex: 1, folderCount: 1, done: 10, total: 10, messages: 10, bytes: 47_000 });
      return text;
    };
    expect(lines('new')).toBe('folder 1/1 INBOX: 10/10 new, 10 messages, 45.9 KB so far\n');
    expect(lines('exported')).toBe('folder 1/1 INBOX: 10/10 exported, 10 messages, 45.9 KB so far\n');
  });

  it('an untrusted certificate suggests --ca; other errors get no hint', () => {
    expect(errorLine('TLS_FAILED', 'self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)')).toContain('with --ca FILE');
    expect(errorLine('TLS_CERT_UNTRUSTED', 'cannot log in to h:993: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)')).toContain('with --ca FILE');
    expect(errorLine('TLS_CERT_NAME_MISMATCH', 'Hostname/IP does not match')).not.toContain('--ca');
    expect(errorLine('TLS_FAILED', 'self-signed certificate', '--from-ca FILE or --to-ca FILE')).toContain('with --from-ca FILE or --to-ca FILE');
    expect(errorLine('TLS_FAILED', 'certificate has expired (CERT_HAS_EXPIRED)')).toBe('error TLS_FAILED: certificate has expired (CERT_HAS_EXPIRED)\n');
    expect(errorLine('AUTH_FAILED', 'no')).toBe('error AUTH_FAILED: no\n');
  });

  it('the harness kills a CLI run that passes its deadline and reports its output', async () => {
    await expect(runCli(['--help'], {}, { deadlineMs: 1 })).rejects.toThrow(/did not finish within 1 ms and was killed\n--- stdout/);
  });
});
