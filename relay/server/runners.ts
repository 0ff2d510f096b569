import path from 'node:path';
import type { JobRunner, JobRunners } from './job-manager.ts';

/** Each account's archive lives in its own directory, so backups of two accounts never contend for one archive lock. */
export function archiveDirOf(dataDir: string, accountId: string): string {
  return path.join(dataDir, 'archives', accountId);
}

/**
 * Backup through the backup engine (relay/jobs/run-backup.ts). runBackup never throws: it
 * resolves with a final backup status and error code, which the job manager records as is.
 */
export const backupRunner: JobRunner = async (ctx) => {
  // Loaded on first use: the door comes up without loading SQLite and the archive code, and a
  // broken engine fails its jobs (with a code) instead of keeping the relay from starting.
  const { runBackup } = await import('../jobs/run-backup.ts');
  const { account } = ctx;
  const result = await runBackup(
    {
      archiveDir: archiveDirOf(ctx.dataDir, account.id),
      account: { host: account.host, port: account.port, security: account.security, user: account.user, password: ctx.password },
    },
    {
      signal: ctx.signal,
      onStatus: (status, detail) => {
        // preparing is the job's first status already; the final one is the return value below.
        if (status === 'running' || status === 'retrying') ctx.setStatus(status, detail.errorCode ?? null);
      },
      onProgress: (p) =>
        ctx.reportProgress({
          folder: p.folder,
          folderIndex: p.folderIndex,
          folderCount: p.folderCount,
          messagesDone: p.messages,
          bytes: p.bytes,
        }),
    },
  );
  return { status: result.status, errorCode: result.errorCode };
};

/** The job runners `mailkeep relay` uses, by kind; download, restore and migrate come with their issues. */
export function defaultRunners(): JobRunners {
  return { backup: backupRunner };
}
