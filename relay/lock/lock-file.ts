import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { MailkeepError, mailkeepError } from '../../lib/protocol/error-codes.ts';
import { archivePathError } from '../archive/archive-path-error.ts';

/**
 * The relay's one kind of lock: a file created with link(2) (atomic, fails if it exists) that names
 * its owner by pid AND process start time. Used for `archive.lock` (one writer per archive) and
 * `relay.lock` (one relay per data dir).
 *
 * - A lock whose owner is gone (SIGKILL, power loss) is stale and taken over, so a crash never
 *   wedges anything. "Gone" also covers a reused pid: the start time (Linux /proc/<pid>/stat field
 *   22) tells the new process apart from the owner. Elsewhere only the pid is compared.
 * - Taking over is a compare-and-swap: the taker holds `<lock>.takeover` (itself created with
 *   link(2)), re-checks that the stale lock is still the same file (inode) it judged, removes it and
 *   links its own. Two takers of one stale lock cannot both win.
 */
export interface LockOwner {
  pid: number;
  /** process start time in clock ticks since boot; null when unknown (not Linux, legacy lock) */
  start: string | null;
  /** the relay's port, once it listens (relay.lock only) */
  port?: number;
}

export interface HeldLock {
  /** Rewrites the record with extra facts (the relay's port), if the lock is still ours. */
  update(extra: { port: number }): void;
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

/** /proc/<pid>/stat field 22 (starttime), or null where there is no /proc or the pid is gone. */
export function processStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 (comm) is in parentheses and may hold spaces or ")": fields 3.. follow the last ")".
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = rest[22 - 3];
  return start && /^\d+$/.test(start) ? start : null;
}

/**
 * A killed process whose parent has not reaped it yet still answers kill(pid, 0) and keeps its
 * /proc entry, but it holds nothing: a relay started detached is reaped by init, which may take a
 * while in a container. /proc/<pid>/stat field 3 is its state; Z is a zombie.
 */
export function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** The lock's owner as recorded, including legacy "PID [PORT]" records (no start time). */
export function parseOwner(raw: string): LockOwner | undefined {
  const text = raw.trim();
  if (text.startsWith('{')) {
    try {
      const o = JSON.parse(text) as { pid?: unknown; start?: unknown; port?: unknown };
      if (typeof o.pid !== 'number') return undefined;
      return { pid: o.pid, start: typeof o.start === 'string' ? o.start : null, ...(typeof o.port === 'number' ? { port: o.port } : {}) };
    } catch {
      return undefined;
    }
  }
  const [pidText, portText] = text.split(/\s+/);
  const pid = Number.parseInt(pidText ?? '', 10);
  if (!Number.isInteger(pid)) return undefined;
  const port = Number.parseInt(portText ?? '', 10);
  return { pid, start: null, ...(Number.isInteger(port) ? { port } : {}) };
}

/** Is the recorded owner still the process that wrote the lock? */
export function ownerAlive(o: LockOwner): boolean {
  if (!pidAlive(o.pid) || isZombie(o.pid)) return false;
  if (o.start === null) return true; // nothing better to compare: assume it is the owner
  const now = processStartTime(o.pid);
  return now === null || now === o.start;
}

/** The live owner of a lock file, if any (a stale or unreadable lock has none). */
export function liveOwner(file: string): LockOwner | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const o = parseOwner(raw);
  return o && ownerAlive(o) ? o : undefined;
}

function record(o: LockOwner): string {
  return `${JSON.stringify(o)}\n`;
}

/** Writes `content` to a fresh temp file beside `file` and links it there; false if `file` exists. */
function linkNew(file: string, content: string): boolean {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  fs.writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function inodeOf(file: string): number | undefined {
  try {
    return fs.lstatSync(file).ino;
  } catch {
    return undefined;
  }
}

/**
 * Removes `file` only if, under the takeover guard, it is still the file judged stale and its owner
 * is still gone. The re-check of the owner matters: the inode number of a removed lock may be
 * reused by the next taker's fresh lock. Returns false when the guard is busy (another taker is at
 * it): the caller looks again.
 */
export function removeStaleLock(file: string, staleIno: number): boolean {
  const me: LockOwner = { pid: process.pid, start: processStartTime(process.pid) };
  const guard = `${file}.takeover`;
  if (!linkNew(guard, record(me))) {
    // A taker killed inside the guard would leave it behind: a guard whose owner is gone, or that
    // is older than any takeover takes, is abandoned.
    try {
      const st = fs.statSync(guard);
      const o = parseOwner(fs.readFileSync(guard, 'utf8'));
      if ((o && !ownerAlive(o)) || Date.now() - st.mtimeMs > RELAY_LIMITS.lockTakeoverGuardStaleMs) fs.rmSync(guard, { force: true });
    } catch {
      /* gone meanwhile: fine */
    }
    return false;
  }
  try {
    if (inodeOf(file) === staleIno) {
      let o: LockOwner | undefined;
      try {
        o = parseOwner(fs.readFileSync(file, 'utf8'));
      } catch {
        return true; // gone meanwhile
      }
      if (!o || !ownerAlive(o)) fs.rmSync(file, { force: true });
    }
    return true;
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/**
 * Takes `file` for this process, taking over a stale lock. `busy` builds the error for a live
 * owner (ARCHIVE_LOCKED with a message that fits the lock).
 */
export function acquireLock(file: string, busy: (owner: LockOwner) => MailkeepError): HeldLock {
  const me: LockOwner = { pid: process.pid, start: processStartTime(process.pid) };
  // Bounded: each round either wins, meets a live owner, or removes a stale lock; a round lost to
  // a concurrent taker is retried a few times, never forever.
  for (let round = 0; round < RELAY_LIMITS.lockAcquireRounds; round++) {
    if (linkNew(file, record(me))) return held(file, me);
    const ino = inodeOf(file);
    if (ino === undefined) continue; // released between link and lstat
    let raw: string;
    try {
      raw = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const owner = parseOwner(raw);
    // An empty or torn record is what a writer killed before finishing leaves: stale as well.
    if (owner && ownerAlive(owner)) throw busy(owner);
    removeStaleLock(file, ino);
  }
  throw mailkeepError('ARCHIVE_LOCKED', `cannot take ${file}: other processes keep taking it`);
}

function held(file: string, me: LockOwner): HeldLock {
  let released = false;
  let current = me;
  const ours = (): boolean => {
    try {
      const o = parseOwner(fs.readFileSync(file, 'utf8'));
      return o?.pid === me.pid && o.start === me.start;
    } catch {
      return false;
    }
  };
  return {
    update(extra) {
      if (released || !ours()) return;
      current = { ...current, ...extra };
      // Replaced by rename (atomic): a reader sees the old or the new record, never a torn one.
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      fs.writeFileSync(tmp, record(current), { mode: 0o600 });
      fs.renameSync(tmp, file);
    },
    release() {
      if (released) return;
      released = true;
      if (ours()) fs.rmSync(file, { force: true });
    },
  };
}

/**
 * One writer per archive. The lock is the first thing a writer writes, so a read-only disk or a
 * file given as the folder shows here: as ARCHIVE_NOT_WRITABLE / ARCHIVE_PATH_INVALID, not EROFS.
 */
export function lockArchive(dir: string): HeldLock {
  try {
    return acquireLock(path.join(dir, 'archive.lock'), (o) => mailkeepError('ARCHIVE_LOCKED', `archive ${dir} is in use by process ${o.pid}`, { pid: o.pid }));
  } catch (err) {
    throw archivePathError(dir, err) ?? err;
  }
}

/**
 * One relay per data dir: two would race on jobs.json, the credential file and the archives.
 * The record also holds the port once listening, for `mailkeep pair` and humans.
 */
export const RELAY_LOCK_FILE = 'relay.lock';

export function acquireInstanceLock(dataDir: string): HeldLock {
  return acquireLock(path.join(dataDir, RELAY_LOCK_FILE), (o) =>
    mailkeepError('ARCHIVE_LOCKED', `a relay is already running for ${dataDir} (pid ${o.pid}${o.port ? `, port ${o.port}` : ''})`, { pid: o.pid }),
  );
}

/** The running relay of this data dir, if any. */
export function runningRelay(dataDir: string): { pid: number; port: number | null } | undefined {
  const o = liveOwner(path.join(dataDir, RELAY_LOCK_FILE));
  return o ? { pid: o.pid, port: o.port ?? null } : undefined;
}
