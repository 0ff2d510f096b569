import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { processStartTime } from '../../relay/lock/lock-file.ts';
import { freePort } from '../support/dovecot.ts';
import { helloClient, jsonPost, RelayProcess, request, runCli, tempDataDir, WsClient } from './relay-harness.ts';

// The door against the real relay process, started as a person starts it. One relay serves the
// file in order; the rate-limit test poisons its door for a minute, so it comes last before SIGTERM.

const PASSWORD = 'Pw-never-leaks-5d8e2b91';
let dataDir: string;
let relay: RelayProcess;
let token = '';

beforeAll(async () => {
  dataDir = tempDataDir();
  relay = await RelayProcess.start(dataDir);
});

afterAll(async () => {
  await relay?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Every file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

describe('the relay process', () => {
  it('prints where it listens and a one-time pairing code, and writes a private lock file', () => {
    expect(relay.port).toBeGreaterThan(0);
    expect(relay.pairingCode).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    // Owner by pid and start time (a reused pid is not the owner), plus the port for `mailkeep pair`.
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'relay.lock'), 'utf8'))).toEqual({ pid: relay.child.pid, start: processStartTime(relay.child.pid!), port: relay.port });
    expect((fs.statSync(dataDir).mode & 0o777).toString(8)).toBe('700');
  });

  it('a request with a foreign Host header is refused with 421', async () => {
    expect((await request(relay.port, { headers: { host: `attacker.example:${relay.port}` } })).status).toBe(421);
  });

  it('a POST from a web origin or Origin null is refused with 403', async () => {
    for (const origin of ['http://127.0.0.1:3000', 'null']) {
      const res = await jsonPost(relay.port, '/pair', { code: relay.pairingCode }, { origin });
      expect(res.status, origin).toBe(403);
    }
  });

  it('a WebSocket upgrade from a web origin is refused with 403', async () => {
    await expect(WsClient.open(relay.port, { origin: 'https://evil.example' })).rejects.toMatchObject({ status: 403 });
  });

  it('the printed pairing code gives a token that opens the WebSocket', async () => {
    const res = await jsonPost(relay.port, '/pair', { code: relay.pairingCode });
    expect(res.status).toBe(200);
    token = (JSON.parse(res.body) as { token: string }).token;
    const c = await helloClient(relay.port, token);
    expect(c.frames[0]).toMatchObject({ type: 'welcome', version: 1 });
    c.close();
    expect(JSON.parse((await request(relay.port, { path: '/health' })).body)).toMatchObject({ paired: true });
  });

  it('`mailkeep pair` prints a fresh code that the running relay accepts once', async () => {
    const out = await runCli(['pair', '--data-dir', dataDir]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`pid ${relay.child.pid}`);
    const code = /Pairing code: ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(out.stdout)?.[1];
    expect(code).toBeDefined();
    const res = await jsonPost(relay.port, '/pair', { code });
    expect(res.status).toBe(200);
    token = (JSON.parse(res.body) as { token: string }).token; // pairing again replaces the token
    expect((await jsonPost(relay.port, '/pair', { code })).status).toBe(403);
  });

  it('`mailkeep pair` with no relay running says so, exits 1 and prints no code that could never work', async () => {
    const dir = tempDataDir();
    try {
      const out = await runCli(['pair', '--data-dir', dir]);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain('error RELAY_UNREACHABLE: no relay is running');
      expect(out.stdout).not.toContain('Pairing code');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a second relay on the same data dir says so and exits non-zero', async () => {
    const second = await runCli(['relay', '--port', '0', '--data-dir', dataDir]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`already running for ${dataDir} (pid ${relay.child.pid}`);
  });

  it('a relay whose port is taken says so, exits non-zero and leaves no lock behind', async () => {
    const dir = tempDataDir();
    try {
      const taken = await runCli(['relay', '--port', String(relay.port), '--data-dir', dir]);
      expect(taken.code).toBe(1);
      expect(taken.stderr).toMatch(/EADDRINUSE|in use/);
      expect(fs.existsSync(path.join(dir, 'relay.lock'))).toBe(false);
      const bad = await runCli(['relay', '--port', 'seventy', '--data-dir', dir]);
      expect(bad.code).toBe(2); // bad usage, as for every mailkeep command
      expect(bad.stderr).toContain('error INVALID_INPUT: bad port');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the password is sent once, tested with a real login, and appears nowhere in the data dir or the output', async () => {
    const c = await helloClient(relay.port, token);
    const closedPort = await freePort();
    const saved = await c.call('a1', 'account.upsert', {
      account: { id: 'work', host: '127.0.0.1', port: closedPort, security: 'none', user: 'ada' },
      password: PASSWORD,
    });
    expect(saved).toMatchObject({ type: 'result', result: { accountId: 'work', hasPassword: true } });
    // A real imapflow login through relay/imap: nothing listens there, classified as refused.
    const tested = await c.call('a2', 'account.test', { accountId: 'work' });
    expect(tested).toMatchObject({ type: 'result', result: { ok: false, errorCode: 'CONNECTION_REFUSED' } });
    c.close();
    expect(JSON.stringify(c.frames)).not.toContain(PASSWORD);
    for (const file of filesUnder(dataDir)) {
      expect(fs.readFileSync(file).includes(Buffer.from(PASSWORD)), file).toBe(false);
    }
    expect(relay.stdout + relay.stderr).not.toContain(PASSWORD);
    expect(relay.stdout + relay.stderr).not.toContain(token);
  });

  it('a wrong token is refused with 401, and after five failures even the right token gets 429', async () => {
    const list = { type: 'request', id: 'l', method: 'job.list', params: {} };
    expect((await jsonPost(relay.port, '/rpc', list, { authorization: `Bearer ${token}` })).status).toBe(200);
    const bad = await WsClient.open(relay.port, { origin: EXTENSION_ORIGIN });
    bad.send({ type: 'hello', versions: [1], token: 'mk1_wrong', client: { name: 't', version: '0' } });
    expect(await bad.waitClosed()).toBe(4401);
    // Earlier tests already spent one failure (the reused pairing code): the window holds five.
    const statuses: number[] = [];
    for (let i = 0; i < DOOR_LIMITS.authFailuresPerWindow + 1 && !statuses.includes(429); i++) {
      statuses.push((await jsonPost(relay.port, '/rpc', list, { authorization: `Bearer mk1_wrong${i}` })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await jsonPost(relay.port, '/rpc', list, { authorization: `Bearer ${token}` })).status).toBe(429);
  });

  it('SIGTERM closes sockets, removes the lock and exits 0', async () => {
    // The first relay's door is rate-limited now: a fresh relay shows shutdown with a live socket.
    const dir = tempDataDir();
    const r = await RelayProcess.start(dir);
    try {
      const pairRes = await jsonPost(r.port, '/pair', { code: r.pairingCode });
      const c = await helloClient(r.port, (JSON.parse(pairRes.body) as { token: string }).token);
      expect(await r.stop()).toBe(0);
      expect(await c.waitClosed()).toBe(1001);
      expect(fs.existsSync(path.join(dir, 'relay.lock'))).toBe(false);
      expect(r.stdout).toContain('stopped');
    } finally {
      await r.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a battery of hostile requests is refused, each with no side effect, and the refusals are counted', async () => {
    const dir = tempDataDir();
    const r = await RelayProcess.start(dir);
    try {
      const token = (JSON.parse((await jsonPost(r.port, '/pair', { code: r.pairingCode })).body) as { token: string }).token;
      const c = await helloClient(r.port, token);
      await c.call('s', 'account.upsert', { account: { id: 'victim', host: '127.0.0.1', port: 1, security: 'none', user: 'v' }, password: PASSWORD });
      c.close();
      const snapshot = (): string =>
        filesUnder(dir)
          .filter((f) => !f.endsWith('relay.lock'))
          .sort()
          .map((f) => `${path.relative(dir, f)}:${createHash('sha256').update(fs.readFileSync(f)).digest('hex')}`)
          .join('\n');
      const before = snapshot();
      const start = { type: 'request', id: 'x', method: 'job.start', params: { kind: 'backup', accountId: 'victim', idempotencyKey: 'hostile-1' } };
      const upsert = { type: 'request', id: 'y', method: 'account.upsert', params: { account: { id: 'evil', host: 'evil.example', port: 143, security: 'none', user: 'e' } } };
      const attempts: Array<[string, () => Promise<number>]> = [
        ['no token', async () => (await jsonPost(r.port, '/rpc', start)).status],
        ['wrong token', async () => (await jsonPost(r.port, '/rpc', upsert, { authorization: 'Bearer mk1_guess' })).status],
        ['http:// Origin', async () => (await jsonPost(r.port, '/rpc', start, { origin: 'http://localhost:8000', authorization: `Bearer ${token}` })).status],
        ['Origin null', async () => (await jsonPost(r.port, '/rpc', start, { origin: 'null', authorization: `Bearer ${token}` })).status],
        ['foreign Host', async () => (await jsonPost(r.port, '/rpc', start, { host: 'rebind.attacker.example', authorization: `Bearer ${token}` })).status],
        ['text/plain POST', async () => (await request(r.port, { method: 'POST', path: '/rpc', headers: { origin: EXTENSION_ORIGIN, authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: JSON.stringify(start) })).status],
        ['CORS preflight', async () => (await request(r.port, { method: 'OPTIONS', path: '/rpc', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })).status],
        ['oversized body', async () => (await request(r.port, { method: 'POST', path: '/rpc', headers: { origin: EXTENSION_ORIGIN, authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...start, pad: 'x'.repeat(DOOR_LIMITS.relayMaxBodyBytes) }) })).status],
        ['WebSocket from a web page', () => WsClient.open(r.port, { origin: 'http://127.0.0.1:9999' }).then(() => 101, (e: { status?: number }) => e.status ?? 0)],
        ['WebSocket with a wrong token', async () => {
          const ws = await WsClient.open(r.port, { origin: EXTENSION_ORIGIN });
          ws.send({ type: 'hello', versions: [1], token: 'mk1_guess2', client: { name: 'x', version: '0' } });
          return ws.waitClosed();
        }],
      ];
      const refused: string[] = [];
      for (const [name, attempt] of attempts) {
        const status = await attempt();
        expect(status, name).not.toBe(200);
        expect(status, name).not.toBe(101);
        refused.push(`${name} -> ${status}`);
      }
      expect(snapshot()).toBe(before); // no job, no account, no file changed
      console.log(`hostile requests refused: ${refused.length} of ${attempts.length}\n  ${refused.join('\n  ')}`);
      expect(refused).toHaveLength(attempts.length);
    } finally {
      await r.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
