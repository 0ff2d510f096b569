import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventFrame } from '../../lib/protocol/relay-frames.ts';
import { startFakeGmail, type FakeGmail } from '../support/fake-gmail.ts';
import { gmailMailbox } from '../support/gmail-mailbox.ts';
import { sha256 } from '../support/mailbox-state.ts';
import { helloClient, jsonPost, RelayProcess, tempDataDir, type WsClient } from './relay-harness.ts';
import { startJobAndWait, stopRelayWorld } from './relay-jobs.ts';

// The Gmail mode through `mailkeep relay`: a backup job, then restore jobs with the labels param.

describe('Gmail backup and restore as relay jobs', () => {
  let relay: RelayProcess;
  let dataDir: string;
  let c: WsClient;
  let source: FakeGmail;
  let dest: FakeGmail;
  const box = gmailMailbox({ inAllMail: 40, memberships: 100, spam: 1, trash: 1, seed: 31 });
  const run = async (key: string, kind: string, accountId: string, params: Record<string, unknown> = {}): Promise<{ data: EventFrame['data']; jobId: string }> => {
    const { final, jobId } = await startJobAndWait(c, key, { kind, accountId, idempotencyKey: `gmail-relay-${key}`, params }, { timeoutMs: 60_000, expectStarted: { type: 'result', result: { created: true } } });
    return { data: final.data, jobId };
  };
  const outcome = async (jobId: string): Promise<Record<string, unknown>> =>
    ((await c.call(`g-${jobId}`, 'job.get', { jobId })) as { result: { job: { outcome: { counts: Record<string, unknown> } } } }).result.job.outcome.counts;

  beforeAll(async () => {
    source = await startFakeGmail({ messages: box.seeds, password: 'gmail-Source-pw-1' });
    dest = await startFakeGmail({ password: 'gmail-Dest-pw-2' });
    dataDir = tempDataDir();
    relay = await RelayProcess.start(dataDir);
    const paired = await jsonPost(relay.port, '/pair', { code: relay.pairingCode });
    c = await helloClient(relay.port, (JSON.parse(paired.body) as { token: string }).token);
    const account = (id: string, g: FakeGmail) => ({ id, host: '127.0.0.1', port: g.port, security: 'none', user: `${id}@gmail.com` });
    await c.call('u1', 'account.upsert', { account: account('gm', source), password: 'gmail-Source-pw-1' });
    await c.call('u2', 'account.upsert', { account: account('gm2', dest), password: 'gmail-Dest-pw-2' });
  }, 60_000);
  afterAll(async () => {
    await stopRelayWorld({ c, relay, dataDir });
    await source?.close();
    await dest?.close();
  });

  it('backs up once, and a restore into another Gmail account appends each message once with its labels; its dry run counts distinct messages and labels', async () => {
    expect((await run('b1', 'backup', 'gm')).data).toMatchObject({ status: 'completed' });
    expect(source.counters.bodyBytesSent).toBe(box.distinctBytes);

    const dry = await run('d1', 'restore', 'gm2', { sourceAccountId: 'gm', dryRun: true });
    expect(dry.data).toMatchObject({ status: 'completed' });
    // Labels to add: the 100 label memberships and the Starred ones (those come back with \Flagged already).
    const starred = box.seeds.filter((m) => m.flags?.includes('\\Flagged') && !m.spam && !m.trash).length;
    expect(starred).toBeGreaterThan(0);
    expect(await outcome(dry.jobId)).toMatchObject({ toAppend: 42, distinctMessages: 42, labelsToAdd: 100 + starred });

    const real = await run('r1', 'restore', 'gm2', { sourceAccountId: 'gm' });
    expect(real.data).toMatchObject({ status: 'completed', errorCode: null });
    expect(await outcome(real.jobId)).toMatchObject({ restored: 42, labelsAdded: 100 });
    expect(dest.counters.appends).toBe(42);
    const got = new Map(dest.messages.map((m) => [sha256(m.raw), dest.labelsOf(m).join(',')]));
    for (const m of source.messages) expect(got.get(sha256(m.raw))).toBe(source.labelsOf(m).join(','));

    const again = await run('r2', 'restore', 'gm2', { sourceAccountId: 'gm' });
    expect(await outcome(again.jobId)).toMatchObject({ restored: 0, alreadyPresent: 42 });
    expect(dest.counters.appends).toBe(42);
  }, 120_000);

  it('refuses a labels value it does not know before running anything', async () => {
    const r = await c.call('bad', 'job.start', { kind: 'restore', accountId: 'gm2', idempotencyKey: 'gmail-relay-bad', params: { sourceAccountId: 'gm', labels: 'every-label' } });
    expect(JSON.stringify(r)).toContain('INVALID_INPUT');
  });
});
