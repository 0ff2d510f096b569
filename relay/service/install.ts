import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { runningRelay } from '../lock/lock-file.ts';
import { ensurePrivateDir, writeFileAtomic } from '../fs/atomic-file.ts';
import { readInstallRecord, writeInstallRecord, type Command, type InstallRecord } from './install-record.ts';
import type { InstallPlan, PlannedFile } from './install-plan.ts';
import type { ServiceEnv } from './platform.ts';
import { relayCommand, spawnDetachedRelay } from './relay-launch.ts';

export interface ApplyOptions {
  se: ServiceEnv;
  plan: InstallPlan;
  cli: { node: string; bin: string };
  /** Start the relay now (default); `--no-start` only registers. */
  start: boolean;
  run: (c: Command) => { ok: boolean; output: string };
  out: (line: string) => void;
  now?: () => Date;
  spawnRelay?: typeof spawnDetachedRelay;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
export const showCommand = (c: Command): string => c.map((a) => (/[\s"'\\$]/.test(a) ? JSON.stringify(a) : a)).join(' ');

/** Creates `dir` and its missing parents; returns the ones it created, outermost first. */
function mkdirRecording(dir: string, created: string[], mode: number): void {
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = path.dirname(d)) {
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) {
    fs.mkdirSync(d, { mode });
    created.push(d);
  }
}

/** Writes files (private inside the data dir), recording the directories it had to create. */
export function writePlannedFiles(dataDir: string, planned: PlannedFile[], created: string[], out: (line: string) => void): InstallRecord['files'] {
  const files: InstallRecord['files'] = [];
  for (const f of planned) {
    mkdirRecording(path.dirname(f.path), created, f.path.startsWith(dataDir) ? 0o700 : 0o755);
    writeFileAtomic(f.path, f.content, f.mode);
    fs.chmodSync(f.path, f.mode); // writeFileAtomic's create mode is masked by the umask
    files.push({ path: f.path, sha256: sha256(f.content) });
    out(`wrote ${f.path}  (${f.what})`);
  }
  return files;
}

/**
 * Writes the planned files, registers the service and host, records all of it in the data dir
 * (merged with an earlier install's record, so re-running install and then uninstall still removes
 * what the first install created), and starts the relay unless told not to.
 */
export function applyInstall(opts: ApplyOptions): InstallRecord {
  const { plan, out } = opts;
  if (opts.se.platform === 'win32' ? false : !path.isAbsolute(plan.dataDir)) throw mailkeepError('INVALID_INPUT', `the data dir must be an absolute path: ${plan.dataDir}`);
  const previous = readInstallRecord(plan.dataDir);
  const created: string[] = [];
  mkdirRecording(plan.dataDir, created, 0o700);
  ensurePrivateDir(plan.dataDir);
  const files = writePlannedFiles(plan.dataDir, plan.files, created, out);
  if (plan.browsers.length === 0) out('no browser profile found yet: the running relay registers the native-messaging host by itself for a browser started here later (it looks every minute)');
  else out(`native-messaging host registered for: ${plan.browsers.map((b) => b.name).join(', ')}`);

  const record: InstallRecord = {
    version: 1,
    installedAt: (opts.now ?? (() => new Date()))().toISOString(),
    platform: opts.se.platform,
    dataDir: plan.dataDir,
    port: plan.port,
    service: { kind: plan.kind, start: plan.start, unregister: plan.unregister },
    files: mergeBy(previous?.files ?? [], files, (f) => f.path),
    dirs: [...new Set([...(previous?.dirs ?? []), ...created])],
    registryKeys: [...new Set([...(previous?.registryKeys ?? []), ...plan.registryKeys])],
    browsers: plan.browsers.map((b) => b.name),
  };
  // Recorded before anything runs: a failing command below still leaves uninstall able to undo.
  writeInstallRecord(plan.dataDir, record);

  for (const c of plan.register) {
    const r = opts.run(c);
    out(`${r.ok ? 'ran' : 'FAILED'}: ${showCommand(c)}${r.ok || !r.output ? '' : `  (${r.output})`}`);
    if (!r.ok) throw mailkeepError('RELAY_START_FAILED', `could not register the service: ${showCommand(c)} failed; files stay recorded, \`mailkeep uninstall\` removes them`);
  }
  out(describeService(plan));

  if (!opts.start) {
    out('not started now (--no-start); it starts at your next login, or when the extension first needs it');
    return record;
  }
  const running = runningRelay(plan.dataDir);
  if (running) {
    out(`a relay already runs for ${plan.dataDir} (pid ${running.pid}); it keeps serving, and the service takes over after it stops`);
  } else if (plan.start.length > 0) {
    for (const c of plan.start) {
      const r = opts.run(c);
      out(`${r.ok ? 'ran' : 'FAILED'}: ${showCommand(c)}${r.ok || !r.output ? '' : `  (${r.output})`}`);
    }
  } else {
    const child = (opts.spawnRelay ?? spawnDetachedRelay)(relayCommand(plan.dataDir, plan.port, opts.cli), plan.dataDir);
    out(`started the relay in the background (pid ${child.pid}); it logs to ${path.join(plan.dataDir, 'relay.log')}`);
  }
  return record;
}

function describeService(plan: InstallPlan): string {
  switch (plan.kind) {
    case 'systemd':
      return 'the relay starts at login and is restarted if it fails (systemd --user unit, enabled)';
    case 'xdg-autostart':
      return 'the relay starts at login through the desktop session (XDG autostart: no systemd user manager runs here); nothing restarts it if it dies, the extension starts it again through the native host';
    case 'launchd':
      return 'the relay starts at login and is restarted if it fails (launchd LaunchAgent)';
    case 'windows-task':
      return 'the relay starts at logon and is restarted if it fails (Task Scheduler task)';
  }
}

export function mergeBy<T>(older: T[], newer: T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const t of [...older, ...newer]) m.set(key(t), t);
  return [...m.values()];
}
