import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { HealthResponse } from '../../lib/protocol/http.ts';
import type { RelayStartedBy } from '../../lib/protocol/native-host.ts';
import { runningRelay } from '../lock/lock-file.ts';
import { BACKGROUND_FLAG } from './background-flag.ts';
import { ensurePrivateDir } from '../fs/atomic-file.ts';
import type { Command } from './install-record.ts';
import { RELAY_LOG_FILE } from './log-file.ts';

/** GET /health on loopback, bounded: true when a Mailkeep relay answers there. */
export function relayAnswers(port: number, timeoutMs: number = SERVICE_LIMITS.relayHealthTimeoutMs): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/health', headers: { host: `127.0.0.1:${port}` }, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 4096) return req.destroy();
        chunks.push(c);
      });
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 && HealthResponse.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8'))).success);
        } catch {
          resolve(false);
        }
      });
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The command that runs the relay in the background for a data dir: this very CLI, by absolute paths. */
export function relayCommand(dataDir: string, port: number, cli: { node: string; bin: string } = currentCli()): Command {
  return [cli.node, cli.bin, 'relay', BACKGROUND_FLAG, '--data-dir', dataDir, '--port', String(port)];
}

/**
 * node and bin/mailkeep.js of this checkout by absolute path. This module sits two folders below
 * the root both as a source (relay/service/) and inside the bundle (.output/relay/mailkeep.mjs).
 */
export function currentCli(): { node: string; bin: string } {
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/mailkeep.js');
  return { node: process.execPath, bin: fs.existsSync(bin) ? bin : fs.realpathSync(process.argv[1] ?? '') };
}

/**
 * Starts the relay as its own process, in its own session (setsid: `detached`), with its stdio on
 * the log file and not on the caller's pipes, and lets it go (`unref`): killing the browser, its
 * process group or the native host does not reach it. Resolves the child's exit code should it
 * end early (another relay won the lock, port taken), for the waiter to stop waiting.
 */
export function spawnDetachedRelay(command: Command, dataDir: string): { pid: number | undefined; exited: Promise<number | null> } {
  ensurePrivateDir(dataDir);
  const logFd = fs.openSync(path.join(dataDir, RELAY_LOG_FILE), 'a', 0o600);
  try {
    const child = spawn(command[0]!, command.slice(1), { detached: true, stdio: ['ignore', logFd, logFd], cwd: dataDir, windowsHide: true });
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(-1));
    });
    child.unref();
    return { pid: child.pid, exited };
  } finally {
    fs.closeSync(logFd);
  }
}

/** Runs a service-manager command (systemctl, launchctl, schtasks), bounded; true on exit 0. */
export function runServiceCommand(command: Command): { ok: boolean; output: string } {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: SERVICE_LIMITS.serviceCommandTimeoutMs, windowsHide: true });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim().slice(0, 500) };
}

export interface EnsureRelayOptions {
  dataDir: string;
  port: number;
  /** The service manager's start commands (from the install record), tried first. */
  serviceStart?: Command[];
  relayCommand?: Command;
  deadlineMs?: number;
  pollMs?: number;
  runService?: (command: Command) => { ok: boolean; output: string };
  spawnRelay?: (command: Command, dataDir: string) => { pid: number | undefined; exited: Promise<number | null> };
  answers?: (port: number) => Promise<boolean>;
}

/**
 * Makes sure a relay runs for `dataDir` and listens, and says on which port. A relay that is already
 * running (or starting: it holds the lock but has no port yet) is waited for, never doubled; else
 * it is started through the service manager when one is registered, else spawned detached. Every
 * wait ends at the deadline with RELAY_START_FAILED, pointing at the log.
 */
export async function ensureRelay(opts: EnsureRelayOptions): Promise<{ port: number; startedBy: RelayStartedBy }> {
  const answers = opts.answers ?? ((p: number) => relayAnswers(p));
  const deadline = Date.now() + (opts.deadlineMs ?? SERVICE_LIMITS.relayStartDeadlineMs);
  const pollMs = opts.pollMs ?? SERVICE_LIMITS.relayStartPollMs;
  const logFile = path.join(opts.dataDir, RELAY_LOG_FILE);

  const found = runningRelay(opts.dataDir);
  if (found?.port && (await answers(found.port))) return { port: found.port, startedBy: 'already-running' };

  let startedBy: RelayStartedBy = 'already-running';
  let ended: number | null | undefined; // exit code of a relay we spawned that has ended
  if (!found) {
    const viaService = (opts.serviceStart ?? []).length > 0 && (opts.serviceStart ?? []).every((c) => (opts.runService ?? runServiceCommand)(c).ok);
    if (viaService) startedBy = 'service-manager';
    else {
      const child = (opts.spawnRelay ?? spawnDetachedRelay)(opts.relayCommand ?? relayCommand(opts.dataDir, opts.port), opts.dataDir);
      void child.exited.then((code) => (ended = code));
      startedBy = 'spawned';
    }
  }
  for (;;) {
    const r = runningRelay(opts.dataDir);
    if (r?.port && (await answers(r.port))) return { port: r.port, startedBy };
    // Ours ended and nobody else holds the lock: it will not come up (its log says why).
    if (ended !== undefined && !r) {
      throw mailkeepError('RELAY_START_FAILED', `the relay exited (code ${ended}) before listening; see ${logFile}`, { exitCode: ended });
    }
    if (Date.now() > deadline) {
      throw mailkeepError('RELAY_START_FAILED', `the relay did not listen within ${Math.round((opts.deadlineMs ?? SERVICE_LIMITS.relayStartDeadlineMs) / 1000)} s; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
