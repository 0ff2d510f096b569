import path from 'node:path';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { DownloadLinks } from './download-links.ts';
import { downloadRunner } from './download-runner.ts';
import type { AccountLookup, JobRunner, JobRunners } from './job-manager.ts';
import { appendRecordsDirOf, migrateRunner } from './migrate-runner.ts';

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
  // The run's id tells the extension which run's deletions to ask restore.prompts about (the
  // account's latest run may already be a newer one by the time it asks).
  const counts: Record<string, number> = { messages: result.messages, bytes: result.bytes, disappeared: result.disappeared };
  if (result.runId !== null) counts.runId = result.runId;
  return { status: result.status, errorCode: result.errorCode, outcome: { counts } };
};

/**
 * Restore through relay/jobs/run-restore.ts into the job's account, from the archive of
 * `params.sourceAccountId` (default: the same account). Never throws for IMAP trouble: the final
 * restore status and code come back as the result; bad params fail the job with INVALID_INPUT.
 */
export const restoreRunner: JobRunner = async (ctx) => {
  const { RestoreParams } = await import('../../lib/protocol/restore-params.ts');
  const parsed = RestoreParams.safeParse(ctx.params);
  if (!parsed.success) throw mailkeepError('INVALID_INPUT', `restore params: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const p = parsed.data;
  const { runRestore } = await import('../jobs/run-restore.ts');
  const { account } = ctx;
  const result = await runRestore(
    {
      archiveDir: archiveDirOf(ctx.dataDir, p.sourceAccountId ?? account.id),
      target: { host: account.host, port: account.port, security: account.security, user: account.user, password: ctx.password },
      scope: {
        ...(p.folder !== undefined ? { folder: p.folder } : {}),
        ...(p.since !== undefined ? { since: new Date(p.since) } : {}),
        ...(p.until !== undefined ? { until: new Date(p.until) } : {}),
        ...(p.atRun !== undefined ? { atRun: p.atRun } : {}),
        ...(p.disappearedInRun !== undefined ? { disappearedInRun: p.disappearedInRun } : {}),
      },
      ...(p.into !== undefined ? { into: p.into } : {}),
      dryRun: p.dryRun ?? false,
      appendRecordsDir: appendRecordsDirOf(ctx.dataDir),
    },
    {
      signal: ctx.signal,
      onStatus: (status, detail) => {
        if (status === 'running' || status === 'retrying') ctx.setStatus(status, detail.errorCode ?? null);
      },
      // The extension's confirmation shows the dry run's count; a real run's bar fills up to it.
      onPlan: (plan) => ctx.reportProgress({ messagesTotal: plan.toAppend, messagesDone: 0 }),
      onProgress: (pr) =>
        ctx.reportProgress({ folder: pr.folder, folderIndex: pr.folderIndex, folderCount: pr.folderCount, messagesDone: pr.messages, bytes: pr.bytes }),
    },
  );
  // What the confirmation dialog and the finished row show: the plan's counts (a dry run's preview)
  // and what this run did. Counts only; the per-folder plan is in the CLI's --dry-run --json.
  const plan = result.plan;
  const counts: Record<string, number> = { restored: result.restored, alreadyPresent: result.alreadyPresent, notRestored: result.notRestored, foldersCreated: result.foldersCreated };
  if (plan) {
    Object.assign(counts, { toAppend: plan.toAppend, bytesToAppend: plan.bytesToAppend, foldersToCreate: plan.foldersToCreate.length, overAppendLimit: plan.overAppendLimit, corrupt: plan.corrupt });
    if (plan.quota?.usedBytes != null) counts.quotaUsedBytes = plan.quota.usedBytes;
    if (plan.quota?.limitBytes != null) counts.quotaLimitBytes = plan.quota.limitBytes;
  }
  return { status: result.status, errorCode: result.errorCode, outcome: { counts, ...(result.message ? { message: result.message.slice(0, 1024) } : {}) } };
};

/**
 * The job runners `mailkeep relay` uses, by kind. Download needs the link store (it publishes the
 * file), migrate the credential store (the destination is a second account).
 */
export function defaultRunners(deps: { downloads?: DownloadLinks; accounts?: AccountLookup } = {}): JobRunners {
  return {
    backup: backupRunner,
    restore: restoreRunner,
    ...(deps.downloads ? { download: downloadRunner(deps.downloads) } : {}),
    ...(deps.accounts ? { migrate: migrateRunner(deps.accounts) } : {}),
  };
}
