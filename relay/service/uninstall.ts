import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { SERVICE_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { runningRelay } from '../lock/lock-file.ts';
import { readInstallRecord, removeInstallRecord, type Command } from './install-record.ts';
import { showCommand } from './install.ts';

export interface UninstallOptions {
  dataDir: string;
  /** Also delete the data dir: archives, credentials, logs. Needs `confirmed`. */
  purge: boolean;
  confirmed: boolean;
  run: (c: Command) => { ok: boolean; output: string };
  out: (line: string) => void;
  /** Stops a running relay of this data dir (SIGTERM) and waits for its lock; injectable for tests. */
  stopRelay?: (dataDir: string) => Promise<boolean>;
}

/** SIGTERM to the relay holding the data dir's lock, then a bounded wait for the lock to go. */
export async function stopRunningRelay(dataDir: string, deadlineMs: number = SERVICE_LIMITS.relayStopDeadlineMs): Promise<boolean> {
  const r = runningRelay(dataDir);
  if (!r) return true;
  try {
    process.kill(r.pid, 'SIGTERM');
  } catch {
    return !runningRelay(dataDir);
  }
  const deadline = Date.now() + deadlineMs;
  while (runningRelay(dataDir)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, SERVICE_LIMITS.relayStartPollMs));
  }
  return true;
}

/** Size and entry count of a folder, for the purge preview. */
function sizeOf(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = `${d}/${e.name}`;
      if (e.isDirectory()) walk(full);
      else {
        files++;
        bytes += fs.lstatSync(full).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

/**
 * Removes exactly what the install record lists: service registration first (so nothing restarts
 * the relay), then the relay is stopped, then the files, then the folders install created if they
 * are empty. Archives, credentials and logs stay unless `purge` (which needs `confirmed`). Returns
 * the exit code.
 */
export async function uninstall(opts: UninstallOptions): Promise<number> {
  const { out } = opts;
  if (opts.purge && !opts.confirmed && fs.existsSync(opts.dataDir)) {
    const s = sizeOf(opts.dataDir);
    out(`--purge would delete ${opts.dataDir} with everything in it: ${s.files} files, ${(s.bytes / 1024 / 1024).toFixed(1)} MiB (archives, saved passwords, logs).`);
    out('Nothing was changed. Add --yes to do it.');
    return 2;
  }
  const record = readInstallRecord(opts.dataDir);
  if (!record) out(`nothing installed for ${opts.dataDir} (no install record); nothing to unregister`);
  let ok = true;
  if (record) {
    for (const c of record.service.unregister) {
      const r = opts.run(c);
      out(`${r.ok ? 'ran' : 'failed (continuing)'}: ${showCommand(c)}${r.ok || !r.output ? '' : `  (${r.output})`}`);
    }
  }
  const running = runningRelay(opts.dataDir);
  if (running) {
    const stopped = await (opts.stopRelay ?? stopRunningRelay)(opts.dataDir);
    out(stopped ? `stopped the relay (pid ${running.pid})` : `the relay (pid ${running.pid}) did not stop in time; stop it yourself`);
    ok &&= stopped;
  }
  if (record) {
    for (const f of record.files) {
      let current: Buffer | undefined;
      try {
        current = fs.readFileSync(f.path);
      } catch {
        out(`already gone: ${f.path}`);
        continue;
      }
      const edited = createHash('sha256').update(current).digest('hex') !== f.sha256;
      fs.rmSync(f.path, { force: true });
      out(`removed ${f.path}${edited ? '  (it had been edited since install)' : ''}`);
    }
    removeInstallRecord(opts.dataDir);
    for (const d of [...record.dirs].reverse()) {
      try {
        fs.rmdirSync(d); // only when empty: never a folder with something else in it
        out(`removed empty folder ${d}`);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && d !== opts.dataDir) out(`kept ${d} (not empty)`);
      }
    }
  }
  if (opts.purge) {
    if (!running || ok) {
      fs.rmSync(opts.dataDir, { recursive: true, force: true });
      out(`purged ${opts.dataDir} (archives, saved passwords, logs)`);
    } else throw mailkeepError('ARCHIVE_LOCKED', `not purging ${opts.dataDir}: its relay is still running`);
  } else if (fs.existsSync(opts.dataDir)) {
    out(`kept ${opts.dataDir} (archives, saved passwords, logs); \`mailkeep uninstall --purge --yes\` deletes it`);
  }
  return ok ? 0 : 1;
}
