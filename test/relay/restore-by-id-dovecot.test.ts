import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { BIN, runCli } from '../support/run-cli.ts';
import { readLocalToken } from '../../relay/state/local-token.ts';
import { helloClient, RelayProcess, tempDataDir } from './relay-harness.ts';

// Issue 15: a message found with `mailkeep search` goes back from the command line by its id, into
// a stored account of the relay (no host, port, user, CA or password typed again), with the relay
// running (its restore job) and without it (directly on the data dir); read back over IMAP.

if (process.env.CI && !dovecotAvailable()) throw new Error('Dovecot is required in CI (scripts/install-imap-servers.sh)');

const ALICE = { name: 'alice', password: 'alice-ById-pw-4471' };
const mail = (subject: string, id: string, body: string): Buffer =>
  Buffer.from(`From: Reception <desk@hotel.example>\r\nTo: alice@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${id}@hotel.example>\r\nDate: Tue, 14 May 2024 09:00:00 +0000\r\n\r\n${body}\r\n`);
const HOTEL = mail('Hotel booking LX-4471', 'hotel-4471', 'Your room is booked.');
const TRAIN = mail('Train ticket Zurich', 'train-1', 'Coach 7, seat 42.');
const INVOICE = mail('Invoice 2024/05: paid?', 'invoice-5', 'Thank you.');
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { TZ: 'UTC', ...env }, { deadlineMs: 60_000 });

describe.skipIf(!dovecotAvailable())('mailkeep restore --ids into a stored account (real Dovecot, relay up and down)', () => {
  let dc: Dovecot;
  let dataDir: string;
  let archive: string;
  let work: string;

  /** Every INBOX message's raw bytes, as the server gives them back. */
  async function inbox(): Promise<Buffer[]> {
    const imap = await dc.client(ALICE.name, ALICE.password);
    try {
      const box = await imap.mailboxOpen('INBOX');
      if (box.exists === 0) return [];
      const out: Buffer[] = [];
      for await (const m of imap.fetch('1:*', { source: true })) out.push(m.source!);
      return out;
    } finally {
      await imap.logout();
    }
  }
  async function deleteFromServer(...subjects: string[]): Promise<void> {
    const imap = await dc.client(ALICE.name, ALICE.password);
    try {
      await imap.mailboxOpen('INBOX');
      for (const s of subjects) {
        const uids = (await imap.search({ subject: s }, { uid: true })) || [];
        expect(uids.length, s).toBe(1);
        await imap.messageDelete(uids, { uid: true });
      }
    } finally {
      await imap.logout();
    }
  }
  const holds = (box: Buffer[], raw: Buffer): number => box.filter((b) => b.equals(raw)).length;
  async function idsOf(query: string): Promise<string[]> {
    const r = await cli(['search', '--archive', archive, query, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return (r.json!.hits as { id: string }[]).map((h) => h.id);
  }

  beforeAll(async () => {
    dc = await startDovecot({ users: [ALICE] });
    dc.writeMaildir(ALICE.name, '', [HOTEL, TRAIN, INVOICE].map((raw) => ({ raw, date: new Date(Date.UTC(2024, 4, 14, 9)) })));
    dc.settle(ALICE.name);
    dataDir = tempDataDir();
    archive = path.join(dataDir, 'archives', 'alice');
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-byid-'));
    const add = await cli(['account', 'add', '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', ALICE.name, '--id', 'alice', '--data-dir', dataDir], { MAILKEEP_PASSWORD: ALICE.password });
    expect(add.code, add.stderr).toBe(0);
    expect((await cli(['schedule', 'alice', 'off', '--data-dir', dataDir])).code).toBe(0);
    const backup = await cli(['backup', '--account', 'alice', '--json', '--data-dir', dataDir]);
    expect(backup.code, backup.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await dc?.stop();
    for (const d of [dataDir, work]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('with no relay running, restore --account --ids puts the searched message back byte for byte, and a second run appends nothing', async () => {
    const [id, ...more] = await idsOf('subject:hotel');
    expect(more).toEqual([]);
    await deleteFromServer('Hotel booking');
    expect(holds(await inbox(), HOTEL)).toBe(0);

    const plan = await cli(['restore', '--account', 'alice', '--ids', id!, '--dry-run', '--json', '--data-dir', dataDir]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json).toMatchObject({ via: 'direct', dryRun: true, status: 'Completed', counts: { toAppend: 1, alreadyPresent: 0 } });
    expect(holds(await inbox(), HOTEL)).toBe(0);

    const r = await cli(['restore', '--account', 'alice', '--ids', id!, '--json', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ kind: 'restore', via: 'direct', account: 'alice', status: 'Completed', counts: { restored: 1, alreadyPresent: 0 } });
    const box = await inbox();
    expect(holds(box, HOTEL)).toBe(1);
    expect(box).toHaveLength(3);

    const again = await cli(['restore', '--account', 'alice', '--ids', id!, '--data-dir', dataDir]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Completed: 0 restored, 1 already present');
    expect(await inbox()).toHaveLength(3);
  }, 120_000);

  it('with the relay running, ids piped from mailkeep search on stdin are restored by the relay\'s own job, and the job is in its history', async () => {
    await deleteFromServer('Hotel booking', 'Train ticket');
    const relay = await RelayProcess.start(dataDir);
    try {
      // A real pipeline: search's own lines (the id is their last column) into restore --ids -.
      const sh = spawnSync(
        'bash',
        ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" search --archive "$A" 'subject:hotel OR subject:train' | "${process.execPath}" "${BIN}" restore --account alice --ids - --json --data-dir "$D"`],
        { env: { ...process.env, A: archive, D: dataDir, TZ: 'UTC' }, encoding: 'utf8', timeout: 60_000 },
      );
      expect(sh.status, sh.stderr).toBe(0);
      const result = JSON.parse(sh.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
      expect(result).toMatchObject({ via: 'relay', status: 'Completed', counts: { restored: 2, alreadyPresent: 0 } });
      const box = await inbox();
      expect([holds(box, HOTEL), holds(box, TRAIN), box.length]).toEqual([1, 1, 3]);
      // The relay's own job, as the extension sees it (its history and pages).
      const ws = await helloClient(relay.port, readLocalToken(dataDir)!);
      try {
        const f = (await ws.call('g1', 'job.get', { jobId: result.jobId })) as { result?: { job: { kind: string; accountId: string; status: string } } };
        expect(f.result?.job).toMatchObject({ kind: 'restore', accountId: 'alice', status: 'completed' });
      } finally {
        ws.close();
      }
      // export --account through the running relay too: the account's archive, by id.
      const out = path.join(work, 'via-relay.zip');
      const exp = await cli(['export', '--account', 'alice', '--data-dir', dataDir, '--format', 'eml-zip', '--out', out, '--ids', (await idsOf('subject:train')).join(','), '--json']);
      expect(exp.code, exp.stderr).toBe(0);
      expect(exp.json).toMatchObject({ statusId: 'completed_link', messages: 1 });
      // Run again through the relay: nothing appended.
      const [h] = await idsOf('subject:hotel');
      const again = await cli(['restore', '--account', 'alice', '--ids', h!, '--json', '--data-dir', dataDir]);
      expect(again.json).toMatchObject({ via: 'relay', counts: { restored: 0, alreadyPresent: 1 } });
      expect(await inbox()).toHaveLength(3);
    } finally {
      await relay.stop();
    }
  }, 120_000);

  it('an unknown id or a malformed one restores nothing: NOT_FOUND or INVALID_INPUT naming it, and the good ids beside it are not restored either', async () => {
    await deleteFromServer('Invoice 2024/05');
    const [good] = await idsOf('subject:invoice');
    const unknown = 'ffffffffffffffff-1';
    const viaAccount = await cli(['restore', '--account', 'alice', '--ids', `${good},${unknown}`, '--data-dir', dataDir]);
    expect(viaAccount.code).toBe(6);
    expect(viaAccount.stderr).toMatch(/NOT_FOUND.*ffffffffffffffff-1/);
    const viaArchive = await cli(
      ['restore', '--archive', archive, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', ALICE.name, '--password-env', 'PW', '--ids', `${good},${unknown}`],
      { PW: ALICE.password },
    );
    expect(viaArchive.code).toBe(6);
    expect(viaArchive.stderr).toMatch(/NOT_FOUND.*ffffffffffffffff-1/);
    for (const bad of ['INBOX/1', `${good}x`, `${good!.toUpperCase()}`, '0123456789abcdef-0']) {
      const r = await cli(['restore', '--account', 'alice', '--ids', `${good},${bad}`, '--data-dir', dataDir]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toContain('error INVALID_INPUT: not a message id');
      expect(r.stderr).toContain(JSON.stringify(bad));
    }
    const nobody = await cli(['restore', '--account', 'nobody', '--ids', good!, '--data-dir', dataDir]);
    expect([nobody.code, nobody.stderr]).toEqual([1, expect.stringContaining('error NOT_FOUND: no account nobody')]);
    const combined = await cli(['restore', '--account', 'alice', '--ids', good!, '--folder', 'INBOX', '--data-dir', dataDir]);
    expect([combined.code, combined.stderr]).toEqual([2, expect.stringContaining('--ids names exact messages')]);
    const typed = await cli(['restore', '--account', 'alice', '--host', 'x', '--ids', good!, '--data-dir', dataDir]);
    expect([typed.code, typed.stderr]).toEqual([2, expect.stringContaining('drop --host')]);
    expect(holds(await inbox(), INVOICE)).toBe(0);

    // The self-contained form restores by id too (same selection, same duplicate check).
    const ok = await cli(
      ['restore', '--archive', archive, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', ALICE.name, '--password-env', 'PW', '--ids', good!, '--json'],
      { PW: ALICE.password },
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json).toMatchObject({ restored: 1, alreadyPresent: 0 });
    expect(holds(await inbox(), INVOICE)).toBe(1);
  }, 120_000);

  it('a restore whose reader goes at once (| head -c 0) still restores the whole selection and exits 0, quietly', async () => {
    await deleteFromServer('Invoice 2024/05');
    const [id] = await idsOf('subject:invoice');
    const child = spawn(process.execPath, [BIN, 'restore', '--account', 'alice', '--ids', id!, '--data-dir', dataDir], { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.destroy();
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(holds(await inbox(), INVOICE)).toBe(1);
  }, 120_000);

  it('export --account with ids writes a zip whose .eml entries are named by day and subject, safe for every file system, with the archived bytes', async () => {
    const ids = await idsOf('subject:hotel OR subject:invoice');
    expect(ids).toHaveLength(2);
    const out = path.join(work, 'picked.zip');
    const r = await cli(['export', '--account', 'alice', '--data-dir', dataDir, '--format', 'eml-zip', '--out', out, '--ids', ids.join(',')]);
    expect(r.code, r.stderr).toBe(0);
    const py = spawnSync('python3', ['-c', 'import sys,zipfile,json; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps({n: z.read(n).decode("latin1") for n in z.namelist()}))', out], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    expect(JSON.parse(py.stdout)).toEqual({
      'INBOX/2024-05-14 Hotel booking LX-4471.eml': HOTEL.toString('latin1'),
      'INBOX/2024-05-14 Invoice 2024_05_ paid_.eml': INVOICE.toString('latin1'),
    });
  }, 120_000);
});
