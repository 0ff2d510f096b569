import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventFrame } from '../../lib/protocol/relay-frames.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { helloClient, jsonPost, RelayProcess, runCli, tempDataDir, type WsClient } from './relay-harness.ts';

// `mailkeep relay` runs the real backup engine: from the WebSocket to Dovecot to the archive,
// with events, idempotency and the classified login error of account.test.

const USER = { name: 'alice', password: 'alice-Relay-pw-73' };
const account = (port: number) => ({ id: 'alice', host: '127.0.0.1', port, security: 'none', user: USER.name });

describe.skipIf(!dovecotAvailable())('the relay process against a real Dovecot', () => {
  let dc: Dovecot;
  let relay: RelayProcess;
  let dataDir: string;
  let c: WsClient;

  beforeAll(async () => {
    dc = await startDovecot({ users: [USER] });
    const imap = await dc.client(USER.name, USER.password);
    for (const raw of generatedMessages(12, 3)) await imap.append('INBOX', raw, ['\\Seen']);
    await imap.logout();
    dataDir = tempDataDir();
    relay = await RelayProcess.start(dataDir);
    const paired = await jsonPost(relay.port, '/pair', { code: relay.pairingCode });
    c = await helloClient(relay.port, (JSON.parse(paired.body) as { token: string }).token);
  });

  afterAll(async () => {
    c?.close();
    await relay?.stop();
    await dc?.stop();
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

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
    const started = await c.call('b1', 'job.start', { kind: 'backup', accountId: 'alice', idempotencyKey: 'relay-dovecot-1' });
    expect(started).toMatchObject({ type: 'result', result: { created: true, job: { status: 'preparing' } } });
    const jobId = (started as { result: { job: { id: string } } }).result.job.id;
    const isFinal = (f: unknown): f is EventFrame => {
      const e = f as EventFrame;
      return e.type === 'event' && e.data.event === 'status' && e.data.jobId === jobId && e.data.phase === 'finished';
    };
    const final = await c.waitFor(isFinal, 30_000);
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
    // The restarted relay printed a fresh code; pair again since the door test client is gone.
    const paired = await jsonPost(relay.port, '/pair', { code: relay.pairingCode });
    c = await helloClient(relay.port, (JSON.parse(paired.body) as { token: string }).token);
    const list = await c.call('r1', 'job.list', { accountId: 'alice' });
    expect(list).toMatchObject({ result: { jobs: [{ status: 'completed', phase: 'finished', idempotencyKey: 'relay-dovecot-1' }] } });
  });
});
