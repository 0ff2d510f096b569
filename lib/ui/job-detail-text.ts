import type { JobRow } from '../storage/rows.ts';
import { formatAbsolute, formatBytes } from './format.ts';

/** A migration's destination and, once it ended, what it copied: "to Bob: 12 copied, 0 not copied, 3 already there". */
export function migrateDetailText(job: Pick<JobRow, 'params' | 'outcome'>, nameOf: (accountId: string) => string): string {
  const dest = typeof job.params?.destinationAccountId === 'string' ? `to ${nameOf(job.params.destinationAccountId)}` : 'destination unknown';
  const c = job.outcome?.counts;
  if (!c || c.migrated === undefined) return dest;
  return `${dest}: ${c.migrated} copied, ${c.notMigrated ?? 0} not copied, ${c.alreadyPresent ?? 0} already there`;
}

/** An export's format and scope, then its file while the link lives: "mbox, all folders: mail.zip, 46.0 KB, until 26 Nov 2026, 23:10" (in `timeZone`). */
export function downloadDetailText(job: Pick<JobRow, 'params' | 'outcome'>, timeZone: string): string {
  const format = job.params?.format === 'eml-zip' ? '.eml files' : 'mbox';
  const scope = typeof job.params?.folder === 'string' ? job.params.folder : 'all folders';
  const link = job.outcome?.link;
  const file = link ? `: ${link.fileName}, ${formatBytes(link.bytes)}, until ${formatAbsolute(Date.parse(link.expiresAt), timeZone)}` : '';
  return `${format}, ${scope}${file}`;
}
