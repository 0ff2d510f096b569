import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Frees the chunks a streamed message leaves behind. Every partial FETCH of a large message makes
 * fresh Buffers (socket reads, imapflow's literal, the download pipeline): dead within
 * milliseconds, but V8 collects them only once about 64 MB of such external memory has piled up,
 * which was +40 MB of peak RSS for one 100 MB message in Migrate and +45 MB in Backup (the
 * budget is 20 MB). A minor GC (a scavenge: young objects only, about a millisecond) after every
 * few megabytes frees them. Used by every streamed transfer: APPEND literals (restore, migrate)
 * and backup's partial-FETCH download (relay/jobs/backup/backup-folder.ts).
 * Jest's leak detector obtains `gc` the same way when the process was started without
 * --expose-gc. Where that is refused, nothing is done: only memory, never correctness, is at stake.
 */
type Gc = (opts?: { type?: 'minor' | 'major' }) => void;
let collector: Gc | null | undefined;

function gc(): Gc | null {
  if (collector !== undefined) return collector;
  const existing = (globalThis as { gc?: Gc }).gc;
  if (typeof existing === 'function') return (collector = existing);
  try {
    v8.setFlagsFromString('--expose-gc');
    collector = vm.runInNewContext('gc') as Gc;
  } catch {
    collector = null;
  }
  return collector;
}

/** Collects the young generation (where a stream's dead chunks are). */
export function reclaimStreamChunks(): void {
  try {
    gc()?.({ type: 'minor' });
  } catch {
    /* memory only: never fail a transfer over it */
  }
}
