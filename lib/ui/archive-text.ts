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

/** The totals line: counted when a backup ends, so while one runs it says which backup it is from. */
export function totalsLine(summary: { hasArchive: boolean; messages: number; bytes: number; folders?: number | null }, running: boolean): string {
  if (running && (!summary.hasArchive || summary.messages === 0)) return 'The first backup is running: what it stores is counted when it ends.';
  if (!summary.hasArchive) return 'No archive yet';
  return `${running ? 'In the archive at the last finished backup' : 'In the archive'}: ${archiveTotalsText(summary)}`;
}
