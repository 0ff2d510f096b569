import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULE_LIMITS } from '../../lib/limits.ts';
import type { JobSnapshot } from '../../lib/protocol/common.ts';
import { readLocalToken } from '../../relay/state/local-token.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { helloClient, RelayProcess, tempDataDir, type WsClient } from './relay-harness.ts';
import { runCli } from '../support/run-cli.ts';
import { startSwitchableProxy } from './switchable-proxy.ts';

// The relay alone, no browser: the real `node bin/mailkeep.js relay` process and a real Dovecot.
// The relay's wall clock jumps through the documented test hook MAILKEEP_TEST_CLOCK_FILE (docs/cli.md).

const ALICE = { name: 'alice', password: 'alice-Retry-pw-5512' };
const BOB = { name: 'bob', password: 'bob-Retry-pw-7730' };
const CAROL = { name: 'carol', password: 'carol-Retry-pw-2291' };

if (process.env.CI && !dovecotAvailable()) throw new Error('Dovecot is required in CI (scripts/install-imap-servers.sh)');

/** One `mailkeep` command as a person runs it, bounded (test/support/run-cli.ts). */
const cli = (args: string[], env: Record<string, string>) => runCli(args, env, { deadlineMs: 60_000 });

describe.skipIf(!dovecotAvailable())('the relay retries a restore by itself, browser closed (real relay process and Dovecot)', () => {
  let dc: Dovecot;
  let proxy: Awaited<ReturnType<typeof startSwitchableProxy>>;
  let dataDir: string;
  let clockFile: string;
  let env: Record<string, string>;
  let relay: RelayProcess | undefined;
  let ws: WsClient | undefined;
  let seq = 0;

  const setClock = (offsetMs: number): void => fs.writeFileSync(clockFile, JSON.stringify({ offsetMs, jitterMaxMs: 0 }));
  const connect = async (): Promise<WsClient> => {
    ws?.close();
    ws = await helloClient(relay!.port, readLocalToken(dataDir)!);
    return ws;
  };
  const call = async (method: string, params: unknown): Promise<any> => {
    const f = (await ws!.call(`r${++seq}`, method, params)) as { type: string; result?: unknown; code?: string };
    if (f.type !== 'result') throw new Error(`${method}: ${JSON.stringify(f)}`);
    return f.result;
  };
  /** Polls job.get (bounded) until the job satisfies `until`. */
  async function jobUntil(jobId: string, until: (j: JobSnapshot) => boolean, timeoutMs = 40_000): Promise<JobSnapshot> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { job } = (await call('job.get', { jobId })) as { job: JobSnapshot };
      if (until(job)) return job;
      if (Date.now() > deadline) throw new Error(`job never got there: ${JSON.stringify(job)}; relay said: ${relay?.stdout.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  async function inbox(user: typeof ALICE): Promise<string[]> {
    const imap = await dc.client(user.name, user.password);
    try {
      await imap.mailboxOpen('INBOX');
      const ids: string[] = [];
      for await (const m of imap.fetch('1:*', { envelope: true })) ids.push(m.envelope?.messageId ?? '');
      return ids;
    } catch {
      return [];
    } finally {
      await imap.logout();
    }
  }

  beforeAll(async () => {
    dc = await startDovecot({ users: [ALICE, BOB, CAROL] });
    proxy = await startSwitchableProxy(dc.port);
    const imap = await dc.client(ALICE.name, ALICE.password);
    for (const raw of generatedMessages(4, 21)) await imap.append('INBOX', raw, []);
    await imap.logout();
    dataDir = tempDataDir();
    clockFile = `${dataDir}-clock.json`;
    env = { MAILKEEP_TEST_CLOCK_FILE: clockFile };
    setClock(0);
    relay = await RelayProcess.start(dataDir, 20_000, env);
    for (const u of [ALICE, BOB, CAROL]) {
      // carol's server is behind a door the test can shut (connection refused).
      const add = await cli(['account', 'add', '--host', '127.0.0.1', '--port', String(u === CAROL ? proxy.port : dc.port), '--security', 'none', '--user', u.name, '--id', u.name, '--data-dir', dataDir], { ...env, MAILKEEP_PASSWORD: u.password });
      expect(add.code, add.stderr).toBe(0);
      // Off: only the runs under test happen (no first backup a minute after adding).
      expect((await cli(['schedule', u.name, 'off', '--data-dir', dataDir], env)).code).toBe(0);
    }
  });

  afterAll(async () => {
    ws?.close();
    await relay?.stop();
    await proxy?.close();
    await dc?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(clockFile, { force: true });
  });

  it('a restore that ended Failed is run again by the relay a few hours later, across a relay restart, and puts each message back once', async () => {
    await connect();
    // Restore alice's archive into bob before alice was ever backed up: no archive, Failed.
    const { job } = (await call('job.start', { kind: 'restore', accountId: 'bob', idempotencyKey: 'restore-bob-from-alice-1', params: { sourceAccountId: 'alice' } })) as { job: JobSnapshot };
    const failed = await jobUntil(job.id, (j) => j.phase === 'finished');
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND' });
    const retryIn = Date.parse(failed.retryAt!) - Date.parse(failed.updatedAt);
    expect(retryIn).toBe(SCHEDULE_LIMITS.autoRetryDelayMs);

    // The relay stops (logout, update); meanwhile alice is backed up on the data dir directly.
    ws!.close();
    expect(await relay!.stop()).toBe(0);
    relay = undefined;
    const backup = await cli(['backup', '--account', 'alice', '--json', '--data-dir', dataDir], env);
    expect(backup.code, backup.stderr).toBe(0);
    relay = await RelayProcess.start(dataDir, 20_000, env);
    await connect();
    expect((await call('job.get', { jobId: job.id })).job).toMatchObject({ status: 'failed', retryAt: failed.retryAt });
    expect(await inbox(BOB)).toEqual([]);

    // Three hours and a minute later, nobody asking: the relay runs the restore again.
    setClock(SCHEDULE_LIMITS.autoRetryDelayMs + 60_000);
    await relay.waitForOutput(`job ${job.id}: automatic retry started`, 20_000);
    const done = await jobUntil(job.id, (j) => j.phase === 'finished' && (j.attempt ?? 0) === 1);
    expect(done).toMatchObject({ status: 'completed', attempt: 1, retryAt: null, outcome: { counts: { restored: 4 } } });
    const ids = await inbox(BOB);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    expect(ids.sort()).toEqual((await inbox(ALICE)).sort());
    expect(relay.stdout + relay.stderr).not.toContain(BOB.password);
  });

  it('job.cancel of a restore waiting for its retry: Cancelled, and no retry when its time comes', async () => {
    await connect();
    const { job } = (await call('job.start', { kind: 'restore', accountId: 'bob', idempotencyKey: 'restore-bob-from-nobody-1', params: { sourceAccountId: 'nobody' } })) as { job: JobSnapshot };
    const failed = await jobUntil(job.id, (j) => j.phase === 'finished');
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'NOT_FOUND' });
    expect(failed.retryAt).not.toBeNull();
    expect((await call('job.cancel', { jobId: job.id })).job).toMatchObject({ status: 'cancelled', errorCode: 'CANCELLED', retryAt: null });
    setClock(3 * SCHEDULE_LIMITS.autoRetryDelayMs);
    await relay!.waitForOutput(`test clock: wall clock offset ${3 * SCHEDULE_LIMITS.autoRetryDelayMs} ms, checked`, 20_000);
    const after = (await call('job.get', { jobId: job.id })).job as JobSnapshot;
    expect(after).toMatchObject({ status: 'cancelled', retryAt: null });
    expect(after.attempt ?? 0).toBe(0);
    expect(relay!.stdout).not.toContain(`job ${job.id}: automatic retry`);
  });

  it('a restore into a server that is down ends Connection Error, which waits for the user (lib/status: no automatic retry); with the server back, job.retry completes it, each message once', async () => {
    await connect();
    await proxy.down();
    const { job } = (await call('job.start', { kind: 'restore', accountId: 'carol', idempotencyKey: 'restore-carol-from-alice-1', params: { sourceAccountId: 'alice' } })) as { job: JobSnapshot };
    const down = await jobUntil(job.id, (j) => j.phase === 'finished', 90_000);
    expect(down).toMatchObject({ status: 'connection_error', errorCode: 'CONNECTION_REFUSED', retryAt: null });
    setClock(10 * SCHEDULE_LIMITS.autoRetryDelayMs);
    await relay!.waitForOutput(`test clock: wall clock offset ${10 * SCHEDULE_LIMITS.autoRetryDelayMs} ms, checked`, 20_000);
    expect((await call('job.get', { jobId: job.id })).job).toMatchObject({ status: 'connection_error' });
    await proxy.up();
    expect((await call('job.retry', { jobId: job.id })).job).toMatchObject({ id: job.id, status: 'on_queue', attempt: 1 });
    const done = await jobUntil(job.id, (j) => j.phase === 'finished');
    expect(done).toMatchObject({ status: 'completed', attempt: 1, outcome: { counts: { restored: 4 } } });
    const ids = await inbox(CAROL);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
    // A second Retry now of a Completed restore: refused by the state machine, nothing appended.
    const again = (await ws!.call('r-again', 'job.retry', { jobId: job.id })) as { type: string; code?: string };
    expect(again).toMatchObject({ type: 'error', code: 'ILLEGAL_TRANSITION' });
    expect(await inbox(CAROL)).toHaveLength(4);
  });
});
