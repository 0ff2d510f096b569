import { formatBytes } from '../format.ts';

/** The destination's storage quota as a dry run reports it, bytes (null: not reported). */
export interface DestinationQuota {
  usedBytes: number | null;
  limitBytes: number | null;
}

export interface QuotaShortfall {
  bytesToCopy: number;
  freeBytes: number;
  /** "47.5 MB to copy, 300.0 KB free on the destination." and what happens if the user goes on. */
  text: string;
}

/**
 * Whether what a migrate or restore dry run plans to copy fits the destination's quota. A server
 * counts a message at about its size (Dovecot with quota_vsizes, Cyrus, Courier all do), so the
 * planned bytes against limit minus used is the check; when it will not fit, the preview says so
 * before anything starts, instead of the run stopping Partially Complete half way.
 * `what` names the job in the sentence ("migration", "restore").
 */
export function quotaShortfall(bytesToCopy: number, quota: DestinationQuota | null | undefined, what: 'migration' | 'restore'): QuotaShortfall | null {
  if (!quota || quota.limitBytes === null || bytesToCopy === 0) return null;
  const freeBytes = Math.max(0, quota.limitBytes - (quota.usedBytes ?? 0));
  if (bytesToCopy <= freeBytes) return null;
  const text =
    `${formatBytes(bytesToCopy)} to copy, ${formatBytes(freeBytes)} free on the destination. ` +
    `The ${what} would stop when the destination is full (Partially Complete); free space there or raise its quota first.`;
  return { bytesToCopy, freeBytes, text };
}
