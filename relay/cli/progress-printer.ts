import type { BackupProgress } from '../jobs/backup/types.ts';
import { formatBytes } from '../../lib/format.ts';

/**
 * A progress bar with rate and ETA on a terminal; plain lines (one per folder change) otherwise.
 * `doneWord` says what the job's count means: "new" for Backup, "restored", "migrated", "exported".
 */
export function progressPrinter(stream: NodeJS.WriteStream, doneWord: string): { update(p: BackupProgress): void; line(text: string): void; end(): void } {
  const tty = !!stream.isTTY;
  const started = Date.now();
  let lastFolder = '';
  let drawn = false;
  return {
    update(p) {
      const secs = Math.max((Date.now() - started) / 1000, 0.001);
      const rate = p.messages / secs;
      if (tty) {
        const width = 24;
        const frac = p.total ? p.done / p.total : 1;
        const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
        const eta = rate > 0 && p.total > p.done ? `${Math.ceil((p.total - p.done) / rate)}s` : '-';
        const text = `[${p.folderIndex}/${p.folderCount}] ${p.folder.slice(0, 30)} [${bar}] ${p.done}/${p.total}  ${rate.toFixed(0)} msg/s  ${formatBytes(p.bytes)}  ETA ${eta}`;
        stream.write(`\r\x1b[2K${text}`);
        drawn = true;
      } else if (p.folder !== lastFolder || (p.total > 0 && p.done === p.total)) {
        stream.write(`folder ${p.folderIndex}/${p.folderCount} ${p.folder}: ${p.done}/${p.total} ${doneWord}, ${p.messages} messages, ${formatBytes(p.bytes)} so far\n`);
      }
      lastFolder = p.folder;
    },
    line(text) {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
      stream.write(`${text}\n`);
    },
    end() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
