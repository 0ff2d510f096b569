import { z } from '../zod.ts';
import { SafeId } from './ids.ts';
import { LabelMode } from './restore-params.ts';

/**
 * `params` of job.start for kind "migrate" (the relay runs relay/jobs/migrate/run-migrate.ts). The job's
 * `accountId` is the source (read-only); `destinationAccountId` another account the relay holds
 * credentials for. Scalars only, so it is also a valid JobParams.
 */
export const MigrateParams = z.strictObject({
  destinationAccountId: SafeId,
  /** From Gmail into a server without labels: one folder per label (default) or the first label only (restore-params.ts LabelMode). */
  labels: LabelMode.optional(),
  /** Preview only: JobSnapshot.outcome.migratePlan holds the folder mapping and counts; nothing is written. */
  dryRun: z.boolean().optional(),
});
export type MigrateParams = z.infer<typeof MigrateParams>;
