import fs from 'node:fs';
import path from 'node:path';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';

/**
 * One writer per archive. The lock file holds the owner's PID; a lock whose PID is dead (a backup
 * killed with SIGKILL) is stale and taken over, so a crash never wedges the archive.
 */
export interface ArchiveLock {
  release(): void;
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // never signal 0 or a group
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockArchive(dir: string): ArchiveLock {
  const file = path.join(dir, 'archive.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
      } catch {
        continue; // vanished between open and read: try again
      }
      if (alive(owner)) {
        throw mailkeepError('ARCHIVE_LOCKED', `archive ${dir} is in use by process ${owner}`, { pid: owner });
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw mailkeepError('ARCHIVE_LOCKED', `archive ${dir} is locked`);
}
