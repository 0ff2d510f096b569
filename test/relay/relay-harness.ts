import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import { RelayFrame } from '../../lib/protocol/relay-frames.ts';

/** Helpers shared by the relay's door tests: a temp data dir, raw HTTP, a WebSocket client, a relay process. */

export const ROOT = path.resolve(import.meta.dirname, '../..');

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mailkeep-relay-'));
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request, so tests control Host and Origin exactly (fetch forbids setting them). */
export function request(
  port: number,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path ?? '/health',
        headers: { host: `127.0.0.1:${port}`, ...opts.headers },
        timeout: opts.timeoutMs ?? 5_000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request deadline passed')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const jsonPost = (port: number, pathName: string, body: unknown, headers: Record<string, string> = {}) =>
  request(port, {
    method: 'POST',
    path: pathName,
    headers: { origin: EXTENSION_ORIGIN, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** A WebSocket client that records every frame, with deadline-bounded waits. */
export class WsClient {
  readonly frames: RelayFrame[] = [];
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(RelayFrame.parse(JSON.parse(data.toString())));
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Opens a socket; rejects with the HTTP status when the upgrade is refused. */
  static open(port: number, opts: { origin?: string; headers?: Record<string, string> } = {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
        ...(opts.origin === undefined ? {} : { origin: opts.origin }),
        headers: opts.headers ?? {},
        handshakeTimeout: 5_000,
      });
      const client = new WsClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode }));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits for the first recorded frame matching `pred`. */
  async waitFor<T extends RelayFrame>(pred: (f: RelayFrame) => f is T, timeoutMs?: number): Promise<T>;
  async waitFor(pred: (f: RelayFrame) => boolean, timeoutMs?: number): Promise<RelayFrame>;
  async waitFor(pred: (f: RelayFrame) => boolean, timeoutMs = 5_000): Promise<RelayFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit) return hit;
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) before the frame arrived`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('frame deadline passed');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 5_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.closeCode === undefined) {
      if (Date.now() > deadline) throw new Error('close deadline passed');
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.closeCode;
  }

  /** Sends a request and waits for its result or error frame. */
  async call(id: string, method: string, params: unknown): Promise<RelayFrame> {
    this.send({ type: 'request', id, method, params });
    return this.waitFor((f) => (f.type === 'result' || f.type === 'error') && f.id === id);
  }

  close(): void {
    this.ws.terminate();
  }
}

export async function helloClient(port: number, token: string): Promise<WsClient> {
  const c = await WsClient.open(port, { origin: EXTENSION_ORIGIN });
  c.send({ type: 'hello', versions: [1], token, client: { name: 'test', version: '0' } });
  await c.waitFor((f) => f.type === 'welcome');
  return c;
}

/** A relay process started the way a person does, with its output captured for assertions. */
export class RelayProcess {
  stdout = '';
  stderr = '';
  exit: Promise<number | null>;
  port = 0;
  pairingCode = '';

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    // 'close', not 'exit': only then has all of stdout and stderr been read.
    this.exit = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  /** Runs `<cli> <args>` from the repo root. */
  static spawn(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): RelayProcess {
    const child = spawn(process.execPath, [...cliCommand(), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env ? { env: opts.env } : {}) });
    return new RelayProcess(child);
  }

  /** Starts `relay --port 0 --data-dir dir` and waits for its listening line and pairing code. */
  static async start(dataDir: string, timeoutMs = 20_000, env: Record<string, string> = {}): Promise<RelayProcess> {
    const p = RelayProcess.spawn(['relay', '--port', '0', '--data-dir', dataDir], { env: { ...process.env, ...env } });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(p.stdout)?.[1];
      const code = /Pairing code: ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(p.stdout)?.[1];
      if (port && code) {
        p.port = Number(port);
        p.pairingCode = code;
        return p;
      }
      if (p.child.exitCode !== null || Date.now() > deadline) {
        p.child.kill('SIGKILL');
        throw new Error(`relay did not start (exit ${p.child.exitCode}): ${p.stderr.slice(0, 500)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits (bounded) until the relay has printed text matching `pattern`. */
  async waitForOutput(pattern: RegExp | string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const hit = (): boolean => (typeof pattern === 'string' ? this.stdout.includes(pattern) : pattern.test(this.stdout));
    while (!hit()) {
      if (Date.now() > deadline) throw new Error(`relay output never matched ${String(pattern)}: ${this.stdout.slice(-500)}`);
      if (this.child.exitCode !== null) throw new Error(`relay exited (${this.child.exitCode}) before printing ${String(pattern)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGTERM, then the exit code; SIGKILL after the deadline so a test never hangs. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exit;
    clearTimeout(timer);
    return code;
  }
}

/** Runs a CLI command to completion (bounded) and returns its exit code and output. */
export async function runCli(args: string[], timeoutMs = 20_000, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = RelayProcess.spawn(args, env ? { env } : {});
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exit;
  clearTimeout(timer);
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/**
 * The environment of a person whose home is `home` (install, uninstall, stop into a temporary HOME):
 * the default data dir is home's, and no systemd user manager is reachable (XDG autostart path).
 */
export function homeEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') };
  delete env.MAILKEEP_DATA_DIR;
  delete env.XDG_RUNTIME_DIR;
  return env;
}

/** Polls `probe` until it gives a value; a deadline, so a test that never sees it fails naming `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The relay as a person runs it: the `mailkeep` CLI launcher. */
function cliCommand(): string[] {
  return ['bin/mailkeep.js'];
}
