import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import { NativeHostReply, type NativeConnectedReply } from '../../lib/protocol/native-host.ts';
import { isZombie, pidAlive, runningRelay } from '../../relay/lock/lock-file.ts';
import { encodeNativeMessage, readNativeMessages } from '../../relay/service/native-messaging.ts';
import { relayAnswers } from '../../relay/service/relay-launch.ts';
import { registerNativeHostInProfile } from '../support/native-host-profile.ts';
import { helloClient, jsonPost, RelayProcess, ROOT, waitFor } from './relay-harness.ts';

// The native-messaging host spoken to over stdio as a browser does: the launcher `mailkeep install`
// wrote is run with the caller origin as its argument, in a process group of its own that stands
// for the browser's. Real processes throughout: host, relay, door.

const homes: string[] = [];
let home = '';
let dataDir = '';
let launcher = '';

function envFor(h: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: h, XDG_CONFIG_HOME: path.join(h, '.config') };
  delete env.MAILKEEP_DATA_DIR;
  delete env.XDG_RUNTIME_DIR;
  return env;
}

async function install(h: string, port: number): Promise<void> {
  fs.mkdirSync(path.join(h, '.config/chromium'), { recursive: true });
  const p = RelayProcess.spawn(['install', '--no-start', '--port', String(port)], { env: envFor(h) });
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 60_000);
  const code = await p.exit;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`install failed: ${p.stderr}`);
}

function newHome(): string {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-nhost-'));
  homes.push(h);
  return h;
}

/** A browser's side of one native port. */
class Port {
  readonly child: ChildProcess;
  readonly replies: NativeHostReply[] = [];
  readonly exit: Promise<number | null>;
  stderr = '';
  private waiters: Array<() => void> = [];

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    // detached: its own process group, standing for the browser's.
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env, detached: true });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exit = new Promise((resolve) => child.on('close', (code) => resolve(code)));
    void (async () => {
      try {
        for await (const r of readNativeMessages(child.stdout!, { maxBytes: 1024 * 1024 })) {
          if (r.kind === 'message') this.replies.push(NativeHostReply.parse(r.value));
          for (const w of this.waiters.splice(0)) w();
        }
      } catch {
        /* the host went away mid-frame: the test sees it as a missing reply */
      }
    })();
  }

  static launch(args: string[] = [`${EXTENSION_ORIGIN}/`]): Port {
    return new Port(launcher, args, envFor(home));
  }

  send(message: unknown): void {
    this.child.stdin!.write(encodeNativeMessage(message));
  }

  async reply(n: number, timeoutMs = 30_000): Promise<NativeHostReply> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < n) {
      if (Date.now() > deadline) throw new Error(`no reply ${n} in time; stderr: ${this.stderr.slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.replies[n - 1]!;
  }

  async close(): Promise<number | null> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }
}

function connected(r: NativeHostReply): NativeConnectedReply {
  if (r.type !== 'connected') throw new Error(`expected connected, got ${JSON.stringify(r)}`);
  return r;
}

async function tokenFor(r: NativeConnectedReply): Promise<string> {
  const res = await jsonPost(r.port, '/pair', { code: r.pairing!.code });
  expect(res.status).toBe(200);
  return (JSON.parse(res.body) as { token: string }).token;
}

/** /proc/<pid>/stat: process group and session. */
function groupAndSession(pid: number): { pgrp: number; session: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pgrp: Number(f[2]), session: Number(f[3]) };
}

beforeAll(async () => {
  home = newHome();
  await install(home, 0);
  dataDir = path.join(home, '.mailkeep');
  launcher = path.join(dataDir, 'native-host', 'mailkeep-native-host');
});

afterAll(async () => {
  for (const h of homes) {
    const r = runningRelay(path.join(h, '.mailkeep'));
    if (r) {
      process.kill(r.pid, 'SIGTERM');
      await waitFor('the relay to stop', () => (pidAlive(r.pid) ? undefined : true)).catch(() => process.kill(r.pid, 'SIGKILL'));
    }
    fs.rmSync(h, { recursive: true, force: true });
  }
});

describe('mailkeep native-host, spoken to over stdio', () => {
  let relayPid = 0;

  it('with no relay running, connect starts one and returns a code the door exchanges for a working token', async () => {
    expect(runningRelay(dataDir)).toBeUndefined();
    const port = Port.launch();
    port.send({ type: 'connect', id: 'first' });
    const r = connected(await port.reply(1));
    expect(r).toMatchObject({ id: 'first', version: 1, startedBy: 'spawned', url: `http://127.0.0.1:${r.port}` });
    expect(r.pairing!.code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    relayPid = runningRelay(dataDir)!.pid;
    expect(relayPid).not.toBe(port.child.pid);
    const token = await tokenFor(r);
    const ws = await helloClient(r.port, token);
    expect(ws.frames[0]).toMatchObject({ type: 'welcome' });
    ws.close();
    // A second connect on the same port: the relay is found, and a fresh code works too.
    port.send({ type: 'connect', id: 'second' });
    const again = connected(await port.reply(2));
    expect(again).toMatchObject({ id: 'second', startedBy: 'already-running', port: r.port });
    expect(again.pairing!.code).not.toBe(r.pairing!.code);
    const token2 = await tokenFor(again);
    expect((await helloClient(r.port, token2)).frames[0]).toMatchObject({ type: 'welcome' });
    // `pair: false` only locates the relay and mints nothing.
    port.send({ type: 'connect', id: 'third', pair: false });
    expect(await port.reply(3)).not.toHaveProperty('pairing');
    // stdin closed (port.disconnect(), browser exit): the host exits 0.
    expect(await port.close()).toBe(0);
    expect(pidAlive(relayPid)).toBe(true);
  });

  it('the relay it started runs in its own session and survives the kill of the host\'s process group', async () => {
    expect(groupAndSession(relayPid)).toEqual({ pgrp: relayPid, session: relayPid }); // setsid
    const port = Port.launch();
    port.send({ type: 'connect', pair: false });
    const r = connected(await port.reply(1));
    expect(groupAndSession(port.child.pid!).pgrp).toBe(port.child.pid);
    process.kill(-port.child.pid!, 'SIGKILL'); // the whole "browser" group, as a crash or logout would
    await port.exit;
    expect(pidAlive(relayPid)).toBe(true);
    expect(await relayAnswers(r.port)).toBe(true);
    // The log says who started it and never holds a code or token.
    const log = fs.readFileSync(path.join(dataDir, 'relay.log'), 'utf8');
    expect(log).toContain(`[native-host] connect from ${EXTENSION_ORIGIN}/: relay on port ${r.port} (spawned)`);
    expect(log).not.toMatch(/[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}/);
    expect(log).not.toContain('mk1_');
  });

  it('SIGHUP to the relay: it keeps running and reopens its log by name', async () => {
    const log = path.join(dataDir, 'relay.log');
    fs.renameSync(log, `${log}.moved`);
    process.kill(relayPid, 'SIGHUP');
    const text = await waitFor('the reopened log', () => {
      const t = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
      return t.includes('SIGHUP: log reopened') ? t : undefined;
    });
    expect(text).toContain('still running');
    expect(pidAlive(relayPid)).toBe(true);
    expect(await relayAnswers(runningRelay(dataDir)!.port!)).toBe(true);
  });

  it('a relay killed with SIGKILL leaves relay.lock behind; the next connect takes it over and starts a new relay', async () => {
    process.kill(relayPid, 'SIGKILL');
    await waitFor('the relay to die', () => (pidAlive(relayPid) && !isZombie(relayPid) ? undefined : true));
    expect(fs.existsSync(path.join(dataDir, 'relay.lock'))).toBe(true);
    const port = Port.launch();
    port.send({ type: 'connect', id: 'x' });
    const r = connected(await port.reply(1));
    expect(r.startedBy).toBe('spawned');
    const now = runningRelay(dataDir)!;
    expect(now.pid).not.toBe(relayPid);
    expect(now.port).toBe(r.port);
    await tokenFor(r);
    relayPid = now.pid;
    expect(await port.close()).toBe(0);
  });

  it('a browser that goes away before the reply (stdout closed) ends the host quietly, exit 0', async () => {
    const port = Port.launch();
    port.child.stdout!.destroy();
    port.send({ type: 'connect', pair: false });
    const timer = setTimeout(() => port.child.kill('SIGKILL'), 20_000);
    expect(await port.exit).toBe(0);
    clearTimeout(timer);
    expect(port.stderr).not.toMatch(/Error|EPIPE/);
  });

  it('a caller that is not the pinned extension is refused with NATIVE_CALLER_REFUSED and nothing is started', async () => {
    const other = newHome();
    const otherData = path.join(other, '.mailkeep');
    const cases = [['chrome-extension://abcdefghijklmnopabcdefghijklmnop/'], ['/x/org.mailkeep.relay.json', 'evil@example.com'], []];
    for (const args of cases) {
      const port = new Port(process.execPath, [path.join(ROOT, 'bin/mailkeep.js'), 'native-host', '--data-dir', otherData, ...args], envFor(other));
      port.send({ type: 'connect', id: 'c' });
      expect(await port.reply(1), args.join(' ')).toMatchObject({ type: 'error', id: 'c', code: 'NATIVE_CALLER_REFUSED' });
      expect(await port.close()).toBe(0);
    }
    expect(runningRelay(otherData)).toBeUndefined();
  });

  it('an unknown or unreadable message gets INVALID_INPUT and the host keeps answering; an oversized one ends it with exit 1', async () => {
    const port = Port.launch();
    port.send({ type: 'launch-missiles', id: 'm' });
    expect(await port.reply(1)).toMatchObject({ type: 'error', id: 'm', code: 'INVALID_INPUT' });
    const bad = Buffer.from('{not json', 'utf8');
    const head = Buffer.alloc(4);
    head.writeUInt32LE(bad.length); // this machine is little-endian (x86, arm64 Linux)
    port.child.stdin!.write(Buffer.concat([head, bad]));
    expect(await port.reply(2)).toMatchObject({ type: 'error', id: null, code: 'INVALID_INPUT' });
    port.send({ type: 'connect', pair: false });
    expect(await port.reply(3)).toMatchObject({ type: 'connected', startedBy: 'already-running' });
    const huge = Buffer.alloc(4);
    huge.writeUInt32LE(32 * 1024 * 1024);
    port.child.stdin!.write(huge);
    expect(await port.reply(4)).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
    expect(await port.exit).toBe(1);
  });

  it('a relay that cannot start (its port is taken) is reported as RELAY_START_FAILED naming the log', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const h = newHome();
      await install(h, taken);
      const port = new Port(path.join(h, '.mailkeep/native-host/mailkeep-native-host'), [`${EXTENSION_ORIGIN}/`], envFor(h));
      port.send({ type: 'connect', id: 'busy' });
      const r = await port.reply(1);
      expect(r).toMatchObject({ type: 'error', id: 'busy', code: 'RELAY_START_FAILED', message: expect.stringContaining(path.join(h, '.mailkeep/relay.log')) });
      expect(fs.readFileSync(path.join(h, '.mailkeep/relay.log'), 'utf8')).toMatch(/could not start or run: error \w+: .*EADDRINUSE|address already in use/);
      expect(await port.close()).toBe(0);
    } finally {
      blocker.close();
    }
  });

  it('registered in a test browser profile (as the Chromium tests do), the manifest\'s path starts the host, which starts a relay on the port it names', async () => {
    const h = newHome();
    const udd = path.join(h, 'chromium-profile');
    const { manifest } = registerNativeHostInProfile({ userDataDir: udd, dataDir: path.join(h, '.mailkeep'), port: 0 });
    const m = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { path: string; allowed_origins: string[] };
    const port = new Port(m.path, [m.allowed_origins[0]!], envFor(h));
    port.send({ type: 'connect', id: 'p' });
    const r = connected(await port.reply(1));
    expect(r.startedBy).toBe('spawned');
    expect(r.port).not.toBe(7412); // --port 0: a free port
    await tokenFor(r);
    expect(await port.close()).toBe(0);
  });

  it('two connects at once (two pages of the extension) start one relay, and both codes pair', async () => {
    const h = newHome();
    const udd = path.join(h, 'profile');
    const d = path.join(h, '.mailkeep');
    const { manifest } = registerNativeHostInProfile({ userDataDir: udd, dataDir: d, port: 0 });
    const launch = (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { path: string }).path;
    const ports = [new Port(launch, [`${EXTENSION_ORIGIN}/`], envFor(h)), new Port(launch, [`${EXTENSION_ORIGIN}/`], envFor(h))];
    for (const p of ports) p.send({ type: 'connect' });
    const replies = (await Promise.all(ports.map((p) => p.reply(1)))).map(connected);
    expect(replies[0]!.port).toBe(replies[1]!.port);
    expect(runningRelay(d)?.port).toBe(replies[0]!.port);
    for (const r of replies) await tokenFor(r);
    for (const p of ports) expect(await p.close()).toBe(0);
  });
});
