import type { BackupCounts } from '../../../lib/protocol/job-outcome.ts';
import { archiveDirOf } from '../data-dirs.ts';
import type { JobRunner } from '../job-runner.ts';

/**
 * Backup through the backup engine (relay/jobs/backup/run-backup.ts). runBackup never throws: it
 * resolves with a final backup status and error code, which the job manager records as is.
 */
export const backupRunner: JobRunner<'backup'> = async (ctx) => {
  // Loaded on first use: the door comes up without loading SQLite and the archive code, and a
  // broken engine fails its jobs (with a code) instead of keeping the relay from starting.
  const { runBackup } = await import('./run-backup.ts');
  const { account } = ctx;
  const pacing = ctx.openPacing?.('down') ?? null;
  const result = await runBackup(
    {
      archiveDir: archiveDirOf(ctx.dataDir, account.id),
      account: { host: account.host, port: account.port, security: account.security, user: account.user, password: ctx.password, ...(account.ca ? { ca: account.ca } : {}), ...(ctx.oauth ? { oauth: ctx.oauth } : {}), ...(pacing?.job.maxConnections ? { maxConnections: pacing.job.maxConnections } : {}) },
      ...(pacing ? { pacing: pacing.job } : {}),
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
          messagesTotal: p.runTotal ?? null,
          bytes: p.bytes,
          ...(p.bytesTotal !== undefined ? { bytesTotal: p.bytesTotal } : {}),
          ...(pacing?.job.dailyBytes ? { dailyBudgetBytes: pacing.job.dailyBytes, budgetName: pacing.job.limitName } : {}),
        }),
    },
  );
  // The run's id tells the extension which run's deletions to ask restore.prompts about (the
  // account's latest run may already be a newer one by the time it asks).
  const counts: BackupCounts = { messages: result.messages, bytes: result.bytes, disappeared: result.disappeared, ...(result.runId !== null ? { runId: result.runId } : {}) };
  pacing?.close();
  return { status: result.status, errorCode: result.errorCode, outcome: { counts, ...(result.pause ? { pause: result.pause } : {}) } };
};

