import type { DownloadStatus } from '../protocol/status-ids.ts';
import type { StatusTable, TransitionTable } from './status-info.ts';
import { AUTO_RETRY, REPORT, REPORT_AGAIN } from './hint-phrases.ts';

/** Download: one job row per request to export an archive file behind an expiring link. */
export const DOWNLOAD_STATUSES: StatusTable<DownloadStatus> = {
  on_queue: {
    kind: 'download', id: 'on_queue', label: 'On Queue',
    condition: 'The download process is queued',
    hint: 'The download starts by itself when its turn comes.',
    severity: 'info', badge: 'none', terminal: false, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  running: {
    kind: 'download', id: 'running', label: 'In Progress / Running',
    condition: 'Download is being generated',
    hint: 'The archive file is being generated; a Download button appears when it is ready.',
    severity: 'progress', badge: 'green', terminal: false, action: 'none', offersDiagnostics: false, autoRetry: false,
  },
  retrying: {
    kind: 'download', id: 'retrying', label: 'Retrying',
    condition: 'Retrying after download error.',
    hint: 'Mailkeep is trying again by itself. Click "Retry now" to try at once.',
    severity: 'warning', badge: 'amber', terminal: false, action: 'retry', offersDiagnostics: false, autoRetry: false,
  },
  failed: {
    kind: 'download', id: 'failed', label: 'Failed',
    condition:
      'Unknown error. The status will change within a few hours. If this does not happen, please contact our support.',
    hint: `${AUTO_RETRY} ${REPORT}`,
    severity: 'warning', badge: 'amber', terminal: false, action: 'retry', offersDiagnostics: true, autoRetry: true,
  },
  cancelled: {
    kind: 'download', id: 'cancelled', label: 'Cancelled',
    // Word for word from the specification, whose sentence lost its start ("When retry ...").
    condition:
      'has reached limit, it is automatically cancelled. Please try again. If it is cancelled again, please contact our support.',
    hint: `Retries ran out, so the download was cancelled. Click "Retry now" to try again. ${REPORT_AGAIN}`,
    severity: 'warning', badge: 'amber', terminal: true, action: 'retry', offersDiagnostics: true, autoRetry: false,
  },
  completed_link: {
    kind: 'download', id: 'completed_link', label: 'Completed / Link',
    condition: 'Download is completed and a link is available for download.',
    hint: 'Click "Download" to save the archive before the link expires.',
    severity: 'ok', badge: 'none', terminal: false, action: 'download', offersDiagnostics: false, autoRetry: false,
  },
  expired: {
    kind: 'download', id: 'expired', label: 'Expired',
    condition: 'Download Link has expired',
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
