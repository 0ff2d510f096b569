import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportArchive } from '../../relay/export/export-archive.ts';
import { openOutputFile, type OpenOutput } from '../../relay/export/output-file.ts';
import { openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import { ArchiveWriter } from '../../relay/archive/archive-writer.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { BlobReader } from '../../relay/jobs/restore-blob.ts';
import { runDownload } from '../../relay/jobs/download/run-download.ts';
import { generatedMessages, sharedCorpusMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { archiveState } from '../support/mailbox-state.ts';
import { runCli } from '../support/run-cli.ts';

const PW = 'alice-Secret-pw';
const FOLDERS = ['INBOX', 'Entwürfe', 'Projekte/2024/Q1', 'Sp ace'];

/**
 * An independent reader: Python's zipfile and mailbox modules. Prints {folder: [sha256, ...]} of
 * every message, mbox files un-escaped the mboxrd way (one '>' off every /^>+From / line).
 */
const READER = String.raw`
import sys, json, zipfile, mailbox, hashlib, re, tempfile, os
z = zipfile.ZipFile(sys.argv[1]); kind = sys.argv[2]; out = {}
bad = z.testzip()
if bad: raise SystemExit('bad CRC in ' + bad)
for info in z.infolist():
    data = z.read(info)
    if kind == 'mbox':
        folder = info.filename[:-len('.mbox')]
        with tempfile.NamedTemporaryFile(delete=False) as t: t.write(data)
        box = mailbox.mbox(t.name, create=False)
        for key in box.keys():
            raw = re.sub(rb'(?m)^>(>*From )', rb'\1', box.get_bytes(key))
            out.setdefault(folder, []).append(hashlib.sha256(raw).hexdigest())
        box.close(); os.unlink(t.name)
    else:
        folder = info.filename.rsplit('/', 1)[0]
        out.setdefault(folder, []).append(hashlib.sha256(data).hexdigest())
print(json.dumps({k: sorted(v) for k, v in out.items()}))
`;

function readBack(file: string, kind: 'mbox' | 'eml-zip'): Record<string, string[]> {
  const r = spawnSync('python3', ['-c', READER, file, kind], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`python reader failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string[]>;
}

describe.skipIf(!dovecotAvailable())('export an archive to mbox and eml zips, read back by Python', () => {
  let dc: Dovecot;
  let archive: string;
  let work: string;
  let expected: Record<string, string[]>;
  /** mbox cannot hold a message that does not end in a newline: the reader sees one added. */
  let expectedMbox: Record<string, string[]>;

  beforeAll(async () => {
    dc = await startDovecot({ users: [{ name: 'alice', password: PW }] });
    const c = await dc.client('alice', PW);
    const msgs = generatedMessages(FOLDERS.length * 5, 5, { prefix: 'exp' });
    let i = 0;
    for (const f of FOLDERS) {
      if (f !== 'INBOX') await c.mailboxCreate(f);
      for (let k = 0; k < 5; k++) await c.append(f, msgs[i++]!, ['\\Seen'], new Date(Date.UTC(2020, k, 10)));
    }
    // Lines an mbox reader would split on or mangle: "From " and ">From " at line starts.
    await c.append('INBOX', Buffer.from('From: a@example.org\r\nSubject: tricky\r\nMessage-ID: <tricky@example.org>\r\n\r\nFrom here on\r\n>From quoted\r\n>>From twice\r\nnot From at start\r\nFrom'), [], new Date(Date.UTC(2023, 1, 1)));
    for (const m of sharedCorpusMessages(40)) await c.append('INBOX', m.raw, [], new Date(Date.UTC(2011, 0, 1)));
    await c.logout();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-export-'));
    archive = path.join(work, 'archive');
    const b = await runBackup({ archiveDir: archive, account: { host: '127.0.0.1', port: dc.port, security: 'none', user: 'alice', password: PW } });
    expect(b.status).toBe('completed');
    expected = Object.fromEntries([...archiveState(archive)].map(([f, l]) => [f, l.map((m) => m.hash).sort()]));
    const db = openArchiveForReading(archive);
    const blobs = new BlobReader(db, archive);
    const withNewline = (hash: string): string => {
      const raw = blobs.read(hash);
      return raw.at(-1) === 0x0a ? hash : crypto.createHash('sha256').update(Buffer.concat([raw, Buffer.from('\n')])).digest('hex');
    };
    expectedMbox = Object.fromEntries(Object.entries(expected).map(([f, l]) => [f, l.map(withNewline).sort()]));
    blobs.close();
    db.close();
  }, 60_000);

  afterAll(async () => {
    await dc?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const cli = (args: string[]) => runCli(['export', '--archive', archive, '--source', `alice@127.0.0.1`, ...args, '--json']);

  it('mbox: every message comes back byte-identical through Python mailbox.mbox', async () => {
    const out = path.join(work, 'all.mbox.zip');
    const r = await cli(['--format', 'mbox', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ statusId: 'completed_link', folders: FOLDERS.length + 0 });
    const back = readBack(out, 'mbox');
    expect(back).toEqual(expectedMbox);
    expect(Object.values(back).flat().length).toBe(r.json!.messages);
  });

  it('eml-zip: every message is one byte-identical .eml in its folder', async () => {
    const out = path.join(work, 'all.eml.zip');
    const r = await cli(['--format', 'eml-zip', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readBack(out, 'eml-zip')).toEqual(expected);
    expectUnzipAccepts(out);
  });

  it('one folder, or a date range, exports only those messages', async () => {
    const one = path.join(work, 'one.zip');
    expect((await cli(['--format', 'eml-zip', '--out', one, '--folder', 'Projekte/2024/Q1'])).code).toBe(0);
    expect(readBack(one, 'eml-zip')).toEqual({ 'Projekte/2024/Q1': expected['Projekte/2024/Q1'] });
    const range = path.join(work, 'range.zip');
    // Generated messages were appended with INTERNALDATEs 2020-01-10 .. 2020-05-10, two per month chosen here.
    const r = await cli(['--format', 'mbox', '--out', range, '--since', '2020-02-01', '--until', '2020-03-31']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.messages).toBe(FOLDERS.length * 2);
  });

  it('forced zip64 records are read by Python and unzip', async () => {
    const out = path.join(work, 'z64.zip');
    const s = await exportArchive({ archiveDir: archive, format: 'mbox', out, forceZip64: true });
    const bytes = fs.readFileSync(out);
    expect(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true); // zip64 end of central directory
    expect(bytes.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07]))).toBe(true); // its locator
    expect(bytes.readUInt32LE(bytes.length - 22 + 16)).toBe(0xffffffff); // EOCD points on to zip64
    expect(readBack(out, 'mbox')).toEqual(expectedMbox);
    expect(s.fileBytes).toBe(bytes.length);
    expectUnzipAccepts(out);
  });

  it('a full disk ends Failed with a clear reason and leaves no file behind', async () => {
    const dir = path.join(work, 'small');
    fs.mkdirSync(dir);
    // A tiny tmpfs when we may mount one (root), else an output that fails like a full disk.
    const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status === 0;
    let budget = 64 * 1024;
    const fullDisk: OpenOutput = async (p) => {
      const f = await openOutputFile(p);
      return {
        ...f,
        async write(data) {
          budget -= data.length;
          if (budget < 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          await f.write(data);
        },
      };
    };
    try {
      const statuses: string[] = [];
      const r = await runDownload(
        { archiveDir: archive, format: 'eml-zip', out: path.join(dir, 'export.zip'), ...(mounted ? {} : { openOutput: fullDisk }) },
        { onStatus: (s) => statuses.push(s) },
      );
      expect(r.status).toBe('failed');
      expect(r.errorCode).toBe('DISK_FULL');
      expect(r.message).toMatch(/disk is full/);
      expect(statuses).toEqual(['running', 'failed']);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      if (mounted) spawnSync('umount', [dir]);
    }
  });

  it('a transient local error is retried (Retrying, then Running) and, when it persists, ends Cancelled at the retry limit', async () => {
    let failures = 1;
    const flaky: OpenOutput = async (p) => {
      if (failures-- > 0) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
      return openOutputFile(p);
    };
    const statuses: string[] = [];
    const ok = await runDownload({ archiveDir: archive, format: 'mbox', out: path.join(work, 'retry.zip'), openOutput: flaky, retry: { baseDelayMs: 10 } }, { onStatus: (s) => statuses.push(s) });
    expect(ok.status).toBe('completed_link');
    expect(statuses).toEqual(['running', 'retrying', 'running', 'completed_link']);
    failures = 99;
    const gaveUp: string[] = [];
    const r = await runDownload({ archiveDir: archive, format: 'mbox', out: path.join(work, 'never.zip'), openOutput: flaky, retry: { maxAttempts: 2, baseDelayMs: 10 } }, { onStatus: (s) => gaveUp.push(s) });
    expect(r).toMatchObject({ status: 'cancelled', errorCode: 'RETRY_LIMIT' });
    expect(gaveUp).toEqual(['running', 'retrying', 'running', 'retrying', 'cancelled']);
    expect(fs.readdirSync(work).filter((f) => f.includes('never'))).toEqual([]);
  });

  it('a folder the archive never held is NOT_FOUND naming it and listing the archived folders; no file is written', async () => {
    const out = path.join(work, 'nosuch.zip');
    const r = await cli(['--format', 'mbox', '--folder', 'NoSuch', '--out', out]);
    expect(r.code).toBe(6);
    expect(r.json).toMatchObject({ statusId: 'failed', errorCode: 'NOT_FOUND', message: expect.stringContaining('"NoSuch"') });
    for (const f of FOLDERS) expect(r.json!.message).toContain(`"${f}"`);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(work).filter((f) => f.includes('nosuch'))).toEqual([]);
  });

  it('an output directory that does not exist is NOT_FOUND naming the directory', async () => {
    const missing = path.join(work, 'no-such-dir');
    const r = await runCli(['export', '--archive', archive, '--source', 'alice@127.0.0.1', '--format', 'mbox', '--out', path.join(missing, 'x.zip')]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`error NOT_FOUND: the output directory ${missing} does not exist`);
    expect(r.stderr).not.toContain('.partial');
  });

  it('a failed login adds no account: export without --source still finds the one account; two accounts without --source exit 2', async () => {
    const copy = path.join(work, 'archive-copy');
    fs.cpSync(archive, copy, { recursive: true });
    const bad = await runCli(['backup', '--archive', copy, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', 'bob', '--password-env', 'MK_PW'], { MK_PW: 'wrong' });
    expect(bad.code).toBe(4);
    const db = openArchiveForReading(copy);
    expect(db.prepare('SELECT user FROM accounts').pluck().all()).toEqual(['alice']);
    db.close();
    const one = await runCli(['export', '--archive', copy, '--format', 'mbox', '--out', path.join(work, 'one-account.zip'), '--json']);
    expect(one.json).toMatchObject({ statusId: 'completed_link' });
    expect(one.code).toBe(0);
    const w = ArchiveWriter.open(copy);
    const acc = w.ensureAccount('imap.example.org', 993, 'carol');
    w.upsertFolder(acc, w.beginRun(acc), { rawName: 'INBOX', name: 'INBOX', delimiter: '/', specialUse: null });
    await w.close();
    const two = await runCli(['export', '--archive', copy, '--format', 'mbox', '--out', path.join(work, 'two.zip'), '--json']);
    expect(two.json).toMatchObject({ statusId: 'failed', errorCode: 'INVALID_INPUT' });
    expect(two.code).toBe(2);
    expect(fs.existsSync(path.join(work, 'two.zip'))).toBe(false);
  });

  it('an unknown account fails with NOT_FOUND and exit 6', async () => {
    const r = await runCli(['export', '--archive', archive, '--source', 'nobody@example.org', '--format', 'mbox', '--out', path.join(work, 'x.zip'), '--json']);
    expect(r.code).toBe(6);
    expect(r.json).toMatchObject({ statusId: 'failed', errorCode: 'NOT_FOUND' });
    expect(fs.existsSync(path.join(work, 'x.zip'))).toBe(false);
  });
});

/** unzip (Info-ZIP), a second independent reader, agrees the archive is sound. .ci/run installs it;
 *  only a developer's machine without it may go on with Python's reading alone. */
function expectUnzipAccepts(file: string): void {
  const t = spawnSync('unzip', ['-tq', file], { encoding: 'utf8' });
  if (t.error !== undefined && !process.env.CI) return;
  expect(t.error, 'unzip must be installed when CI is set').toBeUndefined();
  expect(t.status, t.stdout + t.stderr).toBe(0);
}
