import { z } from '../zod.ts';
import { ErrorCode } from './error-code-schema.ts';
import { ImapAccount, JobEvent, JobSnapshot, RequestId, SafeId, Timestamp } from './common.ts';
import { AccountEvent, AccountState } from './account-state.ts';
import type { RequestMethod } from './client-frames.ts';
import { RestorePrompt } from './restore-params.ts';
import { AccountHistoryResult } from './account-history.ts';
import { OAuthFlowEvent, OAuthFlowStatus, OAuthStartResult } from './oauth.ts';
import { ArchiveResultByMethod } from './archive-browse.ts';

/** Frames the relay sends to the extension. */

export const WelcomeFrame = z.strictObject({
  type: z.literal('welcome'),
  /** The negotiated protocol version. */
  version: z.number().int().positive(),
  relay: z.strictObject({ name: z.literal('mailkeep-relay'), version: z.string().max(32) }),
});

/** Result payloads, one per request method. A password never appears in any of them. */

/**
 * What Test connection checked, in order, so the options page says what worked and what failed:
 * the server answered (TCP and greeting), the connection is encrypted (TLS or STARTTLS), the login
 * was accepted, and the folders were listed (their number; null when not reached or refused).
 */
export const ConnectionChecks = z.strictObject({
  reached: z.boolean(),
  secure: z.boolean(),
  signedIn: z.boolean(),
  folders: z.number().int().nonnegative().nullable(),
});
export type ConnectionChecks = z.infer<typeof ConnectionChecks>;

export const ResultByMethod = {
  /** `state` (relays since issue 11): the account as it now stands, schedule and next run included. */
  'account.upsert': z.strictObject({ accountId: SafeId, hasPassword: z.boolean(), state: AccountState.optional() }),
  'account.list': z.strictObject({
    accounts: z.array(z.strictObject({ account: ImapAccount, hasPassword: z.boolean() })),
  }),
  'account.delete': z.strictObject({ accountId: SafeId, deleted: z.boolean() }),
  'account.test': z.discriminatedUnion('ok', [
    z.strictObject({ ok: z.literal(true), capabilities: z.array(z.string().max(128)).max(256), checks: ConnectionChecks.optional() }),
    z.strictObject({ ok: z.literal(false), errorCode: ErrorCode, message: z.string().max(1024), checks: ConnectionChecks.optional() }),
  ]),
  /** `created: false` means the idempotency key was already known: the existing job is returned. */
  'job.start': z.strictObject({ job: JobSnapshot, created: z.boolean() }),
  'job.cancel': z.strictObject({ job: JobSnapshot }),
  /** The job that runs now: the same job (restore, download, migrate) or the new backup. */
  'job.retry': z.strictObject({ job: JobSnapshot }),
  'job.list': z.strictObject({ jobs: z.array(JobSnapshot) }),
  'job.get': z.strictObject({ job: JobSnapshot }),
  /** Empty when the account has no archive yet or nothing disappeared in that run. */
  'restore.prompts': z.strictObject({ prompts: z.array(RestorePrompt).max(10_000) }),
  'schedule.set': z.strictObject({ account: AccountState }),
  'state.get': z.strictObject({
    /** The relay's wall clock, so the extension can tell "next run in 2 h" without trusting its own. */
    relayTime: Timestamp,
    /** The relay's IANA time zone: daily schedules are local times there. */
    timeZone: z.string().max(64),
    accounts: z.array(AccountState).max(10_000),
    jobs: z.array(JobSnapshot).max(500),
  }),
  'account.history': AccountHistoryResult,
  'oauth.start': OAuthStartResult,
  'oauth.status': OAuthFlowStatus,
  ...ArchiveResultByMethod,
} as const satisfies Record<RequestMethod, z.ZodType>;
export type ResultOf<M extends RequestMethod> = z.infer<(typeof ResultByMethod)[M]>;

/** The wire frame; the client validates `result` with ResultByMethod[method of its request]. */
export const ResultFrame = z.strictObject({
  type: z.literal('result'),
  id: RequestId,
  result: z.unknown(),
});

/**
 * A typed refusal. `id` is the request's id when the relay could read one, else null
 * (unparseable JSON, unknown frame type, a frame before hello).
 */
export const ErrorFrame = z.strictObject({
  type: z.literal('error'),
  id: RequestId.nullable(),
  code: ErrorCode,
  message: z.string().max(1024),
  /** Secret-free hints, e.g. the zod issue paths of an invalid request. */
  details: z.record(z.string(), z.unknown()).optional(),
});

/** Everything the relay pushes: job progress and status, account changes and removals. */
export const RelayEvent = z.union([JobEvent, AccountEvent, OAuthFlowEvent]);
export type RelayEvent = z.infer<typeof RelayEvent>;

/** Pushed to every authenticated socket: job progress and status changes, account changes. */
export const EventFrame = z.strictObject({ type: z.literal('event'), data: RelayEvent });

export const RelayFrame = z.discriminatedUnion('type', [WelcomeFrame, ResultFrame, ErrorFrame, EventFrame]);
export type RelayFrame = z.infer<typeof RelayFrame>;
export type WelcomeFrame = z.infer<typeof WelcomeFrame>;
export type ResultFrame = z.infer<typeof ResultFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;
export type EventFrame = z.infer<typeof EventFrame>;
