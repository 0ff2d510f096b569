import { SCHEDULE_LIMITS } from '../../lib/limits.ts';
import type { JobSnapshot, SnapshotOf } from '../../lib/protocol/common.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { RestoreParams } from '../../lib/protocol/restore-params.ts';
import type { RestoreStatus } from '../../lib/protocol/status-ids.ts';
import { formatBytes } from '../../lib/format.ts';
import { errorHint } from '../../lib/status/error-hints.ts';
import { restoreRunner } from '../jobs/restore/restore-runner.ts';
import { EXIT, jobExitCode } from '../server/exit-codes.ts';
import type { Io } from './commands.ts';
import { withDataDir } from './data-dir-access.ts';
import { errorLine } from './error-line.ts';
import { directApi, findAccount } from './state-api.ts';
import { RESTORE_STATUS_NAMES } from './restore-status-names.ts';
import type { AccountState } from '../../lib/protocol/account-state.ts';

/** What `restore --account` asks of the relay: the stored account to restore into, and the job's params. */
export interface AccountRestoreRequest {
  dataDir: string;
  /** The destination: a stored account (id, login or address). */
  account: string;
  /** Whose archive to read (another stored account); default the destination's own. */
  fromAccount?: string;
  /** Everything but sourceAccountId, which is resolved here from `fromAccount`. */
  params: Omit<RestoreParams, 'sourceAccountId'>;
  json: boolean;
}

/**
 * `mailkeep restore --account NAME`: a restore job of a stored account, as the extension starts one.
 * The archive, host, port, security, user, CA and password (or OAuth sign-in) are the relay's own:
 * through the running relay when there is one (the job is in its history and on its pages), else on
 * the data dir directly under the relay's lock, with the same runner. Waits for the job's end.
 */
export async function accountRestore(req: AccountRestoreRequest, io: Io): Promise<number> {
  const key = `cli-restore-${process.pid}-${Date.now()}`;
  let waiting: { jobId: string; wake: () => void } | undefined;
  const say = (s: string): void => void (req.json ? undefined : io.err.write(s));
  const ids = (accounts: readonly AccountState[]): { accountId: string; params: RestoreParams } => {
    const dest = findAccount(accounts, req.account).account;
    const src = req.fromAccount === undefined ? undefined : findAccount(accounts, req.fromAccount).account;
    return { accountId: dest.id, params: { ...req.params, ...(src && src.id !== dest.id ? { sourceAccountId: src.id } : {}) } };
  };
  const { job, via } = await withDataDir<{ job: JobSnapshot; via: 'relay' | 'direct' }>(
    req.dataDir,
    {
      viaRelay: async ({ connection: c }) => {
        const { accounts } = await c.call('state.get', { jobLimit: 1 });
        const { accountId, params } = ids(accounts);
        let job = (await c.call('job.start', { kind: 'restore', accountId, idempotencyKey: key, params })).job;
        say(`Restoring into ${accountId} through the running relay (job ${job.id})...\n`);
        // Ctrl-C cancels the job in the relay (it stops after the APPENDs in flight), then we report it.
        const onAbort = (): void => void c.call('job.cancel', { jobId: job.id }).catch(() => undefined);
        io.signal?.addEventListener('abort', onAbort, { once: true });
        try {
          const deadline = Date.now() + SCHEDULE_LIMITS.cliRestoreWaitMs;
          while (!ended(job)) {
            if (Date.now() > deadline) throw mailkeepError('CONNECTION_TIMEOUT', `the restore ${job.id} did not finish in time; it may still run in the relay (mailkeep status)`);
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 1_000); // events wake it sooner; this covers a missed one
              waiting = { jobId: job.id, wake: () => (clearTimeout(timer), resolve()) };
            });
            job = (await c.call('job.get', { jobId: job.id })).job;
          }
        } finally {
          io.signal?.removeEventListener('abort', onAbort);
        }
        return { job, via: 'relay' };
      },
      direct: async (state) => {
        const { accounts } = await directApi(state).snapshot();
        const { accountId, params } = ids(accounts);
        say(`Restoring into ${accountId} (no relay runs on ${req.dataDir}: directly)...\n`);
        let jobId = '';
        const finished = new Promise<void>((resolve) => {
          state.jobs.subscribe((e) => {
            if (e.event === 'status' && e.jobId === jobId && e.phase !== 'active' && e.phase !== 'queued') resolve();
          });
        });
        jobId = state.jobs.start({ kind: 'restore', accountId, idempotencyKey: key, params }).job.id;
        const onAbort = (): void => void state.jobs.cancel(jobId);
        io.signal?.addEventListener('abort', onAbort, { once: true });
        // The job may have ended before the subscription saw its id (bad params fail at once).
        if (!ended(state.jobs.get(jobId))) await finished;
        io.signal?.removeEventListener('abort', onAbort);
        return { job: state.jobs.get(jobId), via: 'direct' };
      },
      directRunners: { restore: restoreRunner },
    },
    { onEvent: (e) => (waiting?.jobId === e.jobId ? waiting.wake() : undefined) },
  );
  return report(job as SnapshotOf<'restore'>, via, req, io);
}

const ended = (job: JobSnapshot): boolean => job.phase === 'finished' || job.phase === 'interrupted';

function report(job: SnapshotOf<'restore'>, via: 'relay' | 'direct', req: AccountRestoreRequest, io: Io): number {
  const status = job.status as RestoreStatus;
  const c = job.outcome?.counts;
  const interrupted = job.phase === 'interrupted';
  const dryRun = req.params.dryRun === true;
  if (req.json) {
    io.out.write(
      `${JSON.stringify({ kind: 'restore', via, jobId: job.id, account: job.accountId, dryRun, status: interrupted ? 'Interrupted' : RESTORE_STATUS_NAMES[status], statusId: status, phase: job.phase, errorCode: job.errorCode, message: job.outcome?.message ?? null, counts: c ?? null, ...(job.outcome?.pause ? { pause: job.outcome.pause } : {}) })}\n`,
    );
  } else if (interrupted) {
    io.out.write('Interrupted (the relay stopped; it resumes the restore when it starts)\n');
  } else if (dryRun && c && status === 'completed') {
    io.out.write(`Plan (dry run, nothing changed): ${c.toAppend ?? 0} to append (${formatBytes(c.bytesToAppend ?? 0)}), ${c.alreadyPresent} already present, ${c.overAppendLimit ?? 0} over APPENDLIMIT, ${c.corrupt ?? 0} damaged in the archive${c.foldersToCreate ? `, ${c.foldersToCreate} folder(s) to create` : ''}\n`);
  } else {
    io.out.write(`${RESTORE_STATUS_NAMES[status]}: ${c?.restored ?? 0} restored, ${c?.alreadyPresent ?? 0} already present, ${c?.notRestored ?? 0} not restored, ${c?.foldersCreated ?? 0} folder(s) created\n`);
    if (job.outcome?.pause) io.out.write(`Paused at the provider's limit; the relay resumes it at ${job.outcome.pause.resumeAt}\n`);
  }
  if (!req.json && job.errorCode && status !== 'completed') {
    io.err.write(errorLine(job.errorCode, job.outcome?.message ?? job.errorCode));
    // What to do about it, in the extension's words (e.g. AUTH_FAILED: "account edit NAME").
    if (status === 'authentication_error' || status === 'connection_error') {
      const hint = errorHint(job.errorCode);
      if (hint) io.err.write(`${hint.replace('account edit NAME', `account edit ${job.accountId}`)}\n`);
    }
  }
  if (interrupted) return EXIT.partial;
  if (status === 'on_queue' || status === 'running') return EXIT.failed;
  if (status === 'retrying') return EXIT.partial; // paused under a provider's limit: resumes by itself
  return jobExitCode({ status, errorCode: job.errorCode });
}
