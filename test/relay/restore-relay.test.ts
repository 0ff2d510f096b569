import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventFrame } from '../../lib/protocol/relay-frames.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { helloClient, jsonPost, RelayProcess, tempDataDir, type WsClient } from './relay-harness.ts';
import { startJobAndWait, stopRelayWorld } from './relay-jobs.ts';

// job.start {kind:'restore'} runs the real restore engine inside `mailkeep relay`.

const ALICE = { name: 'alice', password: 'alice-Restore-pw-41' };
const BOB = { name: 'bob', password: 'bob-Restore-pw-62' };

describe.skipIf(!dovecotAvailable())('restore jobs started over the relay protocol', () => {
  let dc: Dovecot;
  let relay: RelayProcess;
  let dataDir: string;
  let c: WsClient;
  const account = (id: string, user: string) => ({ id, host: '127.0.0.1', port: dc.port, security: 'none', user });
  const run = async (key: string, kind: string, accountId: string, params: Record<string, unknown> = {}): Promise<{ data: EventFrame['data']; jobId: string }> => {
    const { final, jobId } = await startJobAndWait(c, key, { kind, accountId, idempotencyKey: `restore-relay-${key}`, params }, {
      timeoutMs: 30_000,
      expectStarted: { type: 'result', result: { created: true } },
    });
    return { data: final.data, jobId };
  };
  const count = async (user: { name: string; password: string }, folder = 'INBOX'): Promise<number> => {
    const imap = await dc.client(user.name, user.password);
    const st = await imap.status(folder, { messages: true });
    await imap.logout();
    return st ? (st.messages ?? 0) : 0;
  };

  beforeAll(async () => {
    dc = await startDovecot({ users: [ALICE, BOB] });
    const imap = await dc.client(ALICE.name, ALICE.password);
    for (const raw of generatedMessages(12, 9, { prefix: 'relay-restore' })) await imap.append('INBOX', raw, ['\\Seen', '$Kept']);
    await imap.logout();
    dataDir = tempDataDir();
    relay = await RelayProcess.start(dataDir);
    const paired = await jsonPost(relay.port, '/pair', { code: relay.pairingCode });
    c = await helloClient(relay.port, (JSON.parse(paired.body) as { token: string }).token);
    await c.call('u1', 'account.upsert', { account: account('alice', ALICE.name), password: ALICE.password });
    await c.call('u2', 'account.upsert', { account: account('bob', BOB.name), password: BOB.password });
    expect((await run('b1', 'backup', 'alice')).data).toMatchObject({ status: 'completed' });
  });

  afterAll(() => stopRelayWorld({ c, relay, dc, dataDir }));

  it('restore.prompts offers what a backup saw deleted; a dry run plans it, one click brings it back, a second appends nothing', async () => {
    expect(await c.call('q0', 'restore.prompts', { accountId: 'alice' })).toMatchObject({ result: { prompts: [] } });
    const imap = await dc.client(ALICE.name, ALICE.password);
    await imap.mailboxOpen('INBOX');
    await imap.messageDelete('2:4');
    await imap.logout();
    expect(await count(ALICE)).toBe(9);
    // The next backup sees them gone: the prompt offers exactly them, one click restores them.
    expect((await run('b2', 'backup', 'alice')).data).toMatchObject({ status: 'completed' });
    const prompts = await c.call('q1', 'restore.prompts', { accountId: 'alice' });
    expect(prompts).toMatchObject({ type: 'result', result: { prompts: [{ folder: 'INBOX', messages: 3 }] } });
    expect(await c.call('q2', 'restore.prompts', { accountId: 'bob' })).toMatchObject({ result: { prompts: [] } });
    const dry = await run('d1', 'restore', 'alice', { dryRun: true });
    expect(dry.data).toMatchObject({ status: 'completed', errorCode: null });
    expect(await c.call('g1', 'job.get', { jobId: dry.jobId })).toMatchObject({
      result: { job: { progress: { messagesTotal: 3 }, outcome: { counts: { toAppend: 3, alreadyPresent: 9, restored: 0, foldersToCreate: 0 } } } },
    });
    expect(await count(ALICE)).toBe(9);
    const { runId } = (prompts as { result: { prompts: { runId: number }[] } }).result.prompts[0]!;
    const real = await run('r1', 'restore', 'alice', { disappearedInRun: runId, folder: 'INBOX' });
    expect(real.data).toMatchObject({ status: 'completed', errorCode: null });
    const statuses = c.frames.flatMap((f) => (f.type === 'event' && f.data.event === 'status' && f.data.jobId === real.jobId ? [f.data.status] : []));
    expect(statuses[0]).toBe('on_queue');
    expect(statuses).toContain('running');
    expect(await count(ALICE)).toBe(12);
    // What it appended is remembered for the next run, per destination (docs/same-message.md).
    expect(fs.readdirSync(path.join(dataDir, 'append-records')).filter((f) => f.endsWith('.sqlite'))).toHaveLength(1);
    expect((await run('r2', 'restore', 'alice')).data).toMatchObject({ status: 'completed' });
    expect(await count(ALICE)).toBe(12);
  });

  it('restores one account\'s archive into another account under a new folder', async () => {
    const r = await run('x1', 'restore', 'bob', { sourceAccountId: 'alice', into: 'Restored 2026-11-25' });
    expect(r.data).toMatchObject({ status: 'completed' });
    expect(await count(BOB, 'Restored 2026-11-25/INBOX')).toBe(12);
  });

  it('bad params fail the job with INVALID_INPUT', async () => {
    expect((await run('p1', 'restore', 'alice', { atRun: 'yesterday' })).data).toMatchObject({ status: 'failed', errorCode: 'INVALID_INPUT' });
  });
});
