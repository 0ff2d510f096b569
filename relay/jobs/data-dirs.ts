import path from 'node:path';

/** Each account's archive lives in its own directory, so backups of two accounts never contend for one archive lock. */
export function archiveDirOf(dataDir: string, accountId: string): string {
  return path.join(dataDir, 'archives', accountId);
}

/** What restore and migrate appended where, one file per destination (relay/jobs/append-records.ts). */
export function appendRecordsDirOf(dataDir: string): string {
  return path.join(dataDir, 'append-records');
}
