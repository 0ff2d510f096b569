import { z } from '../zod.ts';

/** Job kinds of the specification (spec/status-dashboard.txt). */
export const JobKind = z.enum(['backup', 'download', 'restore', 'migrate']);
export type JobKind = z.infer<typeof JobKind>;

/**
 * Status identifiers, one enum per kind, exactly the statuses of the specification's tables
 * (plus Backup's Deactivated, from the spec's first section). Labels, conditions and hints
 * live in the catalog; these ids are what is stored and sent over the wire.
 */
export const BackupStatus = z.enum([
  'preparing', // "Preparing Backup"
  'running', // "In Progress / Running"
  'retrying',
  'connection_error',
  'authentication_error',
  'partially_completed',
  'completed',
  'deactivated',
]);
export const DownloadStatus = z.enum([
  'on_queue',
  'running',
  'retrying',
  'failed',
  'cancelled',
  'completed_link', // "Completed / Link"
  'expired',
]);
export const RestoreStatus = z.enum([
  'on_queue',
  'running',
  'retrying',
  'connection_error',
  'authentication_error',
  'partially_complete',
  'cancelled',
  'failed',
  'completed',
]);
export const MigrateStatus = RestoreStatus;

export type BackupStatus = z.infer<typeof BackupStatus>;
export type DownloadStatus = z.infer<typeof DownloadStatus>;
export type RestoreStatus = z.infer<typeof RestoreStatus>;
export type MigrateStatus = z.infer<typeof MigrateStatus>;

export const StatusByKind = {
  backup: BackupStatus,
  download: DownloadStatus,
  restore: RestoreStatus,
  migrate: MigrateStatus,
} as const;
export type StatusOf<K extends JobKind> = z.infer<(typeof StatusByKind)[K]>;
export type AnyStatus = BackupStatus | DownloadStatus | RestoreStatus;
