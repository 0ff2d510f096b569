import { MailkeepError, errorCodeOf, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import type { RequestFrame } from '../../lib/protocol/client-frames.ts';
import type { ErrorFrame, ResultFrame } from '../../lib/protocol/relay-frames.ts';
import type { RestorePrompt } from '../../lib/protocol/restore-params.ts';
import type { CredentialStore } from '../secrets/credential-store.ts';
import type { JobManager } from './job-manager.ts';
import type { TestConnection } from './test-connection.ts';
import type { RelayState } from '../state/relay-state.ts';
import { accountHistory } from '../state/run-history.ts';
import type { ArchiveCommands } from './archive-commands.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';

export interface DispatchDeps {
  jobs: JobManager;
  credentials: Pick<CredentialStore, 'upsert' | 'delete' | 'get' | 'list'>;
  testConnection: TestConnection;
  log: (line: string) => void;
  /** One-click restore prompts from the account's archive (relay/jobs/restore/restore-prompts.ts). */
  restorePrompts?: (accountId: string, runId?: number) => Promise<RestorePrompt[]>;
  /**
   * Accounts, schedules and the scheduler (relay/state): `mailkeep relay` always passes it; without
   * it (door tests) accounts go straight to the credential store and state.get/schedule.set refuse.
   */
  state?: RelayState;
  /** The Archive page's archive.* requests (archive-commands.ts); without it (door tests) they are refused. */
  archive?: ArchiveCommands;
}

/**
 * One validated request -> one result or error frame. Shared by the WebSocket and POST /rpc so
 * both doors behave the same. Results never include a password.
 */
export async function dispatch(req: RequestFrame, deps: DispatchDeps): Promise<ResultFrame | ErrorFrame> {
  try {
    return { type: 'result', id: req.id, result: await handle(req, deps) };
  } catch (err) {
    const code = errorCodeOf(err);
    if (!(err instanceof MailkeepError)) deps.log(`request ${req.method} failed: ${String((err as Error)?.message ?? err).slice(0, RELAY_LIMITS.logDetailMaxChars)}`);
    // A job id in the details (e.g. "a backup of this account already runs": which one) is safe to share.
    const jobId = err instanceof MailkeepError && typeof err.details.jobId === 'string' ? err.details.jobId : undefined;
    // Where a search query stops making sense (SEARCH_QUERY_INVALID), so the page can point at it.
    const position = err instanceof MailkeepError && typeof err.details.position === 'number' ? err.details.position : undefined;
    const details = { ...(jobId ? { jobId } : {}), ...(position !== undefined ? { position } : {}) };
    return errorFrame(req.id, code, err instanceof MailkeepError ? err.message : 'internal error', Object.keys(details).length ? details : undefined);
  }
}

async function handle(req: RequestFrame, deps: DispatchDeps): Promise<unknown> {
  switch (req.method) {
    case 'account.upsert': {
      const { account, password, schedule } = req.params;
      if (deps.state) {
        const { hasPassword } = deps.state.upsertAccount(account, password, schedule);
        deps.log(`account ${account.id} saved`);
        return { accountId: account.id, hasPassword, state: await deps.state.accountState(account.id) };
      }
      const { hasPassword } = deps.credentials.upsert(account, password);
      deps.log(`account ${account.id} saved`);
      return { accountId: account.id, hasPassword };
    }
    case 'account.list':
      return { accounts: deps.credentials.list() };
    case 'account.delete':
      return { accountId: req.params.accountId, deleted: deps.state ? deps.state.deleteAccount(req.params.accountId) : deps.credentials.delete(req.params.accountId) };
    case 'account.test': {
      const p = req.params;
      const account = 'account' in p ? p.account : deps.credentials.get(p.accountId)?.account;
      const storedId = 'account' in p ? p.account.id : p.accountId;
      const password = ('password' in p ? p.password : undefined) ?? deps.credentials.get(storedId)?.password;
      if (!account) throw new MailkeepError('NOT_FOUND', `no account ${storedId}`);
      // A signed-in OAuth2 account logs in with its token (renewed if needed), never a password.
      if (password === undefined && account.auth?.kind === 'oauth2' && deps.state && deps.credentials.get(storedId)?.oauth) {
        return deps.testConnection(account, '', deps.state.tokens.loginFor(storedId));
      }
      if (password === undefined) throw new MailkeepError('INVALID_INPUT', 'no password given or stored for this account');
      return deps.testConnection(account, password);
    }
    case 'job.start':
      return deps.jobs.start(req.params);
    case 'job.cancel':
      return { job: await deps.jobs.cancel(req.params.jobId) };
    case 'job.retry':
      return { job: deps.state ? deps.state.retryJob(req.params.jobId) : deps.jobs.retry(req.params.jobId) };
    case 'job.list':
      return { jobs: deps.jobs.list(req.params) };
    case 'job.get':
      return { job: deps.jobs.get(req.params.jobId) };
    case 'restore.prompts':
      return { prompts: deps.restorePrompts ? await deps.restorePrompts(req.params.accountId, req.params.runId) : [] };
    case 'schedule.set': {
      const state = needState(deps);
      state.setSchedule(req.params.accountId, req.params.schedule);
      return { account: await state.accountState(req.params.accountId) };
    }
    case 'state.get':
      return needState(deps).snapshot(req.params.jobLimit);
    case 'account.history': {
      const state = needState(deps);
      return accountHistory({ dataDir: state.dataDir, db: state.db, clock: state.clock }, req.params);
    }
    case 'oauth.start':
      return needState(deps).oauth.start(req.params);
    case 'oauth.status':
      return needState(deps).oauth.status(req.params.flowId);
    case 'archive.runs':
    case 'archive.folders':
    case 'archive.messages':
    case 'archive.search':
    case 'archive.show':
      if (!deps.archive) throw new MailkeepError('INVALID_INPUT', 'this relay does not serve archive browsing');
      return deps.archive(req);
  }
}

function needState(deps: DispatchDeps): RelayState {
  if (!deps.state) throw new MailkeepError('INVALID_INPUT', 'this relay keeps no account state');
  return deps.state;
}

export function errorFrame(id: string | null, code: ErrorCode, message: string, details?: Record<string, unknown>): ErrorFrame {
  return { type: 'error', id, code, message: message.slice(0, 1024), ...(details ? { details } : {}) };
}
