import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountHistoryResult } from '../../lib/protocol/account-history.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { helloClient, jsonPost, RelayProcess, runCli, tempDataDir, type WsClient } from './relay-harness.ts';
import { startJobAndWait, stopRelayWorld } from './relay-jobs.ts';

// What is in my backup (issue 13): the real relay backs up a real Dovecot twice, with messages
// deleted on the server in between; account.history and `mailkeep status ACCOUNT` tell what each run
// stored and what disappeared, and their totals are those `mailkeep archive-info` counts.

const USER = { name: 'hilda', password: 'hilda-History-pw-5' };
const account = (port: number) => ({ id: 'hilda', host: '127.0.0.1', port, security: 'none', user: USER.name, email: 'hilda@example.org' });

interface InfoJson {
  blobs: number;
  blobBytes: number;
  accounts: { folders: { gone: boolean }[]; runs: { id: number; newMessages: number; newBytes: number; disappeared: number; status: string }[] }[];
}

describe.skipIf(!dovecotAvailable())('the history of an account backed up by the relay from a real Dovecot', () => {
  let dc: Dovecot;
  let relay: RelayProcess;
  let dataDir: string;
  let c: WsClient;
  let n = 0;
  const history = async (params: Record<string, unknown>): Promise<AccountHistoryResult> => {
    const r = await c.call(`h${n++}`, 'account.history', params);
    if (r.type !== 'result') throw new Error(JSON.stringify(r));
    return AccountHistoryResult.parse(r.result);
  };
  const backup = async (key: string) => (await startJobAndWait(c, key, { kind: 'backup', accountId: 'hilda', idempotencyKey: key }, { timeoutMs: 60_000 })).final.data;

  beforeAll(async () => {
    dc = await startDovecot({ users: [USER] });
    const imap = await dc.client(USER.name, USER.password);
    await imap.mailboxCreate('Projects');
    for (const raw of generatedMessages(6, 41)) await imap.append('INBOX', raw, ['\\Seen']);
    for (const raw of generatedMessages(3, 42)) await imap.append('Projects', raw, []);
    await imap.logout();
    dataDir = tempDataDir();
    relay = await RelayProcess.start(dataDir);
    const paired = await jsonPost(relay.port, '/pair', { code: relay.pairingCode });
    c = await helloClient(relay.port, (JSON.parse(paired.body) as { token: string }).token);
    await c.call('a0', 'account.upsert', { account: account(dc.port), password: USER.password });
  }, 60_000);

  afterAll(() => stopRelayWorld({ c, relay, dc, dataDir }));

  it('an account never backed up has no totals and no runs', async () => {
    expect(await history({ accountId: 'hilda' })).toMatchObject({ accountId: 'hilda', totals: null, runs: [], totalRuns: 0, nextBefore: null, lastSuccessAt: null });
  });

  it('after two backups with two messages deleted in between, the newest run shows its new messages and the two that disappeared', async () => {
    expect(await backup('history-run-1')).toMatchObject({ status: 'completed' });
    const imap = await dc.client(USER.name, USER.password);
    await imap.mailboxOpen('INBOX');
    await imap.messageDelete('1:2', { uid: true });
    await imap.mailboxClose();
    for (const raw of generatedMessages(4, 43)) await imap.append('INBOX', raw, []);
    await imap.logout();
    expect(await backup('history-run-2')).toMatchObject({ status: 'completed' });

    const h = await history({ accountId: 'hilda' });
    expect(h.totalRuns).toBe(2);
    const [second, first] = h.runs;
    expect(first).toMatchObject({ status: 'completed', newMessages: 9, disappeared: 0, archiveMessages: 9, errorCode: null });
    expect(second).toMatchObject({ status: 'completed', newMessages: 4, disappeared: 2, archiveMessages: 13, errorCode: null });
    expect(Date.parse(second!.startedAt)).toBeGreaterThanOrEqual(Date.parse(first!.finishedAt!));
    expect(second!.archiveBytes).toBe(first!.archiveBytes + second!.newBytes);
    expect(h.lastSuccessAt).toBe(second!.finishedAt);
    // Deleted on the server, kept in the archive: 13 messages in the two folders.
    expect(h.totals).toMatchObject({ messages: 13, folders: 2 });
  });

  it("the totals and each run's counts are the ones mailkeep archive-info reports", async () => {
    const info = await runCli(['archive-info', '--archive', path.join(dataDir, 'archives', 'hilda'), '--json']);
    expect(info.code, info.stderr).toBe(0);
    const parsed = JSON.parse(info.stdout) as InfoJson;
    const h = await history({ accountId: 'hilda' });
    expect(h.totals).toEqual({ messages: parsed.blobs, bytes: parsed.blobBytes, folders: parsed.accounts[0]!.folders.filter((f) => !f.gone).length });
    expect(h.totals!.bytes).toBe(h.runs[0]!.archiveBytes);
    const runs = parsed.accounts[0]!.runs;
    expect([...h.runs].reverse().map((r) => ({ id: r.archiveRunId, newMessages: r.newMessages, newBytes: r.newBytes, disappeared: r.disappeared }))).toEqual(
      runs.map((r) => ({ id: r.id, newMessages: r.newMessages, newBytes: r.newBytes, disappeared: r.disappeared })),
    );
  });

  it('pages go from newest to oldest without a run twice or missing, and a made-up cursor is refused', async () => {
    const all = await history({ accountId: 'hilda' });
    const p1 = await history({ accountId: 'hilda', limit: 1 });
    expect(p1.runs.map((r) => r.key)).toEqual([all.runs[0]!.key]);
    expect(p1.nextBefore).toBe(all.runs[0]!.cursor);
    const p2 = await history({ accountId: 'hilda', limit: 1, before: p1.nextBefore });
    expect(p2.runs.map((r) => r.key)).toEqual([all.runs[1]!.key]);
    expect(p2.nextBefore).toBeNull();
    expect(await c.call('bad1', 'account.history', { accountId: 'hilda', before: 'not a cursor' })).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
    expect(await c.call('bad2', 'account.history', { accountId: 'nobody' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
  });

  it('mailkeep status ACCOUNT prints the same totals and runs, through the relay and, with the relay stopped, from the data dir', async () => {
    const h = await history({ accountId: 'hilda' });
    const through = await runCli(['status', 'hilda@example.org', '--data-dir', dataDir], 60_000);
    expect(through.code, through.stderr).toBe(0);
    expect(through.stdout).toContain('archive: 13 message(s) in 2 folder(s)');
    expect(through.stdout).toContain('last 2 of 2 run(s):');
    expect(through.stdout).toMatch(/Completed: \+4 message\(s\), \d+\.\d KB, 2 disappeared on the server/);
    expect(through.stdout).toMatch(/Completed: \+9 message\(s\), \d+\.\d KB\n/);
    const json = JSON.parse((await runCli(['status', 'hilda', '--json', '--data-dir', dataDir], 60_000)).stdout) as { accounts: { folders: number; messages: number; runs: { newMessages: number; disappeared: number; durationMs: number }[] }[] };
    expect(json.accounts).toHaveLength(1);
    expect(json.accounts[0]).toMatchObject({ messages: 13, folders: 2, runs: [{ newMessages: 4, disappeared: 2 }, { newMessages: 9, disappeared: 0 }] });
    expect(json.accounts[0]!.runs[0]!.durationMs).toBe(Date.parse(h.runs[0]!.finishedAt!) - Date.parse(h.runs[0]!.startedAt));

    c.close();
    await relay.stop();
    const direct = await runCli(['status', 'hilda', '--data-dir', dataDir], 60_000);
    expect(direct.stdout).toContain('archive: 13 message(s) in 2 folder(s)');
    expect(direct.stdout).toMatch(/Completed: \+4 message\(s\), \d+\.\d KB, 2 disappeared on the server/);
    expect(direct.stdout).toContain('Relay not running');
    expect(direct.code).toBe(1);
  });
});
