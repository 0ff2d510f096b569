import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import type { JobSnapshot } from '../../lib/protocol/common.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { helloClient, jsonPost, RelayProcess, request, tempDataDir, type WsClient } from './relay-harness.ts';
import { startJobAndWait, stopRelayWorld } from './relay-jobs.ts';

// The relay end to end: a download job publishes its file at an expiring link served only with
// the pairing token; a migrate job copies one stored account into another.

const ALICE = { name: 'alice', password: 'alice-Dl-pw-41' };
const BOB = { name: 'bob', password: 'bob-Dl-pw-52' };

/** GET with raw bytes back (the harness's request() decodes text). */
function getBytes(port: number, urlPath: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    import('node:http').then(({ default: http }) => {
      const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers: { host: `127.0.0.1:${port}`, ...headers }, timeout: 10_000, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    }, reject);
  });
}

describe.skipIf(!dovecotAvailable())('download links and migrate jobs through the real relay', () => {
  let dc: Dovecot;
  let relay: RelayProcess;
  let dataDir: string;
  let token: string;
  let c: WsClient;
  const account = (id: string, user: string) => ({ id, host: '127.0.0.1', port: dc.port, security: 'none', user });

  async function pair(): Promise<void> {
    const paired = await jsonPost(relay.port, '/pair', { code: relay.pairingCode });
    token = (JSON.parse(paired.body) as { token: string }).token;
    c = await helloClient(relay.port, token);
  }

  async function runJob(key: string, kind: string, accountId: string, params: Record<string, unknown> = {}): Promise<JobSnapshot> {
    const { jobId } = await startJobAndWait(c, `s-${key}`, { kind, accountId, idempotencyKey: `test-${key}-0001`, params }, { timeoutMs: 60_000 });
    const got = await c.call(`g-${key}`, 'job.get', { jobId });
    return (got as { result: { job: JobSnapshot } }).result.job;
  }

  beforeAll(async () => {
    dc = await startDovecot({ users: [ALICE, BOB] });
    const imap = await dc.client(ALICE.name, ALICE.password);
    await imap.mailboxCreate('Archiv/2023');
    for (const [i, raw] of generatedMessages(16, 8, { prefix: 'dl' }).entries()) await imap.append(i % 2 ? 'INBOX' : 'Archiv/2023', raw, i % 3 ? ['\\Seen'] : ['$Work']);
    await imap.logout();
    dataDir = tempDataDir();
    relay = await RelayProcess.start(dataDir);
    await pair();
    await c.call('u1', 'account.upsert', { account: account('alice', ALICE.name), password: ALICE.password });
    await c.call('u2', 'account.upsert', { account: account('bob', BOB.name), password: BOB.password });
    await c.call('u3', 'account.upsert', { account: account('carol', BOB.name), password: 'not-bobs-password' });
    expect(await runJob('backup', 'backup', 'alice')).toMatchObject({ status: 'completed' });
  }, 60_000);

  afterAll(() => stopRelayWorld({ c, relay, dc, dataDir }));

  let link: { url: string; expiresAt: string; fileName: string; bytes: number };
  let downloadJobId: string;

  it('a download job ends Completed / Link and the link serves the zip with the pairing token only', async () => {
    const before = Date.now();
    const job = await runJob('dl', 'download', 'alice', { format: 'eml-zip' });
    const after = Date.now();
    expect(job).toMatchObject({ status: 'completed_link', errorCode: null, outcome: { counts: { messages: 16, folders: 2 } } });
    link = (job.kind === 'download' ? job.outcome?.link : undefined)!;
    downloadJobId = job.id;
    expect(link.url).toMatch(/^\/download\/[0-9a-f]{64}$/);
    // Registered while the job ran, for the default lifetime: between the two readings plus 24 h.
    expect(Date.parse(link.expiresAt)).toBeGreaterThanOrEqual(before + RELAY_LIMITS.downloadLinkTtlMs - 1000);
    expect(Date.parse(link.expiresAt)).toBeLessThanOrEqual(after + RELAY_LIMITS.downloadLinkTtlMs + 1000);

    const ok = await getBytes(relay.port, link.url, { authorization: `Bearer ${token}` });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/zip');
    // Offered under the account's address (here its login: no email given) and the day, not an id.
    expect(link.fileName).toMatch(/^alice-\d{4}-\d{2}-\d{2}\.eml\.zip$/);
    expect(ok.headers['content-disposition']).toContain(`filename="${link.fileName}"`);
    expect(ok.headers['access-control-allow-origin']).toBeUndefined();
    expect(ok.body.length).toBe(link.bytes);
    const zip = path.join(dataDir, 'got.zip');
    fs.writeFileSync(zip, ok.body);
    const n = spawnSync('python3', ['-c', 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.infolist()))', zip], { encoding: 'utf8' });
    expect(n.stdout.trim()).toBe('16');
    // The extension's own origin is fine too (a fetch from the dashboard).
    expect((await getBytes(relay.port, link.url, { authorization: `Bearer ${token}`, origin: EXTENSION_ORIGIN })).status).toBe(200);

    expect((await request(relay.port, { path: link.url })).status).toBe(401);
    expect((await request(relay.port, { path: link.url, headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    expect((await request(relay.port, { path: link.url, headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example' } })).status).toBe(403);
    expect((await request(relay.port, { path: link.url, headers: { authorization: `Bearer ${token}`, host: 'evil.example' } })).status).toBe(421);
    expect((await request(relay.port, { path: `/download/${'0'.repeat(64)}`, headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
  });

  it('after expiry the job is Expired, the file is gone and the link answers 410', async () => {
    // Expire it while the relay is down: the sweep at start must catch it.
    expect(await relay.stop()).toBe(0);
    const file = path.join(dataDir, 'downloads.json');
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { links: { expiresAt: number; file: string }[] };
    const served = saved.links[0]!.file;
    expect(fs.existsSync(served)).toBe(true);
    for (const l of saved.links) l.expiresAt = Date.now() - 1000;
    fs.writeFileSync(file, JSON.stringify(saved));
    relay = await RelayProcess.start(dataDir);
    await pair();
    const got = await c.call('e1', 'job.get', { jobId: downloadJobId });
    expect(got).toMatchObject({ result: { job: { status: 'expired' } } });
    const expired = (got as { result: { job: JobSnapshot } }).result.job;
    expect(expired.kind === 'download' && expired.outcome?.link).toBeFalsy();
    expect(fs.existsSync(served)).toBe(false);
    expect((await request(relay.port, { path: link.url, headers: { authorization: `Bearer ${token}` } })).status).toBe(410);
  });

  it('a migrate dry run previews the mapping; the real run copies; a wrong destination password names the destination', async () => {
    const dry = await runJob('mig-dry', 'migrate', 'alice', { destinationAccountId: 'bob', dryRun: true });
    expect(dry).toMatchObject({ status: 'completed', outcome: { migratePlan: { toCopy: 16, alreadyPresent: 0, foldersToCreate: ['Archiv/2023'] } } });
    const real = await runJob('mig', 'migrate', 'alice', { destinationAccountId: 'bob' });
    expect(real).toMatchObject({ status: 'completed', outcome: { counts: { migrated: 16, notMigrated: 0 } } });
    const again = await runJob('mig-2', 'migrate', 'alice', { destinationAccountId: 'bob' });
    expect(again).toMatchObject({ status: 'completed', outcome: { counts: { migrated: 0, alreadyPresent: 16 } } });
    const wrong = await runJob('mig-auth', 'migrate', 'alice', { destinationAccountId: 'carol' });
    expect(wrong).toMatchObject({ status: 'authentication_error', errorCode: 'AUTH_FAILED', outcome: { side: 'destination' } });
    expect(wrong.outcome!.message).toMatch(/^destination: /);
    expect(JSON.stringify(wrong)).not.toContain('not-bobs-password');
    // Failed (the spec's unknown error), reached for real: a destination the relay does not hold,
    // and a download of an account that was never backed up.
    expect(await runJob('mig-none', 'migrate', 'alice', { destinationAccountId: 'nobody' })).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND' });
    expect(await runJob('dl-none', 'download', 'bob', { format: 'mbox' })).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND' });
  }, 60_000);
});
