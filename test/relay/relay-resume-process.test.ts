import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../lib/protocol/common.ts';
import { readLocalToken } from '../../relay/state/local-token.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startSlowProxy, type SlowProxy } from '../support/slow-proxy.ts';
import { helloClient, RelayProcess, tempDataDir, type WsClient } from './relay-harness.ts';
import { runCli } from '../support/run-cli.ts';

// The relay alone, no browser and no extension: the real `node bin/mailkeep.js relay` process and
// a real Dovecot. The relay is killed (SIGKILL: no shutdown, no checkpoint call) in the middle of
// a restore; started again, it resumes the restore by itself, under the same job id and key.

const ALICE = { name: 'alice', password: 'alice-Resume-pw-4471' };
const BOB = { name: 'bob', password: 'bob-Resume-pw-9012' };
const MESSAGES = 600;

if (process.env.CI && !dovecotAvailable()) throw new Error('Dovecot is required in CI (scripts/install-imap-servers.sh)');

/** One `mailkeep` command as a person runs it, bounded (test/support/run-cli.ts). */
const cli = (args: string[], env: Record<string, string>) => runCli(args, env, { deadlineMs: 60_000 });

describe.skipIf(!dovecotAvailable())('the relay resumes a restore it was killed under (real relay process and Dovecot, no extension)', () => {
  let dc: Dovecot;
  let proxy: SlowProxy;
  let dataDir: string;
  let relay: RelayProcess | undefined;
  let ws: WsClient | undefined;
  let seq = 0;

  const connect = async (): Promise<WsClient> => {
    ws?.close();
    ws = await helloClient(relay!.port, readLocalToken(dataDir)!);
    return ws;
  };
  const call = async (method: string, params: unknown): Promise<any> => {
    const f = (await ws!.call(`r${++seq}`, method, params)) as { type: string; result?: unknown };
    if (f.type !== 'result') throw new Error(`${method}: ${JSON.stringify(f)}`);
    return f.result;
  };
  async function inbox(user: typeof ALICE): Promise<string[]> {
    const imap = await dc.client(user.name, user.password);
    try {
      const box = await imap.mailboxOpen('INBOX');
      if (box.exists === 0) return [];
      const ids: string[] = [];
      for await (const m of imap.fetch('1:*', { envelope: true })) ids.push(m.envelope?.messageId ?? '');
      return ids;
    } finally {
      await imap.logout();
    }
  }
  /** Polls (bounded) until `until` holds. */
  async function poll<T>(read: () => Promise<T>, until: (v: T) => boolean, what: string, timeoutMs = 40_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (until(v)) return v;
      if (Date.now() > deadline) throw new Error(`${what} never happened: ${JSON.stringify(v)}; relay said: ${relay?.stdout.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    dc = await startDovecot({ users: [ALICE, BOB] });
    // Straight into the maildir: the fastest way to load a server (imap-lab.md §1.2).
    dc.writeMaildir(ALICE.name, '', generatedMessages(MESSAGES, 37).map((raw, i) => ({ raw, date: new Date(Date.UTC(2020, 0, 1) + i * 60_000) })));
    dc.settle(ALICE.name);
    // bob's server answers through a trickle, so the restore into it is still running when killed.
    proxy = await startSlowProxy(dc.port);
    dataDir = tempDataDir();
    for (const [u, port] of [[ALICE, dc.port], [BOB, proxy.port]] as const) {
      const add = await cli(['account', 'add', '--host', '127.0.0.1', '--port', String(port), '--security', 'none', '--user', u.name, '--id', u.name, '--data-dir', dataDir], { MAILKEEP_PASSWORD: u.password });
      expect(add.code, add.stderr).toBe(0);
      expect((await cli(['schedule', u.name, 'off', '--data-dir', dataDir], {})).code).toBe(0);
    }
    const backup = await cli(['backup', '--account', 'alice', '--json', '--data-dir', dataDir], {});
    expect(backup.code, backup.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    ws?.close();
    await relay?.stop();
    proxy?.close();
    await dc?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGKILL during a restore: started again, the relay itself resumes it to Completed and every message is in the mailbox once', async () => {
    relay = await RelayProcess.start(dataDir);
    await connect();
    proxy.throttle(32);
    const { job } = (await call('job.start', { kind: 'restore', accountId: 'bob', idempotencyKey: 'restore-bob-from-alice-kill-1', params: { sourceAccountId: 'alice' } })) as { job: JobSnapshot };
    // Some messages are in, not all: the middle of the restore.
    const partial = await poll(() => inbox(BOB), (ids) => ids.length >= 20, 'the first restored messages');
    expect(partial.length).toBeLessThan(MESSAGES);
    relay.child.kill('SIGKILL');
    await relay.exit;
    ws?.close();
    ws = undefined;
    proxy.throttle(Infinity);

    relay = await RelayProcess.start(dataDir);
    await relay.waitForOutput(`resuming interrupted restore job ${job.id} of account bob`, 20_000);
    await connect();
    const done = (await poll(async () => (await call('job.get', { jobId: job.id })).job as JobSnapshot, (j) => j.phase === 'finished', 'the resumed restore finishing')) as JobSnapshot;
    expect(done).toMatchObject({ id: job.id, idempotencyKey: 'restore-bob-from-alice-kill-1', status: 'completed', errorCode: null });
    // One job for the key, not a second run.
    const listed = (await call('job.list', { limit: 50 })).jobs as JobSnapshot[];
    expect(listed.filter((j) => j.kind === 'restore')).toHaveLength(1);
    const ids = await inbox(BOB);
    expect(ids).toHaveLength(MESSAGES);
    expect(new Set(ids).size).toBe(MESSAGES);
    expect(ids.sort()).toEqual((await inbox(ALICE)).sort());
    expect(relay.stdout + relay.stderr).not.toContain(BOB.password);
  }, 120_000);
});
