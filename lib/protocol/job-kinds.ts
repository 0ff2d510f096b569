import { z } from '../zod.ts';
import type { JobKind } from './status-ids.ts';
import { MailkeepError } from './error-codes.ts';
import { DownloadParams } from './download-params.ts';
import { IdempotencyKey, SafeId } from './ids.ts';
import { JOB_OUTCOMES } from './job-outcome.ts';
import { MigrateParams } from './migrate-params.ts';
import { RestoreParams } from './restore-params.ts';

/**
 * One place for what each job kind takes and gives back. On the wire a job's parameters travel
 * next to its kind (job.start `{ kind, accountId, idempotencyKey, params }`), never inside them,
 * so the union is over `{ kind, params }`: parsing it checks the params against the kind's schema.
 */

/** `params` of job.start for kind "backup": none. */
export const BackupParams = z.strictObject({});
export type BackupParams = z.infer<typeof BackupParams>;

/** Each kind's parameter schema (the `params` of job.start with that `kind`). */
export const JOB_PARAMS = { backup: BackupParams, download: DownloadParams, restore: RestoreParams, migrate: MigrateParams } as const;
export type JobParamsOf<K extends JobKind> = z.output<(typeof JOB_PARAMS)[K]>;
/** What a caller may write (defaults not yet applied, e.g. a download's format). */
export type JobParamsInputOf<K extends JobKind> = z.input<(typeof JOB_PARAMS)[K]>;


const BackupRequest = z.strictObject({ kind: z.literal('backup'), params: BackupParams.default({}) });
const DownloadRequest = z.strictObject({ kind: z.literal('download'), params: DownloadParams.default({ format: 'mbox' }) });
const RestoreRequest = z.strictObject({ kind: z.literal('restore'), params: RestoreParams.default({}) });
/** No default: a migration without a destination is not a migration. */
const MigrateRequest = z.strictObject({ kind: z.literal('migrate'), params: MigrateParams });

/** A job's kind with its parameters, checked together. */
export const JobRequest = z.discriminatedUnion('kind', [BackupRequest, DownloadRequest, RestoreRequest, MigrateRequest]);
export type JobRequest = z.infer<typeof JobRequest>;

/** Any kind's parameters. Which kind they belong to is the job's `kind`: read them through JobRequest. */
export const JobParams = z.union([BackupParams, RestoreParams, DownloadParams, MigrateParams]);
export type JobParams = JobRequest['params'];

const startFields = { accountId: SafeId, idempotencyKey: IdempotencyKey };

/** The body of job.start: a union by kind, the same object the extension has always sent. */
export const JobStartBody = z.discriminatedUnion('kind', [
  BackupRequest.extend(startFields),
  DownloadRequest.extend(startFields),
  RestoreRequest.extend(startFields),
  MigrateRequest.extend(startFields),
]);
export type JobStartBody = z.infer<typeof JobStartBody>;

const issuesText = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');

/**
 * job.start's body from a kind and params held apart (a stored row, a form): checked here, so a
 * mismatch is an INVALID_INPUT before anything is sent, the same code the relay would answer.
 */
export function jobStartBody(input: { kind: JobKind; accountId: string; idempotencyKey: string; params?: unknown }): JobStartBody {
  const parsed = JobStartBody.safeParse({ ...input, params: input.params ?? undefined });
  if (!parsed.success) throw new MailkeepError('INVALID_INPUT', `${input.kind} job: ${issuesText(parsed.error)}`);
  return parsed.data;
}

/**
 * A stored job's kind and parameters as the union, or null when they do not fit together (a row
 * from before parameters were recorded, or params of another kind). Readers narrow on `kind`.
 */
export function jobRequestOf(job: { kind: JobKind; params?: unknown }): JobRequest | null {
  const parsed = JobRequest.safeParse({ kind: job.kind, params: job.params ?? undefined });
  return parsed.success ? parsed.data : null;
}

/** A job's kind with its outcome (the union JobSnapshot carries), for readers of stored outcomes. */
export const JobResult = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('backup'), outcome: JOB_OUTCOMES.backup }),
  z.strictObject({ kind: z.literal('download'), outcome: JOB_OUTCOMES.download }),
  z.strictObject({ kind: z.literal('restore'), outcome: JOB_OUTCOMES.restore }),
  z.strictObject({ kind: z.literal('migrate'), outcome: JOB_OUTCOMES.migrate }),
]);
export type JobResult = z.infer<typeof JobResult>;

/** A stored outcome read by its job's kind, or null when there is none or it is not of that kind. */
export function jobResultOf(job: { kind: JobKind; outcome?: unknown }): JobResult | null {
  if (job.outcome == null) return null;
  const parsed = JobResult.safeParse({ kind: job.kind, outcome: job.outcome });
  return parsed.success ? parsed.data : null;
}
