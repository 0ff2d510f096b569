import { MailkeepError } from '../protocol/error-codes.ts';
import type { AnyStatus, JobKind, StatusOf } from '../protocol/status-ids.ts';
import { StatusByKind } from '../protocol/status-ids.ts';
import type { StatusInfo, TransitionTable } from './status-info.ts';
import { BACKUP_STATUSES, BACKUP_TRANSITIONS } from './backup-statuses.ts';
import { DOWNLOAD_STATUSES, DOWNLOAD_TRANSITIONS } from './download-statuses.ts';
import { RESTORE_STATUSES, RESTORE_TRANSITIONS } from './restore-statuses.ts';
import { MIGRATE_STATUSES, MIGRATE_TRANSITIONS } from './migrate-statuses.ts';

/** The single source of every status word the UI shows. */
export const CATALOG = {
  backup: BACKUP_STATUSES,
  download: DOWNLOAD_STATUSES,
  restore: RESTORE_STATUSES,
  migrate: MIGRATE_STATUSES,
} as const;

export const TRANSITIONS: { readonly [K in JobKind]: TransitionTable<StatusOf<K>> } = {
  backup: BACKUP_TRANSITIONS,
  download: DOWNLOAD_TRANSITIONS,
  restore: RESTORE_TRANSITIONS,
  migrate: MIGRATE_TRANSITIONS,
};

/** The status a new job of this kind starts in, and the one "Retry now" and auto-retry go back to. */
export const QUEUE_STATUS: { readonly [K in JobKind]: StatusOf<K> } = {
  backup: 'preparing',
  download: 'on_queue',
  restore: 'on_queue',
  migrate: 'on_queue',
};

export const JOB_KINDS: readonly JobKind[] = ['backup', 'download', 'restore', 'migrate'];

/** Status ids of a kind, in the order the dashboard lists them. */
export function statusesOf<K extends JobKind>(kind: K): readonly StatusOf<K>[] {
  return StatusByKind[kind].options as unknown as readonly StatusOf<K>[];
}

export function isStatusOf<K extends JobKind>(kind: K, status: string): status is StatusOf<K> {
  return (StatusByKind[kind].options as readonly string[]).includes(status);
}

/** Looks a status up; a status that is not of this kind is a bug, never a blank card. */
export function statusInfo(kind: JobKind, status: AnyStatus | string): StatusInfo {
  const table = CATALOG[kind] as Record<string, StatusInfo>;
  const info = table[status];
  if (!info) throw new MailkeepError('INVALID_INPUT', `"${status}" is not a ${kind} status`, { kind, status });
  return info;
}
