import { isAuthCode } from '../imap/classify-error.ts';
import type { ErrorCode } from '../../lib/protocol/error-codes.ts';
import type { JobKind } from '../../lib/protocol/status-ids.ts';

/**
 * The relay's side of the status ids: where a job starts, what "running" and "done" are called
 * for each kind, and which status an error code ends in. The service worker's state machines
 * decide what happens next (Retrying, backoff); the relay only reports what it saw.
 */
export function queuedStatus(kind: JobKind): string {
  return kind === 'backup' ? 'preparing' : 'on_queue';
}

export const RUNNING_STATUS = 'running';

export function completedStatus(kind: JobKind): string {
  return kind === 'download' ? 'completed_link' : 'completed';
}

const CONNECTION_CODES = new Set<ErrorCode>([
  'CONNECTION_REFUSED',
  'HOST_NOT_FOUND',
  'CONNECTION_TIMEOUT',
  'TLS_FAILED',
  'TLS_CERT_UNTRUSTED',
  'TLS_CERT_NAME_MISMATCH',
  'TLS_CERT_EXPIRED',
  'TLS_WRONG_PORT',
  'CONNECTION_LOST',
  'SERVER_BUSY',
  'OAUTH_UNREACHABLE',
  'RETRY_LIMIT',
]);

export function statusForError(kind: JobKind, code: ErrorCode): string {
  if (kind === 'download') return code === 'CANCELLED' ? 'cancelled' : 'failed';
  if (isAuthCode(code)) return 'authentication_error';
  if (CONNECTION_CODES.has(code)) return 'connection_error';
  if (kind === 'backup') {
    // Backup has neither Cancelled nor Failed in the specification: a cancelled backup keeps what
    // it stored (Partially Completed); any other failure keeps its code for the hint and report.
    return code === 'CANCELLED' ? 'partially_completed' : 'connection_error';
  }
  if (code === 'CANCELLED') return 'cancelled';
  if (code === 'QUOTA_EXCEEDED' || code === 'APPENDLIMIT_EXCEEDED' || code === 'MESSAGE_REFUSED' || code === 'FOLDER_NOT_CREATED') return 'partially_complete';
  return 'failed';
}
