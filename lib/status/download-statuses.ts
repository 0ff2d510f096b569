import type { DownloadStatus } from '../protocol/status-ids.ts';
import type { StatusTable, TransitionTable } from './status-info.ts';
import { displayedCondition } from './spec-conditions.ts';
import { AUTO_RETRY, REPORT, REPORT_AGAIN } from './hint-phrases.ts';

/** Download: one job row per request to export an archive file behind an expiring link. */
export const DOWNLOAD_STATUSES: StatusTable<DownloadStatus> = {
  on_queue: {
    kind: 'download', id: 'on_queue', label: 'On Queue',
    condition: displayedCondition('download', 'on_queue'),
    hint: 'The download starts by itself when its turn comes.',
    severity: 'info', badge: 'none', terminal: false, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  running: {
    kind: 'download', id: 'running', label: 'In Progress / Running',
    condition: displayedCondition('download', 'running'),
    hint: 'The archive file is being generated; a Download button appears when it is ready.',
    severity: 'progress', badge: 'green', terminal: false, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  retrying: {
    kind: 'download', id: 'retrying', label: 'Retrying',
    condition: displayedCondition('download', 'retrying'),
    hint: 'Mailkeep is trying again by itself. Click "Retry now" to try at once.',
    severity: 'warning', badge: 'amber', terminal: false, action: 'retry', offersDiagnostics: false, autoRetry: false,
  },
  failed: {
    kind: 'download', id: 'failed', label: 'Failed',
    condition: displayedCondition('download', 'failed'),
    hint: `${AUTO_RETRY} ${REPORT}`,
    severity: 'warning', badge: 'amber', terminal: false, action: 'retry', offersDiagnostics: true, autoRetry: true,
  },
  cancelled: {
    kind: 'download', id: 'cancelled', label: 'Cancelled',
    condition: displayedCondition('download', 'cancelled'),
    hint: `Retries ran out, so the download was cancelled. Click "Retry now" to try again. ${REPORT_AGAIN}`,
    severity: 'warning', badge: 'amber', terminal: true, action: 'retry', offersDiagnostics: true, autoRetry: false,
  },
  completed_link: {
    kind: 'download', id: 'completed_link', label: 'Completed / Link',
    condition: displayedCondition('download', 'completed_link'),
    hint: 'Click "Download" to save the archive before the link expires.',
    severity: 'ok', badge: 'none', terminal: false, action: 'download', offersDiagnostics: false, autoRetry: false,
  },
  expired: {
    kind: 'download', id: 'expired', label: 'Expired',
    condition: displayedCondition('download', 'expired'),
    hint: 'The link is no longer valid. Click "Retry now" to generate the download again.',
    severity: 'info', badge: 'none', terminal: true, action: 'retry', offersDiagnostics: false, autoRetry: false,
  },
};

export const DOWNLOAD_TRANSITIONS: TransitionTable<DownloadStatus> = {
  on_queue: ['running', 'cancelled'],
  running: ['completed_link', 'retrying', 'failed', 'cancelled'],
  // -> on_queue: "Retry now" restarts the job at once instead of waiting for the next attempt.
  retrying: ['running', 'failed', 'cancelled', 'on_queue'],
  failed: ['on_queue', 'cancelled'],
  cancelled: ['on_queue'],
  completed_link: ['expired'],
  expired: ['on_queue'],
};
