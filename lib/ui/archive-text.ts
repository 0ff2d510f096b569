import { formatBytes, formatRelative } from '../format.ts';
import { shortTime } from './relay-freshness.ts';

/* The pages' words for what an archive holds and when it was last backed up (zone and clock passed in). */

/** "Last backup 14:02, 3 hours ago" ("26 Nov, 14:02, 3 days ago" on another day), in the page's zone. */
export function lastBackupText(at: number, now: number, timeZone: string): string {
  return `Last backup ${shortTime(at, now, timeZone)}, ${formatRelative(at, now)}`;
}

/** "1204 messages in 6 folders, 48.2 MB": what the archive holds (folders left out when not known).
 * Counts without separators, as the progress line and the CLI print them. */
export function archiveTotalsText(t: { messages: number; bytes: number; folders?: number | null }): string {
  const messages = `${t.messages} message${t.messages === 1 ? '' : 's'}`;
  const folders = t.folders == null ? '' : ` in ${t.folders} folder${t.folders === 1 ? '' : 's'}`;
  return `${messages}${folders}, ${formatBytes(t.bytes)}`;
}
