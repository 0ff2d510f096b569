import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { CredentialStore } from '../../relay/secrets/credential-store.ts';
import { FailureLimiter } from '../../relay/server/failure-limiter.ts';
import { JobManager } from '../../relay/server/job-manager.ts';
import { createPairingCode, TokenStore } from '../../relay/server/pairing.ts';
import { startRelayServer, type RelayServer } from '../../relay/server/relay-server.ts';
import { helloClient, jsonPost, request, tempDataDir, WsClient } from './relay-harness.ts';

// Fast, in-process checks of every door rule. The spawned-process versions of the main ones are
// in relay-process.test.ts.

let dataDir: string;
let server: RelayServer;
let tokens: TokenStore;
let limiter: FailureLimiter;
let runs = 0;
const port = () => server.port;

beforeAll(async () => {
  dataDir = tempDataDir();
  const credentials = CredentialStore.open(dataDir);
  tokens = new TokenStore(dataDir);
  limiter = new FailureLimiter();
  const jobs = new JobManager({
    dataDir,
    accounts: credentials,
    runners: {
      backup: async () => {
        runs += 1;
      },
    },
  });
  server = await startRelayServer({
    dataDir,
    port: 0,
    tokens,
    limiter,
    jobs,
    credentials,
    testConnection: async () => ({ ok: true, capabilities: ['IMAP4rev1'] }),
    log: () => undefined,
    timeouts: { headersMs: 400, requestMs: 800, helloMs: 300 },
  });
});

afterAll(async () => {
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Pairs through the real endpoint and returns the token. */
async function pair(): Promise<string> {
  const code = createPairingCode(dataDir);
  const res = await jsonPost(port(), '/pair', { code });
  expect(res.status).toBe(200);
  return (JSON.parse(res.body) as { token: string }).token;
}

function resetLimiter(): void {
  // A fresh window: the limiter is shared by the whole server, as in production.
  (limiter as unknown as { failures: number[] }).failures = [];
}

describe('the relay door (in process)', () => {
  it('listens on 127.0.0.1 only: the same port on another local address refuses the connection', async () => {
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal)
      .map((i) => i!.address);
    for (const address of [...others, '127.0.0.2']) {
      const refused = await new Promise<boolean>((resolve) => {
        const sock = net.connect({ host: address, port: port(), timeout: 2_000 });
        sock.once('connect', () => {
          sock.destroy();
          resolve(false);
        });
        sock.once('error', () => resolve(true));
        sock.once('timeout', () => {
          sock.destroy();
          resolve(true);
        });
      });
      expect(refused, address).toBe(true);
    }
  });

  it('a request with a foreign Host header is refused with 421', async () => {
    const res = await request(port(), { headers: { host: `evil.example:${port()}` } });
    expect(res.status).toBe(421);
    const rebind = await request(port(), { headers: { host: `127.0.0.1:${port() + 1}` } });
    expect(rebind.status).toBe(421);
  });

  it('a request with Host localhost:port is served', async () => {
    const res = await request(port(), { headers: { host: `localhost:${port()}` } });
    expect(res.status).toBe(200);
  });

  it('a GET without Origin is served, because Chromium drops it with host permissions', async () => {
    const res = await request(port(), { path: '/health' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ name: 'mailkeep-relay', protocolVersions: [1] });
  });

  it('a GET from a web origin is refused with 403', async () => {
    const res = await request(port(), { headers: { origin: 'http://127.0.0.1:8080' } });
    expect(res.status).toBe(403);
  });

  it('a POST with a web Origin, Origin null or no Origin is refused with 403 and pairs nothing', async () => {
    const code = createPairingCode(dataDir);
    for (const origin of ['https://evil.example', 'null', 'chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', undefined]) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (origin !== undefined) headers.origin = origin;
      const res = await request(port(), { method: 'POST', path: '/pair', headers, body: JSON.stringify({ code }) });
      expect(res.status, String(origin)).toBe(403);
    }
    // The code was never consumed: the real extension can still use it.
    expect((await jsonPost(port(), '/pair', { code })).status).toBe(200);
  });

  it('no response carries CORS headers, and a preflight gets 405', async () => {
    const pre = await request(port(), {
      method: 'OPTIONS',
      path: '/pair',
      headers: { origin: EXTENSION_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(405);
    for (const res of [pre, await request(port(), {}), await jsonPost(port(), '/pair', { code: 'XXXX-XXXX' })]) {
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
    resetLimiter();
  });

  it('a POST that is not application/json is refused with 415', async () => {
    const res = await request(port(), {
      method: 'POST',
      path: '/pair',
      headers: { origin: EXTENSION_ORIGIN, 'content-type': 'text/plain' },
      body: JSON.stringify({ code: 'ABCD-EFGH' }),
    });
    expect(res.status).toBe(415);
  });

  it('an oversized body is refused with 413', async () => {
    const big = JSON.stringify({ code: 'x'.repeat(DOOR_LIMITS.relayMaxBodyBytes + 10) });
    const res = await jsonPost(port(), '/pair', JSON.parse(big));
    expect(res.status).toBe(413);
  });

  it('a pairing code works once and its token opens the door; the second use fails', async () => {
    const code = createPairingCode(dataDir);
    const first = await jsonPost(port(), '/pair', { code: code.toLowerCase() });
    expect(first.status).toBe(200);
    const { token } = JSON.parse(first.body) as { token: string };
    expect(token.length).toBeGreaterThanOrEqual(40);
    const again = await jsonPost(port(), '/pair', { code });
    expect(again.status).toBe(403);
    expect(JSON.parse(again.body).error.code).toBe('PAIRING_FAILED');
    // Only a digest is stored.
    expect(fs.readFileSync(path.join(dataDir, 'auth.json'), 'utf8')).not.toContain(token);
    const rpc = await jsonPost(port(), '/rpc', { type: 'request', id: 'a', method: 'job.list', params: {} }, { authorization: `Bearer ${token}` });
    expect(rpc.status).toBe(200);
    expect(JSON.parse(rpc.body)).toMatchObject({ type: 'result', id: 'a', result: { jobs: [] } });
    resetLimiter();
  });

  it('an RPC without a token or with a wrong one is refused with 401 and runs nothing', async () => {
    await pair();
    const body = { type: 'request', id: 'a', method: 'account.upsert', params: { account: { id: 'x', host: 'h', port: 143, security: 'none', user: 'u' }, password: 'p' } };
    expect((await jsonPost(port(), '/rpc', body)).status).toBe(401);
    expect((await jsonPost(port(), '/rpc', body, { authorization: 'Bearer mk1_wrong' })).status).toBe(401);
    expect(CredentialStore.open(dataDir).has('x')).toBe(false);
    resetLimiter();
  });

  it('after five failures in a minute even the right token gets 429', async () => {
    const token = await pair();
    resetLimiter();
    const list = { type: 'request', id: 'a', method: 'job.list', params: {} };
    for (let i = 0; i < DOOR_LIMITS.authFailuresPerWindow; i++) {
      expect((await jsonPost(port(), '/rpc', list, { authorization: `Bearer wrong${i}` })).status).toBe(401);
    }
    const blocked = await jsonPost(port(), '/rpc', list, { authorization: `Bearer ${token}` });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await jsonPost(port(), '/pair', { code: 'AAAA-AAAA' })).status).toBe(429);
    await expect(WsClient.open(port(), { origin: EXTENSION_ORIGIN })).rejects.toMatchObject({ status: 429 });
    resetLimiter();
    expect((await jsonPost(port(), '/rpc', list, { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('a WebSocket upgrade from a web origin, Origin null or without Origin is refused with 403', async () => {
    for (const origin of ['https://evil.example', 'null', undefined]) {
      await expect(WsClient.open(port(), origin === undefined ? {} : { origin })).rejects.toMatchObject({ status: 403 });
    }
  });

  it('a WebSocket upgrade with a foreign Host header is refused with 421', async () => {
    await expect(WsClient.open(port(), { origin: EXTENSION_ORIGIN, headers: { host: 'rebind.example' } })).rejects.toMatchObject({
      status: 421,
    });
  });

  it('a WebSocket whose first frame has a wrong token gets UNAUTHORIZED and is closed with 4401', async () => {
    await pair();
    const c = await WsClient.open(port(), { origin: EXTENSION_ORIGIN });
    c.send({ type: 'hello', versions: [1], token: 'mk1_not-the-token', client: { name: 't', version: '0' } });
    const err = await c.waitFor((f) => f.type === 'error');
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', id: null });
    expect(await c.waitClosed()).toBe(4401);
    resetLimiter();
  });

  it('frames sent right behind a refused hello are not read, even one with the right token', async () => {
    const token = await pair();
    const c = await WsClient.open(port(), { origin: EXTENSION_ORIGIN });
    c.send({ type: 'hello', versions: [1], token: 'mk1_wrong-first', client: { name: 't', version: '0' } });
    c.send({ type: 'hello', versions: [1], token, client: { name: 't', version: '0' } });
    c.send({ type: 'request', id: 'sneak', method: 'job.list', params: {} });
    expect(await c.waitClosed()).toBe(4401);
    expect(c.frames.map((f) => f.type)).toEqual(['error']);
    resetLimiter();
  });

  it('a WebSocket whose first frame is a request, not hello, is closed with 4400', async () => {
    const c = await WsClient.open(port(), { origin: EXTENSION_ORIGIN });
    c.send({ type: 'request', id: 'a', method: 'job.list', params: {} });
    expect(await c.waitClosed()).toBe(4400);
    expect(c.frames.some((f) => f.type === 'result')).toBe(false);
  });

  it('a client with no shared protocol version gets PROTOCOL_MISMATCH', async () => {
    const token = await pair();
    const c = await WsClient.open(port(), { origin: EXTENSION_ORIGIN });
    c.send({ type: 'hello', versions: [99], token, client: { name: 't', version: '0' } });
    expect(await c.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'PROTOCOL_MISMATCH', details: { supported: [1] } });
    expect(await c.waitClosed()).toBe(4426);
  });

  it('unknown or invalid messages get a typed error frame and the socket stays usable', async () => {
    const c = await helloClient(port(), await pair());
    expect(await c.call('u1', 'account.dump', {})).toMatchObject({ type: 'error', id: 'u1', code: 'INVALID_INPUT' });
    c.send('this is not json');
    expect(await c.waitFor((f) => f.type === 'error' && f.id === null)).toMatchObject({ code: 'INVALID_INPUT' });
    c.send({ type: 'shell', id: 'u2' });
    expect(await c.waitFor((f) => f.type === 'error' && f.id === 'u2')).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await c.call('u3', 'job.get', { jobId: 'j_missing' })).toMatchObject({ type: 'error', code: 'NOT_FOUND' });
    expect(await c.call('u4', 'job.list', {})).toMatchObject({ type: 'result', id: 'u4' });
    c.close();
  });

  it('an account password is accepted once and never sent back', async () => {
    const c = await helloClient(port(), await pair());
    const secret = 'pw-in-process-7f3a9c';
    const res = await c.call('p1', 'account.upsert', {
      account: { id: 'acct', host: '127.0.0.1', port: 1, security: 'none', user: 'ada' },
      password: secret,
    });
    expect(res).toMatchObject({ type: 'result', result: { accountId: 'acct', hasPassword: true } });
    expect(await c.call('p2', 'account.test', { accountId: 'acct' })).toMatchObject({ result: { ok: true } });
    expect(await c.call('p2b', 'account.list', {})).toMatchObject({
      result: { accounts: [{ account: { id: 'acct', user: 'ada' }, hasPassword: true }] },
    });
    const started = await c.call('p3', 'job.start', { kind: 'backup', accountId: 'acct', idempotencyKey: 'door-test-1' });
    expect(started).toMatchObject({ type: 'result', result: { created: true } });
    await c.waitFor((f) => f.type === 'event' && f.data.event === 'status' && f.data.phase === 'finished');
    expect(runs).toBe(1);
    expect(JSON.stringify(c.frames)).not.toContain(secret);
    c.close();
  });

  it('a client that sends its headers too slowly is cut off by the header deadline', async () => {
    const sock = net.connect({ host: '127.0.0.1', port: port() });
    await new Promise((r) => sock.once('connect', r));
    sock.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port()}\r\n`); // never finishes the headers
    let reply = '';
    sock.on('data', (d) => (reply += d.toString()));
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const t0 = Date.now();
      const guard = setTimeout(() => reject(new Error('socket still open after 5 s')), 5_000);
      sock.once('close', () => {
        clearTimeout(guard);
        resolve(Date.now() - t0);
      });
    });
    expect(closedAfter).toBeLessThan(5_000);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a WebSocket that does not say hello in time is closed with 4408', async () => {
    const c = await WsClient.open(port(), { origin: EXTENSION_ORIGIN });
    expect(await c.waitClosed()).toBe(4408);
  });
});
