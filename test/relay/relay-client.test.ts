import fs from 'node:fs';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import type { JobEvent } from '../../lib/protocol/common.ts';
import { connectRelay, pairWithRelay, relayHealth, type FetchLike, type WebSocketLike } from '../../lib/protocol/relay-client.ts';
import { CredentialStore } from '../../relay/secrets/credential-store.ts';
import { JobManager } from '../../relay/server/job-manager.ts';
import { createPairingCode, TokenStore } from '../../relay/server/pairing.ts';
import { startRelayServer, type RelayServer } from '../../relay/server/relay-server.ts';
import { freePort } from '../support/dovecot.ts';
import { tempDataDir } from './relay-harness.ts';

// The platform-free client of lib/protocol against the real server, with Node's sockets standing
// in for the service worker's: what Chromium sends (the extension Origin) is added explicitly.

const client = { name: 'client-test', version: '0' };
const openSocket = (url: string): WebSocketLike => new WebSocket(url, { origin: EXTENSION_ORIGIN }) as unknown as WebSocketLike;
const extensionFetch: FetchLike = (url, init) =>
  fetch(url, { ...init, headers: init.method === 'GET' ? init.headers : { ...init.headers, origin: EXTENSION_ORIGIN } });

let dataDir: string;
let server: RelayServer;
let base = '';
let releaseHang: () => void = () => undefined;

beforeAll(async () => {
  dataDir = tempDataDir();
  const credentials = CredentialStore.open(dataDir);
  const jobs = new JobManager({
    dataDir,
    accounts: credentials,
    runners: {
      backup: async (ctx) => {
        ctx.setStatus('running');
        ctx.reportProgress({ folder: 'INBOX', messagesDone: 1, bytes: 10 });
      },
    },
  });
  server = await startRelayServer({
    dataDir,
    port: 0,
    tokens: new TokenStore(dataDir),
    jobs,
    credentials,
    testConnection: (account) =>
      account.host === 'hang.example'
        ? new Promise((r) => (releaseHang = () => r({ ok: true, capabilities: [] })))
        : Promise.resolve({ ok: false, errorCode: 'AUTH_FAILED', message: 'no' }),
    log: () => undefined,
  });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  releaseHang();
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('relay client (lib/protocol)', () => {
  it('pairs, connects, saves an account, starts a job and receives its events', async () => {
    expect(await relayHealth(base, extensionFetch)).toMatchObject({ paired: false });
    const { token } = await pairWithRelay(base, createPairingCode(dataDir), client, extensionFetch);
    const events: JobEvent[] = [];
    const conn = await connectRelay({ url: `ws://127.0.0.1:${server.port}/ws`, token, client, openSocket, onEvent: (e) => events.push(e) });
    expect(conn.version).toBe(1);
    const saved = await conn.call('account.upsert', { account: { id: 'a', host: 'h', port: 143, security: 'none', user: 'u' }, password: 'pw' });
    expect(saved).toEqual({ accountId: 'a', hasPassword: true });
    expect(await conn.call('account.test', { accountId: 'a' })).toMatchObject({ ok: false, errorCode: 'AUTH_FAILED' });
    const { job, created } = await conn.call('job.start', { kind: 'backup', accountId: 'a', idempotencyKey: 'client-key-1' });
    expect(created).toBe(true);
    const deadline = Date.now() + 5_000;
    while (!events.some((e) => e.event === 'status' && e.jobId === job.id && e.phase === 'finished') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(events.map((e) => (e.event === 'status' ? e.status : 'progress'))).toEqual(['preparing', 'running', 'progress', 'completed']);
    expect((await conn.call('job.list', {})).jobs).toHaveLength(1);
    await expect(conn.call('job.get', { jobId: 'j_nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    conn.close();
    expect(await conn.closed).toBe(1000);
  });

  it('a wrong token is refused with UNAUTHORIZED, a wrong code with PAIRING_FAILED', async () => {
    await expect(connectRelay({ url: `ws://127.0.0.1:${server.port}/ws`, token: 'mk1_wrong', client, openSocket })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await expect(pairWithRelay(base, 'ZZZZ-ZZZZ', client, extensionFetch)).rejects.toMatchObject({ code: 'PAIRING_FAILED' });
  });

  it('a relay that is not running is RELAY_UNREACHABLE', async () => {
    const port = await freePort();
    await expect(relayHealth(`http://127.0.0.1:${port}`, extensionFetch)).rejects.toMatchObject({ code: 'RELAY_UNREACHABLE' });
    await expect(connectRelay({ url: `ws://127.0.0.1:${port}/ws`, token: 'x', client, openSocket })).rejects.toMatchObject({
      code: 'RELAY_UNREACHABLE',
    });
  });

  it('a request the relay does not answer in time rejects with CONNECTION_TIMEOUT', async () => {
    const { token } = await pairWithRelay(base, createPairingCode(dataDir), client, extensionFetch);
    const conn = await connectRelay({ url: `ws://127.0.0.1:${server.port}/ws`, token, client, openSocket });
    const hanging = conn.call('account.test', { account: { id: 'h', host: 'hang.example', port: 1, security: 'none', user: 'u' }, password: 'p' }, 200);
    await expect(hanging).rejects.toMatchObject({ code: 'CONNECTION_TIMEOUT' });
    releaseHang();
    conn.close();
  });
});
