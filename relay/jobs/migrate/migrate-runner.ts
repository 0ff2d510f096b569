import { mailkeepError } from '../../../lib/protocol/error-codes.ts';
import type { MigratePlanView } from '../../../lib/protocol/job-outcome.ts';
import type { MigratePlan } from './migrate-types.ts';
import { appendRecordsDirOf } from '../data-dirs.ts';
import { cannotSignIn, type AccountLookup, type JobRunner } from '../job-runner.ts';

/** The preview the extension shows before the user confirms (wire caps: see MigratePlanView). */
export function planView(p: MigratePlan): MigratePlanView {
  return {
    folders: p.folders.slice(0, 10_000).map((f) => ({ ...f, source: f.source.slice(0, 1024), destination: f.destination.slice(0, 1024), specialUse: f.specialUse?.slice(0, 32) ?? null })),
    foldersToCreate: p.foldersToCreate.slice(0, 10_000).map((f) => f.slice(0, 1024)),
    messages: p.messages,
    alreadyPresent: p.alreadyPresent,
    toCopy: p.toCopy,
    overAppendLimit: p.overAppendLimit,
    bytesToCopy: p.bytesToCopy,
    ...(p.quota && p.quota.limitBytes !== null ? { destinationQuota: { usedBytes: p.quota.usedBytes, limitBytes: p.quota.limitBytes } } : {}),
  };
}

/**
 * Migrate through relay/jobs/migrate/run-migrate.ts: the job's account is the source (read-only), and
 * `params.destinationAccountId` names another account whose stored credentials log in to the
 * destination. runMigrate never throws; its final status, the failing side and the plan come back
 * as the job's status and outcome.
 */
export function migrateRunner(accounts: AccountLookup): JobRunner<'migrate'> {
  return async (ctx) => {
    const p = ctx.params;
    if (p.destinationAccountId === ctx.account.id) throw mailkeepError('INVALID_INPUT', 'the destination must be another account than the source');
    const dest = accounts.get(p.destinationAccountId);
    if (!dest) throw mailkeepError('NOT_FOUND', `no account ${p.destinationAccountId}`);
    // The destination's missing password is the destination's to fix: its side says whose "Edit" it is.
    if (cannotSignIn(dest)) {
      return { status: 'authentication_error', errorCode: 'PASSWORD_NOT_STORED', outcome: { side: 'destination', message: `account ${p.destinationAccountId} has no stored password` } };
    }
    const { runMigrate } = await import('./run-migrate.ts');
    const a = ctx.account;
    const d = dest.account;
    // The source's daily download budget and the destination's upload budget, each with its
    // connection cap (a dry run reads headers only and appends nothing: no budget).
    const srcPacing = p.dryRun ? null : (ctx.openPacing?.('down') ?? null);
    const dstPacing = p.dryRun ? null : (ctx.openPacing?.('up', d) ?? null);
    // The tighter of the two budgets, read when the plan is known (the sessions may have shown X-GM-EXT-1 by then).
    const tighter = () => [srcPacing?.job, dstPacing?.job].filter((j) => !!j?.dailyBytes).sort((x, y) => x!.dailyBytes! - y!.dailyBytes!)[0] ?? null;
    const cap = (x: { job: { maxConnections: number | null } } | null) => (x?.job.maxConnections ? { maxConnections: x.job.maxConnections } : {});
    const result = await runMigrate(
      {
        source: { host: a.host, port: a.port, security: a.security, user: a.user, password: ctx.password, ...(a.ca ? { ca: a.ca } : {}), ...(ctx.oauth ? { oauth: ctx.oauth } : {}), ...cap(srcPacing) },
        // An OAuth destination logs in with its own access token (renewed by the relay's token manager).
        destination: { host: d.host, port: d.port, security: d.security, user: d.user, password: dest.password ?? '', ...(d.ca ? { ca: d.ca } : {}), ...(dest.oauthLogin ? { oauth: dest.oauthLogin } : {}), ...cap(dstPacing) },
        ...(srcPacing ? { sourcePacing: srcPacing.job } : {}),
        ...(dstPacing ? { destinationPacing: dstPacing.job } : {}),
        dryRun: p.dryRun ?? false,
        ...(p.labels !== undefined ? { labels: p.labels } : {}),
        appendRecordsDir: appendRecordsDirOf(ctx.dataDir),
      },
      {
        signal: ctx.signal,
        onStatus: (status, detail) => {
          if (status === 'running' || status === 'retrying') ctx.setStatus(status, detail.errorCode ?? null);
        },
        // With a budget: the bytes total and the tighter daily limit, for the forecast of a paced migrate.
        onPlan: (plan) => {
          const budget = tighter();
          ctx.reportProgress({ messagesTotal: plan.toCopy, messagesDone: 0, ...(budget ? { bytesTotal: plan.bytesToCopy, dailyBudgetBytes: budget.dailyBytes!, budgetName: budget.limitName } : {}) });
        },
        onProgress: (pr) => ctx.reportProgress({ folder: pr.folder, folderIndex: pr.folderIndex, folderCount: pr.folderCount, messagesDone: pr.messages, bytes: pr.bytes }),
      },
    );
    srcPacing?.close();
    dstPacing?.close();
    return {
      status: result.status,
      errorCode: result.errorCode,
      outcome: {
        ...(result.side ? { side: result.side } : {}),
        ...(result.message ? { message: result.message.slice(0, 1024) } : {}),
        counts: { migrated: result.migrated, notMigrated: result.notMigrated, alreadyPresent: result.alreadyPresent, foldersCreated: result.foldersCreated },
        ...(result.plan ? { migratePlan: planView(result.plan) } : {}),
        ...(result.pause ? { pause: result.pause } : {}),
      },
    };
  };
}
