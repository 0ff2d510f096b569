import { z } from '../zod.ts';
import { ImapAccount, Password, RequestId, SafeId } from './common.ts';
import { JobStartBody } from './job-kinds.ts';
import { Schedule } from './account-state.ts';
import { OAuthStartParams } from './oauth.ts';
import { AccountHistoryParams } from './account-history.ts';
import { ArchiveFolders, ArchiveMessages, ArchiveRuns, ArchiveSearch, ArchiveShow } from './archive-browse.ts';

/**
 * Frames the extension sends to the relay over the WebSocket (JSON text frames).
 * The first frame must be `hello` (it carries the pairing token); every later one is a request
 * with an `id` that the relay's `result` or `error` frame echoes.
 */

export const HelloFrame = z.strictObject({
  type: z.literal('hello'),
  /** Versions the client speaks; the relay picks the highest shared one. */
  versions: z.array(z.number().int().positive()).min(1).max(16),
  /** The long random token from POST /pair. Only the first frame may carry it. */
  token: z.string().min(1).max(256),
  client: z.strictObject({ name: z.string().max(64), version: z.string().max(32) }),
});

const request = <M extends string, P extends z.ZodType>(method: M, params: P) =>
  z.strictObject({ type: z.literal('request'), id: RequestId, method: z.literal(method), params });

/**
 * Stores the account's settings and, when given, its password (sent once, never echoed) and its
 * schedule (a new account without one gets DEFAULT_SCHEDULE; an existing one keeps its own).
 */
export const AccountUpsert = request(
  'account.upsert',
  z.strictObject({ account: ImapAccount, password: Password.optional(), schedule: Schedule.optional() }),
);
/** The accounts the relay holds, with whether a password is stored (never the password). */
export const AccountList = request('account.list', z.strictObject({}));
/** Forgets the account's settings and password. Its archive stays on disk. */
export const AccountDelete = request('account.delete', z.strictObject({ accountId: SafeId }));
/** A real IMAP login: either a stored account, or settings + password typed in the form right now. */
export const AccountTest = request(
  'account.test',
  z.union([
    z.strictObject({ accountId: SafeId }),
    z.strictObject({ account: ImapAccount, password: Password.optional() }),
  ]),
);
/** Params are checked against the kind here, so a runner gets its kind's parsed params (job-kinds.ts). */
export const JobStart = request('job.start', JobStartBody);
export const JobCancel = request('job.cancel', z.strictObject({ jobId: SafeId }));
/**
 * "Retry now" of any job, applied by the relay through lib/status's state machine: a restore,
 * download or migrate job runs again under its id (a new attempt); a backup starts a new run.
 */
export const JobRetry = request('job.retry', z.strictObject({ jobId: SafeId }));
/** Every job the relay knows (newest first), for reconciliation after a service-worker restart. */
export const JobList = request(
  'job.list',
  z.strictObject({ accountId: SafeId.optional(), limit: z.number().int().min(1).max(500).default(100) }),
);
export const JobGet = request('job.get', z.strictObject({ jobId: SafeId }));
/** What disappeared from the server in the account's latest backup run (or `runId`), per folder. */
export const RestorePrompts = request(
  'restore.prompts',
  z.strictObject({ accountId: SafeId, runId: z.number().int().positive().optional() }),
);

/** Sets when the account's backup runs by itself; `{kind:'off'}` makes it Deactivated. */
export const ScheduleSet = request('schedule.set', z.strictObject({ accountId: SafeId, schedule: Schedule }));
/**
 * Everything the extension mirrors, in one answer: every account's state and the recent jobs
 * (newest first). Later changes arrive as events (account.changed, account.removed, job events).
 */
export const StateGet = request(
  'state.get',
  z.strictObject({ jobLimit: z.number().int().min(1).max(500).default(100) }),
);

/** What the account's archive holds and its backup runs, newest first, a page at a time (account-history.ts). */
export const AccountHistory = request('account.history', AccountHistoryParams);

/** Starts an OAuth2 sign-in run by the relay (lib/protocol/oauth.ts); open the returned URL in a tab. */
export const OAuthStart = request('oauth.start', OAuthStartParams);
/** Where a sign-in stands (for a client that missed the oauth.completed / oauth.failed event). */
export const OAuthStatus = request('oauth.status', z.strictObject({ flowId: SafeId }));

export const RequestFrame = z.discriminatedUnion('method', [
  AccountUpsert,
  AccountList,
  AccountDelete,
  AccountTest,
  JobStart,
  JobCancel,
  JobRetry,
  JobList,
  JobGet,
  RestorePrompts,
  ScheduleSet,
  StateGet,
  AccountHistory,
  OAuthStart,
  OAuthStatus,
  // The Archive page (archive-browse.ts): read-only browsing and search of an account's archive.
  ArchiveRuns,
  ArchiveFolders,
  ArchiveMessages,
  ArchiveSearch,
  ArchiveShow,
]);
export type RequestFrame = z.infer<typeof RequestFrame>;
export type RequestMethod = RequestFrame['method'];
export type ParamsOf<M extends RequestMethod> = Extract<RequestFrame, { method: M }>['params'];

export const ClientFrame = z.discriminatedUnion('type', [HelloFrame, RequestFrame]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type HelloFrame = z.infer<typeof HelloFrame>;
