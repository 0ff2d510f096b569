import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { helloClient, jsonPost, RelayProcess, runCli, tempDataDir, type WsClient } from './relay-harness.ts';
import { jobFinished, startJobAndWait, stopRelayWorld } from './relay-jobs.ts';

// `mailkeep relay` runs the real backup engine: from the WebSocket to Dovecot to the archive,
// with events, idempotency and the classified login error of account.test.

const USER = { name: 'alice', password: 'alice-Relay-pw-73' };
const SLOW = { name: 'bob', password: 'bob-Relay-pw-19' };
const SLOW_MESSAGES = 60;

/** A loopback proxy that trickles the server's bytes, so a backup is still running when the test acts. */
async function startSlowProxy(targetPort: number, tickMs = 30): Promise<{ port: number; unthrottle(): void; close(): void }> {
  let bytesPerTick = 4096;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let queue = Buffer.alloc(0);
    const timer = setInterval(() => {
      if (queue.length === 0) return;
      client.write(queue.subarray(0, bytesPerTick));
      queue = queue.subarray(bytesPerTick);
    }, tickMs);
    upstream.on('data', (d: Buffer) => (queue = Buffer.concat([queue, d])));
    client.on('data', (d) => upstream.write(d));
    const end = (): void => {
      clearInterval(timer);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    unthrottle() {
      bytesPerTick = 1 << 30;
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function pairedClient(relay: RelayProcess): Promise<WsClient> {
  const paired = await jsonPost(relay.port, '/pair', { code: relay.pairingCode });
  return helloClient(relay.port, (JSON.parse(paired.body) as { token: string }).token);
}

const account = (port: number) => ({ id: 'alice', host: '127.0.0.1', port, security: 'none', user: USER.name });

describe.skipIf(!dovecotAvailable())('the relay process against a real Dovecot', () => {
  let dc: Dovecot;
  let relay: RelayProcess;
  let dataDir: string;
  let c: WsClient;

  beforeAll(async () => {
    dc = await startDovecot({ users: [USER, SLOW] });
    const imap = await dc.client(USER.name, USER.password);
    for (const raw of generatedMessages(12, 3)) await imap.append('INBOX', raw, ['\\Seen']);
    await imap.logout();
    const slow = await dc.client(SLOW.name, SLOW.password);
    for (const raw of generatedMessages(SLOW_MESSAGES, 5)) await slow.append('INBOX', raw, []);
    await slow.logout();
    dataDir = tempDataDir();
    relay = await RelayProcess.start(dataDir);
    const paired = await jsonPost(relay.port, '/pair', { code: relay.pairingCode });
    c = await helloClient(relay.port, (JSON.parse(paired.body) as { token: string }).token);
  });

  afterAll(() => stopRelayWorld({ c, relay, dc, dataDir }));

  it('Test connection with a wrong password reports AUTH_FAILED, with the right one succeeds', async () => {
    const wrong = await c.call('t1', 'account.test', { account: account(dc.port), password: 'not-the-password' });
    expect(wrong).toMatchObject({ type: 'result', result: { ok: false, errorCode: 'AUTH_FAILED' } });
    const right = await c.call('t2', 'account.test', { account: account(dc.port), password: USER.password });
    expect(right).toMatchObject({ type: 'result', result: { ok: true } });
    // A typed-in password is not stored by a test.
    expect(await c.call('t3', 'account.test', { accountId: 'alice' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });

  it('a backup started over the WebSocket runs the engine, streams events and ends completed; the same key does not run twice', async () => {
    await c.call('b0', 'account.upsert', { account: account(dc.port), password: USER.password });
    const { jobId, final } = await startJobAndWait(c, 'b1', { kind: 'backup', accountId: 'alice', idempotencyKey: 'relay-dovecot-1' }, {
      timeoutMs: 30_000,
      expectStarted: { type: 'result', result: { created: true, job: { status: 'preparing' } } },
    });
    expect(final.data).toMatchObject({ status: 'completed', errorCode: null });
    const statuses = c.frames.flatMap((f) => (f.type === 'event' && f.data.event === 'status' && f.data.jobId === jobId ? [f.data.status] : []));
    expect(statuses).toContain('running');
    const again = await c.call('b2', 'job.start', { kind: 'backup', accountId: 'alice', idempotencyKey: 'relay-dovecot-1' });
    expect(again).toMatchObject({ result: { created: false, job: { id: jobId, status: 'completed' } } });
    const got = await c.call('b3', 'job.get', { jobId });
    expect(got).toMatchObject({ result: { job: { progress: { messagesDone: 12 } } } });
    const verify = await runCli(['verify', '--archive', path.join(dataDir, 'archives', 'alice')]);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('a job listed after a relay restart keeps its final status', async () => {
    await relay.stop();
    relay = await RelayProcess.start(dataDir);
    c = await pairedClient(relay); // the restarted relay printed a fresh code
    const list = await c.call('r1', 'job.list', { accountId: 'alice' });
    expect(list).toMatchObject({ result: { jobs: [{ status: 'completed', phase: 'finished', idempotencyKey: 'relay-dovecot-1' }] } });
  });

  it('SIGTERM in the middle of a backup marks it interrupted; the next start resumes it to completed with nothing lost', async () => {
    const proxy = await startSlowProxy(dc.port);
    try {
      await c.call('s0', 'account.upsert', { account: { ...account(proxy.port), id: 'bob', user: SLOW.name }, password: SLOW.password });
      const started = await c.call('s1', 'job.start', { kind: 'backup', accountId: 'bob', idempotencyKey: 'relay-sigterm-1' });
      const jobId = (started as { result: { job: { id: string } } }).result.job.id;
      await c.waitFor((f) => f.type === 'event' && f.data.event === 'progress' && f.data.jobId === jobId && f.data.progress.messagesDone > 0, 30_000);
      expect(await relay.stop()).toBe(0);
      const db = new Database(path.join(dataDir, 'state.sqlite'), { readonly: true });
      const saved = db.prepare("SELECT json_extract(snapshot, '$.phase') AS phase, resume_on_start AS resume FROM jobs WHERE id = ?").get(jobId);
      db.close();
      expect(saved).toEqual({ phase: 'interrupted', resume: 1 });
      proxy.unthrottle(); // the resumed run need not crawl

      relay = await RelayProcess.start(dataDir);
      await relay.waitForOutput(`resuming interrupted backup job ${jobId}`); // printed just after the code
      c = await pairedClient(relay);
      const got = await c.call('s2', 'job.get', { jobId });
      const final = (got as { result: { job: { phase: string; status: string } } }).result.job.phase === 'finished'
        ? (got as { result: { job: { status: string } } }).result.job
        : (await c.waitFor(jobFinished(jobId), 60_000)).data;
      expect(final).toMatchObject({ status: 'completed' });
      const info = await runCli(['archive-info', '--archive', path.join(dataDir, 'archives', 'bob'), '--json']);
      expect(info.code, info.stderr).toBe(0);
      expect(info.stdout).toContain(`"stored":${SLOW_MESSAGES}`);
      expect((await runCli(['verify', '--archive', path.join(dataDir, 'archives', 'bob')])).code).toBe(0);
    } finally {
      proxy.close();
    }
  });
});
