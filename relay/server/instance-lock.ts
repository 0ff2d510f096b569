import fs from 'node:fs';
import path from 'node:path';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { readFileIfExists, writeFileAtomic } from './atomic-file.ts';

/**
 * One relay per data dir: two would race on jobs.json, the credential file and the archives.
 * `relay.lock` holds the owner's pid and port; a lock whose pid is dead (SIGKILL, power loss) is
 * stale and taken over, so a crash never wedges the relay.
 */
export const LOCK_FILE = 'relay.lock';

export interface InstanceLock {
  /** Records the port once listening, for `mailkeep pair` and humans. */
  setPort(port: number): void;
  release(): void;
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // never signal 0 or a process group
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running relay of this data dir, if any. */
export function runningRelay(dataDir: string): { pid: number; port: number | null } | undefined {
  const raw = readFileIfExists(path.join(dataDir, LOCK_FILE));
  if (raw === undefined) return undefined;
  const [pidText, portText] = raw.trim().split(/\s+/);
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!pidAlive(pid)) return undefined;
  const port = Number.parseInt(portText ?? '', 10);
  return { pid, port: Number.isInteger(port) ? port : null };
}

export function acquireInstanceLock(dataDir: string): InstanceLock {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      let released = false;
      const ours = (): boolean => readFileIfExists(file)?.split(/\s+/)[0] === String(process.pid);
      return {
        setPort(port) {
          if (ours()) writeFileAtomic(file, `${process.pid} ${port}\n`);
        },
        release() {
          if (released) return;
          released = true;
          if (ours()) fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = runningRelay(dataDir);
      if (owner) {
        throw mailkeepError('ARCHIVE_LOCKED', `a relay is already running for ${dataDir} (pid ${owner.pid}${owner.port ? `, port ${owner.port}` : ''})`, {
          pid: owner.pid,
        });
      }
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw mailkeepError('ARCHIVE_LOCKED', `cannot take ${file}`);
}
