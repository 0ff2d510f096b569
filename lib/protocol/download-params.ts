import { z } from '../zod.ts';
import { SafeId, Timestamp } from './ids.ts';
import { ArchiveSelection } from './archive-browse.ts';

/**
 * `params` of job.start for kind "download" (the relay runs relay/jobs/download/run-download.ts, then
 * serves the file at an expiring link: JobSnapshot.outcome.link). Scalars only, so it is also a
 * valid JobParams. The job's `accountId` names the account whose archive is exported
 * (`sourceAccountId` overrides it).
 */
export const DownloadParams = z.strictObject({
  /** `eml`: one message's bytes as a .eml file (the Archive page's Download of one message). */
  format: z.enum(['mbox', 'eml-zip', 'eml']).default('mbox'),
  sourceAccountId: SafeId.optional(),
  /** Only this archived folder (decoded full name, e.g. "Projekte/2024"). */
  folder: z.string().min(1).max(1024).optional(),
  /** INTERNALDATE at or after `since`, before `until`. */
  since: Timestamp.optional(),
  until: Timestamp.optional(),
  /** The Archive page's selection: exactly these archived messages (archive-browse.ts ids); `eml` takes exactly one. */
  messageIds: ArchiveSelection.optional(),
  /** How long the link lives (options page setting); default 24 hours, 1 minute to 30 days. */
  linkTtlMinutes: z.number().int().min(1).max(30 * 24 * 60).optional(),
}).refine((p) => p.format !== 'eml' || p.messageIds?.length === 1, { message: 'an .eml download names exactly one message (messageIds)', path: ['format'] });
export type DownloadParams = z.infer<typeof DownloadParams>;
