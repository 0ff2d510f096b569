// What the backup, restore and migrate benchmarks share: tsx (so the TypeScript test support
// loads), the repository root, the Dovecot helpers, the check that Dovecot is there, the work
// directory, the whole-process runner and the closing load-average line.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const { startDovecot, dovecotAvailable } = await import(path.join(root, 'test/support/dovecot.ts'));
export const HAS_MBSYNC = spawnSync('mbsync', ['--version']).status === 0;

/** Exits 1 with a hint when Dovecot is not installed: there is nothing to measure. */
export function requireDovecot() {
  if (!dovecotAvailable()) {
    console.log('dovecot is not installed: nothing to measure (apt-get install dovecot-imapd)');
    process.exit(1);
  }
}

/** A fresh work directory under MAILKEEP_BENCH_DIR (or the system's temp directory). */
export function benchWorkDir(prefix) {
  const work = fs.mkdtempSync(path.join(process.env.MAILKEEP_BENCH_DIR ?? os.tmpdir(), prefix));
  fs.chmodSync(work, 0o755); // Dovecot's auth and mail processes (other users when run as root) must reach its files
  return work;
}

/**
 * Runs a command as a whole process; wall and CPU seconds and peak RSS (from /usr/bin/time -v
 * when present). `errorArgs`: how many of the arguments a failure's message names (default all).
 */
export function timed(cmd, args, env = {}, { maxBuffer = 64 * 1024 * 1024, errorArgs = args.length } = {}) {
  spawnSync('sync');
  const useTime = fs.existsSync('/usr/bin/time');
  const t = process.hrtime.bigint();
  const r = spawnSync(useTime ? '/usr/bin/time' : cmd, useTime ? ['-v', cmd, ...args] : args, { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer });
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr ?? '');
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, errorArgs).join(' ')} exited ${r.status}: ${(r.stderr ?? '').split('\n').filter((l) => !l.startsWith('\t')).slice(-8).join(' | ')}`);
  return { wall, cpu: user && sys ? Number(user[1]) + Number(sys[1]) : NaN, rssMb: rss ? Number(rss[1]) / 1024 : null, stdout: r.stdout };
}

export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

export function printLoadAverage() {
  console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (others share this machine: wall times vary, CPU times less)`);
}

/**
 * A proxy process in front of `port` that delays each direction by `oneWayMs`
 * (scripts/bench-latency-proxy.mjs): { port, stop() }.
 */
export async function startLatencyProxy(port, oneWayMs) {
  const child = spawn(process.execPath, [path.join(root, 'scripts/bench-latency-proxy.mjs'), String(port), String(oneWayMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const proxyPort = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`latency proxy exited ${code}`)));
  });
  return { port: proxyPort, stop: () => child.kill() };
}
