import type { RestoreCounts } from '../../../lib/protocol/job-outcome.ts';
import { appendRecordsDirOf, archiveDirOf } from '../data-dirs.ts';
import type { JobRunner } from '../job-runner.ts';

/**
 * Restore through relay/jobs/restore/run-restore.ts into the job's account, from the archive of
 * `params.sourceAccountId` (default: the same account). Never throws for IMAP trouble: the final
 * restore status and code come back as the result (bad params never get here: the job manager
 * fails the job with INVALID_INPUT).
 */
export const restoreRunner: JobRunner<'restore'> = async (ctx) => {
  const p = ctx.params;
  const { runRestore } = await import('./run-restore.ts');
  const { account } = ctx;
  // The destination's daily upload budget and connection cap (a dry run appends nothing: no budget).
  const pacing = p.dryRun ? null : (ctx.openPacing?.('up') ?? null);
  const result = await runRestore(
    {
      archiveDir: archiveDirOf(ctx.dataDir, p.sourceAccountId ?? account.id),
      target: { host: account.host, port: account.port, security: account.security, user: account.user, password: ctx.password, ...(account.ca ? { ca: account.ca } : {}), ...(ctx.oauth ? { oauth: ctx.oauth } : {}), ...(pacing?.job.maxConnections ? { maxConnections: pacing.job.maxConnections } : {}) },
      ...(pacing ? { pacing: pacing.job } : {}),
      scope: {
        ...(p.folder !== undefined ? { folder: p.folder } : {}),
        ...(p.since !== undefined ? { since: new Date(p.since) } : {}),
        ...(p.until !== undefined ? { until: new Date(p.until) } : {}),
        ...(p.atRun !== undefined ? { atRun: p.atRun } : {}),
        ...(p.disappearedInRun !== undefined ? { disappearedInRun: p.disappearedInRun } : {}),
        ...(p.messageIds !== undefined ? { ids: p.messageIds } : {}),
      },
      ...(p.into !== undefined ? { into: p.into } : {}),
      ...(p.labels !== undefined ? { labels: p.labels } : {}),
      dryRun: p.dryRun ?? false,
      appendRecordsDir: appendRecordsDirOf(ctx.dataDir),
    },
    {
      signal: ctx.signal,
      onStatus: (status, detail) => {
        if (status === 'running' || status === 'retrying') ctx.setStatus(status, detail.errorCode ?? null);
      },
      // The extension's confirmation shows the dry run's count; a real run's bar fills up to it.
      // bytesTotal with the budget: the forecast of a paced restore ("about 3 days at Gmail's daily upload limit").
      onPlan: (plan) => ctx.reportProgress({ messagesTotal: plan.toAppend, messagesDone: 0, ...(pacing?.job.dailyBytes ? { bytesTotal: plan.bytesToAppend, dailyBudgetBytes: pacing.job.dailyBytes, budgetName: pacing.job.limitName } : {}) }),
      onProgress: (pr) =>
        ctx.reportProgress({
          folder: pr.folder, folderIndex: pr.folderIndex, folderCount: pr.folderCount, messagesDone: pr.messages, bytes: pr.bytes,
          ...(pacing?.job.dailyBytes ? { dailyBudgetBytes: pacing.job.dailyBytes, budgetName: pacing.job.limitName } : {}),
        }),
    },
  );
  pacing?.close();
  // What the confirmation dialog and the finished row show: the plan's counts (a dry run's preview)
  // and what this run did. Counts only; the per-folder plan is in the CLI's --dry-run --json.
  const plan = result.plan;
  const counts: RestoreCounts = {
    restored: result.restored,
    alreadyPresent: result.alreadyPresent,
    notRestored: result.notRestored,
    foldersCreated: result.foldersCreated,
    ...(result.labelsAdded ? { labelsAdded: result.labelsAdded } : {}),
    ...(plan
      ? {
          toAppend: plan.toAppend,
          bytesToAppend: plan.bytesToAppend,
          foldersToCreate: plan.foldersToCreate.length,
          overAppendLimit: plan.overAppendLimit,
          corrupt: plan.corrupt,
          ...(plan.labels ? { distinctMessages: plan.labels.messages, ...(plan.labels.mode === 'gmail' ? { labelsToAdd: plan.labels.labelsToAdd } : {}) } : {}),
          ...(plan.quota?.usedBytes != null ? { quotaUsedBytes: plan.quota.usedBytes } : {}),
          ...(plan.quota?.limitBytes != null ? { quotaLimitBytes: plan.quota.limitBytes } : {}),
        }
      : {}),
  };
  return { status: result.status, errorCode: result.errorCode, outcome: { counts, ...(result.message ? { message: result.message.slice(0, 1024) } : {}), ...(result.pause ? { pause: result.pause } : {}) } };
};
