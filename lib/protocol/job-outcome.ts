import { z } from '../zod.ts';

/**
 * What a finished job hands back beyond its status: the download link, the migrate plan (the
 * dry run's preview), which server failed, counts. Platform-free; kept out of common.ts's imports
 * (common.ts imports this file) so there is no module cycle.
 */

/** A finished download: GET `url` on the relay with the pairing token, until `expiresAt`. */
export const DownloadLink = z.strictObject({
  /** Path on the relay, e.g. "/download/<64 hex>"; the token in it is unguessable (256 bits). */
  url: z.string().regex(/^\/download\/[A-Za-z0-9_-]{16,128}$/),
  expiresAt: z.iso.datetime({ offset: true }),
  /** Suggested file name for the browser's download manager. */
  fileName: z.string().min(1).max(255),
  bytes: z.number().int().nonnegative(),
});
export type DownloadLink = z.infer<typeof DownloadLink>;

/** One row of the migrate preview: where a source folder goes and what happens to its messages. */
export const MigratePlanFolderView = z.strictObject({
  source: z.string().max(1024),
  destination: z.string().max(1024),
  specialUse: z.string().max(32).nullable(),
  create: z.boolean(),
  messages: z.number().int().nonnegative(),
  alreadyPresent: z.number().int().nonnegative(),
  toCopy: z.number().int().nonnegative(),
  overAppendLimit: z.number().int().nonnegative(),
  bytesToCopy: z.number().int().nonnegative(),
});

export const MigratePlanView = z.strictObject({
  folders: z.array(MigratePlanFolderView).max(10_000),
  foldersToCreate: z.array(z.string().max(1024)).max(10_000),
  messages: z.number().int().nonnegative(),
  alreadyPresent: z.number().int().nonnegative(),
  toCopy: z.number().int().nonnegative(),
  overAppendLimit: z.number().int().nonnegative(),
  bytesToCopy: z.number().int().nonnegative(),
});
export type MigratePlanView = z.infer<typeof MigratePlanView>;

export const JobOutcome = z.strictObject({
  link: DownloadLink.optional(),
  /** Migrate: whose server caused the failure status (whose password to fix). */
  side: z.enum(['source', 'destination']).optional(),
  /** Secret-free, one line: e.g. "destination: the destination server refused the user name or password". */
  message: z.string().max(1024).optional(),
  /** e.g. { migrated, notMigrated, alreadyPresent } or { messages, folders }. */
  counts: z.record(z.string().max(64), z.number().int().nonnegative()).optional(),
  migratePlan: MigratePlanView.optional(),
});
export type JobOutcome = z.infer<typeof JobOutcome>;
