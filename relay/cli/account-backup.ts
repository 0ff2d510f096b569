import { RELAY_LIMITS } from '../../lib/limits.ts';
import type { JobSnapshot } from '../../lib/protocol/common.ts';
import { errorCodeOf, mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { BackupStatus } from '../../lib/protocol/status-ids.ts';
import { parseOptions, required } from './args.ts';
import type { Io } from './commands.ts';
import { withDataDir } from './data-dir-access.ts';
import { EXIT, jobExitCode } from '../server/exit-codes.ts';
import { formatBytes } from '../../lib/format.ts';
import { errorHint } from '../../lib/status/error-hints.ts';
import { findAccount, directApi } from './state-api.ts';
import { dataDirOf, stateCommand } from './state-command-io.ts';
import { statusName } from './status-command.ts';

/** How long the command waits for the backup it started: the engine's own run deadline, plus a margin to report it. */
const WAIT_MS = RELAY_LIMITS.backupRunDeadlineMs + 60_000;

/**
 * `mailkeep backup --account ACCOUNT [--json] [--data-dir DIR]`: one backup of a stored account now.
 * Through the running relay when there is one (a backup already running for the account is
 * joined, not doubled), else on the data dir directly under the relay's lock.
 */
export async function accountBackupCommand(argv: string[], io: Io): Promise<number> {
  const o = parseOptions(argv, { account: 'string', json: 'boolean', 'data-dir': 'string' });
  const ref = required(o, 'account');
  const dataDir = dataDirOf(o);
  return stateCommand(io, async () => {
    const key = `cli-${process.pid}-${Date.now()}`;
    let waiting: { jobId: string; resolve: () => void } | undefined;
    const { job, via } = await withDataDir<{ job: JobSnapshot; via: 'relay' | 'direct' }>(
      dataDir,
      {
        viaRelay: async ({ connection: c }) => {
          const { accounts } = await c.call('state.get', { jobLimit: 1 });
          const account = findAccount(accounts, ref).account;
          let job: JobSnapshot;
          try {
            job = (await c.call('job.start', { kind: 'backup', accountId: account.id, idempotencyKey: key, params: {} })).job;
          } catch (err) {
            // One is running already (scheduled, or started from the extension): wait for that one.
            const running = (err as { details?: { jobId?: unknown } }).details?.jobId;
            if (errorCodeOf(err) !== 'ARCHIVE_LOCKED' || typeof running !== 'string') throw err;
            job = (await c.call('job.get', { jobId: running })).job;
          }
          if (!o.json) io.err.write(`Backing up ${account.id} through the running relay (job ${job.id})...\n`);
          const deadline = Date.now() + WAIT_MS;
          while (job.phase !== 'finished' && job.phase !== 'interrupted') {
            if (Date.now() > deadline) throw mailkeepError('CONNECTION_TIMEOUT', `the backup ${job.id} did not finish in time; it may still run in the relay`);
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 1_000); // events wake it sooner; this covers a missed one
              waiting = { jobId: job.id, resolve: () => (clearTimeout(timer), resolve()) };
            });
            job = (await c.call('job.get', { jobId: job.id })).job;
          }
          return { job, via: 'relay' };
        },
        direct: async (state) => {
          const { accounts } = await directApi(state).snapshot();
          const account = findAccount(accounts, ref).account;
          if (!o.json) io.err.write(`Backing up ${account.id} (no relay runs on ${dataDir}: directly)...\n`);
          const finished = new Promise<void>((resolve) => {
            state.jobs.subscribe((e) => {
              if (e.event === 'status' && e.phase !== 'active' && e.phase !== 'queued') resolve();
            });
          });
          const { job } = state.jobs.start({ kind: 'backup', accountId: account.id, idempotencyKey: key, params: {} });
          const onAbort = (): void => void state.jobs.cancel(job.id);
          io.signal?.addEventListener('abort', onAbort, { once: true });
          await finished;
          io.signal?.removeEventListener('abort', onAbort);
          return { job: state.jobs.get(job.id), via: 'direct' };
        },
      },
      { onEvent: (e) => (waiting?.jobId === e.jobId ? waiting.resolve() : undefined) },
    );
    return report(job, via, o.json === true, io);
  });
}

function report(job: JobSnapshot, via: 'relay' | 'direct', json: boolean, io: Io): number {
  const status = job.status as BackupStatus;
  const counts = (job.kind === 'backup' ? job.outcome?.counts : undefined) ?? { messages: 0, bytes: 0 };
  const interrupted = job.phase === 'interrupted';
  if (json) {
    io.out.write(
      `${JSON.stringify({ kind: 'backup', via, jobId: job.id, account: job.accountId, status: interrupted ? 'Interrupted' : statusName(status), statusId: status, phase: job.phase, errorCode: job.errorCode, messages: counts.messages, bytes: counts.bytes })}\n`,
    );
  } else {
    io.out.write(`${interrupted ? 'Interrupted (the relay stopped; it resumes the backup when it starts)' : statusName(status)}: ${counts.messages} new message(s), ${formatBytes(counts.bytes)}${job.errorCode ? ` (${job.errorCode})` : ''}\n`);    // What to do about it, in the extension's words (e.g. OAUTH_REVOKED: "Sign in again").
    if (job.errorCode && (status === 'authentication_error' || status === 'connection_error')) io.out.write(`${errorHint(job.errorCode)?.replace('account edit NAME', `account edit ${job.accountId}`)}\n`);
  }
  if (interrupted) return EXIT.partial;
  if (status === 'completed' || status === 'partially_completed' || status === 'authentication_error' || status === 'connection_error') return jobExitCode({ status, errorCode: job.errorCode });
  return EXIT.failed;
}
