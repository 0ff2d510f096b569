import type { ErrorCode } from '../../lib/protocol/error-codes.ts';
import type { ImapAccount, JobProgress, JobSnapshot } from '../../lib/protocol/common.ts';
import type { JobParamsOf } from '../../lib/protocol/job-kinds.ts';
import type { JobOutcomeOf } from '../../lib/protocol/job-outcome.ts';
import type { JobKind } from '../../lib/protocol/status-ids.ts';
import type { OAuthLogin } from '../imap/oauth-login.ts';
import type { JobPacing } from './pacing.ts';

/**
 * What a job kind's runner (relay/jobs/<kind>/<kind>-runner.ts) gets from the job manager
 * (relay/server/job-manager.ts) and gives back. Here, below the server, so the runners need
 * nothing of relay/server and the server imports them, not the other way round.
 */

export interface JobRunContext<K extends JobKind = JobKind> {
  readonly job: JobSnapshot;
  readonly account: ImapAccount;
  /** Only for the IMAP login; never log it or put it in an error message. */
  readonly password: string;
  /** An OAuth2 account's token source (then `password` is empty): pass it to openSession's account. */
  readonly oauth?: OAuthLogin;
  /** Already checked against the kind's schema (lib/protocol/job-kinds.ts), defaults applied. */
  readonly params: JobParamsOf<K>;
  readonly dataDir: string;
  /**
   * The account's daily transfer budget one way (relay/state/transfer-budget.ts), on the relay's
   * clock; null when the relay keeps no state. `account`: another account's (a migrate's
   * destination); default the job's. The caller closes it when the job ends.
   */
  readonly openPacing?: (direction: 'down' | 'up', account?: ImapAccount) => { job: JobPacing; close: () => void } | null;
  /** Aborted by job.cancel (reason 'cancel') or relay shutdown (reason 'shutdown'). */
  readonly signal: AbortSignal;
  /** Throttled by the manager; call as often as convenient. */
  reportProgress(progress: Partial<JobProgress>): void;
  /**
   * Intermediate status changes (running once the session is open, retrying between attempts).
   * The final status is the runner's return value.
   */
  setStatus(status: string, errorCode?: ErrorCode | null): void;
}

/** Resolves with a status id to end in (default: the kind's completed status); throws a MailkeepError to fail. */
export type JobRunner<K extends JobKind = JobKind> = (
  ctx: JobRunContext<K>,
) => Promise<{ status?: string; errorCode?: ErrorCode | null; outcome?: JobOutcomeOf<K> } | void>;
export type JobRunners = { [K in JobKind]?: JobRunner<K> };

export interface AccountLookup {
  get(accountId: string): { account: ImapAccount; password?: string; oauthLogin?: OAuthLogin } | undefined;
}

/** A stored account with neither a password nor a sign-in: no job of it can log in (PASSWORD_NOT_STORED). */
export function cannotSignIn(stored: NonNullable<ReturnType<AccountLookup['get']>>): boolean {
  return stored.password === undefined && !stored.oauthLogin;
}
