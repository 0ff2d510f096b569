import { RELAY_LIMITS } from '../../lib/limits.ts';
import type { BackupProgress } from './backup/types.ts';

/** Throttles progress events: callers report every message, listeners get a few per second. */
export function throttledProgress(sink: ((p: BackupProgress) => void) | undefined): (p: BackupProgress, force?: boolean) => void {
  let last = 0;
  return (p, force = false) => {
    if (!sink) return;
    const now = Date.now();
    if (!force && now - last < RELAY_LIMITS.progressIntervalMs) return;
    last = now;
    sink({ ...p });
  };
}
