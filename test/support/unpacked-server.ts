/**
 * What the throwaway Cyrus and Courier share: both are unpacked (not installed) by
 * scripts/install-imap-servers.sh, because their Debian packages conflict with dovecot-imapd; both
 * run as a process group of their own on loopback, are waited for with a deadline, and are stopped
 * by that group's id.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ImapFlow } from 'imapflow';

/** Where scripts/install-imap-servers.sh unpacks the servers (same default, same variable). */
export function serversDir(): string {
  return process.env.MAILKEEP_TEST_SERVERS ?? '/opt/mailkeep-test-servers';
}

/** The unpacked libraries, in the order the install script's ldd check uses. */
export function libraryPath(root: string): string {
  const multiarch = 'x86_64-linux-gnu';
  return [`usr/lib/${multiarch}`, `lib/${multiarch}`, 'usr/lib', 'usr/lib/courier-authlib'].map((d) => path.join(root, d)).join(':');
}

/**
 * True if every file of an unpacked server is there. When one is not: throws under CI (integration
 * tests must not skip there), else false, and the test says how to get it.
 */
export function unpackedAvailable(name: string, files: string[], extra?: () => string | null): boolean {
  const missing = files.filter((f) => !fs.existsSync(f));
  const problem = missing.length > 0 ? `missing ${missing.join(', ')}` : (extra?.() ?? null);
  if (problem === null) return true;
  const msg = `${name} is not available (${problem}): run scripts/install-imap-servers.sh as root (.ci/run does)`;
  if (process.env.CI) throw new Error(`${msg}, and CI is set, so the test fails instead of skipping`);
  console.warn(`skipping the ${name} tests: ${msg}`);
  return false;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** The user owning test mail: `vmail` as root (created like test/support/dovecot.ts does), else the caller. */
export function mailUser(): { name: string; uid: number; gid: number } {
  if (isRoot()) {
    if (spawnSync('id', ['vmail']).status !== 0) {
      spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'vmail']);
    }
    const uid = Number(spawnSync('id', ['-u', 'vmail']).stdout.toString().trim());
    const gid = Number(spawnSync('id', ['-g', 'vmail']).stdout.toString().trim());
    if (!Number.isInteger(uid) || uid <= 0) throw new Error('cannot create or find the vmail user');
    return { name: 'vmail', uid, gid };
  }
  const me = os.userInfo();
  return { name: me.username, uid: me.uid, gid: me.gid };
}

/** Gives a tree to the mail user (a no-op when not root: everything is already ours). */
export function chownTree(dir: string, owner: { uid: number; gid: number }): void {
  if (!isRoot()) return;
  const walk = (p: string): void => {
    fs.lchownSync(p, owner.uid, owner.gid);
    if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
}

export function tail(files: string[]): string {
  return files
    .map((f) => {
      try {
        const lines = fs.readFileSync(f, 'utf8').trim().split('\n').slice(-6).join(' | ');
        return `${path.basename(f)}: ${lines || '(empty)'}`;
      } catch {
        return `${path.basename(f)}: (none)`;
      }
    })
    .join(' || ');
}

/** Waits for an `* OK` greeting on the port, failing early if the process exits. */
export async function waitForGreeting(name: string, port: number, child: ChildProcess, deadlineMs: number, logs: string[]): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}): ${tail(logs)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      const done = (v: boolean): void => {
        sock.destroy();
        resolve(v);
      };
      sock.setTimeout(1000, () => done(false));
      sock.once('data', (d) => done(d.toString().startsWith('* OK')));
      sock.once('error', () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} did not greet on ${port} within ${deadlineMs} ms: ${tail(logs)}`);
}

/**
 * Stops a server started with `detached: true` (so its pid is its process group's id): SIGTERM to
 * the group, SIGKILL after a deadline, then SIGKILL to whatever of the group is left (session
 * processes, Courier's authdaemond). Never signals pid 0 or 1: that would be the test runner's group.
 */
export async function stopGroup(child: ChildProcess, deadlineMs: number): Promise<void> {
  const pid = child.pid;
  if (!pid || pid <= 1) return;
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // ESRCH: the group is gone already
    }
  };
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), deadlineMs);
    await exited;
    clearTimeout(timer);
  }
  signalGroup('SIGKILL');
}

/** A logged-in imapflow client on a plaintext loopback port; the caller logs out. */
export async function loggedIn(port: number, user: string, password: string): Promise<ImapFlow> {
  const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user, pass: password }, logger: false });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** Runs a helper program with a deadline; throws with its output when it fails. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { env: opts.env, input: opts.input, cwd: opts.cwd, timeout: 30_000, killSignal: 'SIGKILL', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (${r.status ?? r.signal ?? r.error?.message}): ${r.stderr || r.stdout}`);
  return r.stdout;
}
