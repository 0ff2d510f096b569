import { jobRequestOf, jobResultOf } from '../protocol/job-kinds.ts';
import type { JobRow } from '../storage/rows.ts';
import { formatAbsolute, formatBytes } from '../format.ts';

/** A migration's destination and, once it ended, what it copied: "to Bob: 12 copied, 0 not copied, 3 already there". */
export function migrateDetailText(job: Pick<JobRow, 'kind' | 'params' | 'outcome'>, nameOf: (accountId: string) => string): string {
  const request = jobRequestOf(job);
  const dest = request?.kind === 'migrate' ? `to ${nameOf(request.params.destinationAccountId)}` : 'destination unknown';
  const result = jobResultOf(job);
  const c = result?.kind === 'migrate' ? result.outcome.counts : undefined;
  if (!c) return dest;
  return `${dest}: ${c.migrated} copied, ${c.notMigrated} not copied, ${c.alreadyPresent} already there`;
}

/** An export's format and scope, then its file while the link lives: "mbox, all folders: mail.zip, 46.0 KB, until 26 Nov 2026, 23:10" (in `timeZone`). */
export function downloadDetailText(job: Pick<JobRow, 'kind' | 'params' | 'outcome'>, timeZone: string): string {
  const request = jobRequestOf(job);
  const params = request?.kind === 'download' ? request.params : undefined;
  const format = params?.format === 'eml-zip' ? '.eml files' : params?.format === 'eml' ? '.eml' : 'mbox';
  const picked = params?.messageIds?.length;
  const scope = picked ? `${picked} selected ${picked === 1 ? 'message' : 'messages'}` : (params?.folder ?? 'all folders');
  const link = job.outcome?.link;
  const file = link ? `: ${link.fileName}, ${formatBytes(link.bytes)}, until ${formatAbsolute(Date.parse(link.expiresAt), timeZone)}` : '';
  return `${format}, ${scope}${file}`;
}
