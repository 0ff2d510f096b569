import fs from 'node:fs';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import type { AccountEvent } from '../../lib/protocol/account-state.ts';
import type { JobEvent } from '../../lib/protocol/common.ts';
import { connectRelay, type RelayConnection, type WebSocketLike } from '../../lib/protocol/relay-client.ts';
import { CredentialStore } from '../../relay/secrets/credential-store.ts';
import { TokenStore } from '../../relay/server/pairing.ts';
import { startRelayServer, type RelayServer } from '../../relay/server/relay-server.ts';
import { LocalToken, readLocalToken } from '../../relay/state/local-token.ts';
import { RelayState } from '../../relay/state/relay-state.ts';
import { tempDataDir } from './relay-harness.ts';

// The account-state contract on the wire, through the typed client the extension uses: what the
// extension's mirror receives (state.get, schedule.set, account events) is validated by its schemas.

const openSocket = (url: string): WebSocketLike => new WebSocket(url, { origin: EXTENSION_ORIGIN }) as unknown as WebSocketLike;
const account = { id: 'work', host: '127.0.0.1', port: 1, security: 'none', user: 'ada@example.org' } as const;

let dataDir: string;
let server: RelayServer;
let state: RelayState;
let c: RelayConnection;
const accountEvents: AccountEvent[] = [];
/** When set, backups wait for it: a backup that is still running. */
let hold: Promise<void> | undefined;
const jobEvents: JobEvent[] = [];

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  dataDir = tempDataDir();
  const credentials = CredentialStore.open(dataDir);
  state = new RelayState({
    dataDir,
    credentials,
    runners: {
      backup: async (ctx) => {
        ctx.setStatus('running');
        await hold;
        return { status: 'connection_error', errorCode: 'CONNECTION_REFUSED' };
      },
    },
  });
  state.start();
  server = await startRelayServer({
    dataDir,
    port: 0,
    tokens: new TokenStore(dataDir),
    jobs: state.jobs,
    credentials,
    state,
    localToken: LocalToken.create(dataDir),
    testConnection: () => Promise.resolve({ ok: true, capabilities: [] }),
    log: () => undefined,
  });
  // The command line's token (the paired extension's works the same way).
  c = await connectRelay({
    url: `ws://127.0.0.1:${server.port}/ws`,
    token: readLocalToken(dataDir)!,
    client: { name: 'wire-test', version: '0' },
    openSocket,
    onEvent: (e) => jobEvents.push(e),
    onAccountEvent: (e) => accountEvents.push(e),
  });
});

afterAll(async () => {
  c?.close();
  await server?.close();
  await state?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the account state on the wire', () => {
  it('account.upsert with a schedule answers with the account state and pushes account.changed', async () => {
    const r = await c.call('account.upsert', { account, password: 'pw-on-the-wire-1', schedule: { kind: 'daily', at: '02:00' } });
    expect(r).toMatchObject({ accountId: 'work', hasPassword: true, state: { schedule: { kind: 'daily', at: '02:00' }, status: null, nextRunAt: expect.any(String) } });
    await until(() => accountEvents.some((e) => e.event === 'account.changed'), 'account.changed');
    expect(JSON.stringify(accountEvents)).not.toContain('pw-on-the-wire-1');
  });

  it('schedule.set answers with the new state; state.get lists accounts, recent jobs, the relay time and zone', async () => {
    const set = await c.call('schedule.set', { accountId: 'work', schedule: { kind: 'every', hours: 12 } });
    expect(set.account).toMatchObject({ schedule: { kind: 'every', hours: 12 } });
    await c.call('job.start', { kind: 'backup', accountId: 'work', idempotencyKey: 'wire-backup-1', params: {} });
    await until(() => jobEvents.some((e) => e.event === 'status' && e.phase === 'finished'), 'the backup to finish');
    await until(() => accountEvents.some((e) => e.event === 'account.changed' && e.account.retryAt !== null), 'the retry to be owed');
    const snap = await c.call('state.get', {});
    expect(Date.parse(snap.relayTime)).not.toBeNaN();
    expect(snap.timeZone).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect(snap.accounts).toEqual([expect.objectContaining({ status: 'connection_error', retryAt: expect.any(String), latestBackup: expect.objectContaining({ idempotencyKey: 'wire-backup-1' }) })]);
    expect(snap.jobs.map((j) => j.idempotencyKey)).toEqual(['wire-backup-1']);
  });

  it('schedule.set of an unknown account is NOT_FOUND; account.delete pushes account.removed', async () => {
    await expect(c.call('schedule.set', { accountId: 'nobody', schedule: { kind: 'off' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await c.call('account.delete', { accountId: 'work' })).toEqual({ accountId: 'work', deleted: true });
    await until(() => accountEvents.some((e) => e.event === 'account.removed' && e.accountId === 'work'), 'account.removed');
    expect((await c.call('state.get', {})).accounts).toEqual([]);
  });

  it('every account state the relay sends is numbered in the order it was read (the pushes of a run, then a state.get), so a mirror can skip an earlier one that reaches it late', async () => {
    await c.call('account.upsert', { account, password: 'pw' });
    const from = accountEvents.length;
    let release: () => void = () => undefined;
    hold = new Promise((r) => (release = r));
    try {
      await c.call('job.start', { kind: 'backup', accountId: 'work', idempotencyKey: 'wire-numbered-1', params: {} });
      await until(() => accountEvents.slice(from).some((e) => e.event === 'account.changed' && e.account.status === 'running'), 'the run to show');
    } finally {
      release();
      hold = undefined;
    }
    await until(() => accountEvents.slice(from).some((e) => e.event === 'account.changed' && e.account.status === 'connection_error'), 'the run to end');
    const snap = await c.call('state.get', {});
    const pushed = accountEvents.slice(from).flatMap((e) => (e.event === 'account.changed' && e.account.account.id === 'work' ? [e.account.revision!] : []));
    const answered = snap.accounts.find((a) => a.account.id === 'work')!.revision!;
    const all = [...pushed, answered];
    expect(new Set(all.map((r) => r.instance)).size).toBe(1);
    for (let i = 1; i < all.length; i += 1) expect(all[i]!.seq).toBeGreaterThan(all[i - 1]!.seq);
  });

  it("a second backup of an account while one runs is refused with the running job's id, so a caller can wait for that one", async () => {
    await c.call('account.upsert', { account, password: 'pw' });
    let release: () => void = () => undefined;
    hold = new Promise((r) => (release = r));
    try {
      const first = await c.call('job.start', { kind: 'backup', accountId: 'work', idempotencyKey: 'wire-held-1', params: {} });
      await expect(c.call('job.start', { kind: 'backup', accountId: 'work', idempotencyKey: 'wire-held-2', params: {} })).rejects.toMatchObject({
        code: 'ARCHIVE_LOCKED',
        details: { jobId: first.job.id },
      });
    } finally {
      release();
      hold = undefined;
    }
  });
});
