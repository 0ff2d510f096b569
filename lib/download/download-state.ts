import { formatBytes } from '../format.ts';

/**
 * What the page says about a save to the downloads folder, taken from Chrome's own record of the
 * download (chrome.downloads.search / onChanged), never from the click alone: "Saving…" only while
 * Chrome says in_progress, "Saved" only once it says complete, and Chrome's reason when it stops.
 */

/** The fields of chrome.downloads.DownloadItem this view reads (a subset, so tests build them by hand). */
export interface DownloadItemLike {
  id: number;
  state: 'in_progress' | 'interrupted' | 'complete' | string;
  filename: string;
  bytesReceived: number;
  totalBytes: number;
  error?: string;
  exists?: boolean;
  paused?: boolean;
}

export type DownloadView =
  | { state: 'starting' }
  | { state: 'saving'; downloadId: number; text: string }
  | { state: 'saved'; downloadId: number; fileName: string; text: string; fileGone: boolean }
  | { state: 'failed'; downloadId: number | null; reason: string; text: string; /** The browser's own words, for the technical details only. */ detail?: string }
  /** The id recorded for this job is no longer in Chrome's list (the user cleared it). */
  | { state: 'forgotten' };

/**
 * Chrome's interrupt reasons (chrome.downloads.InterruptReason) in words, with what to do. These
 * are the browser's codes, not Mailkeep's (those have their words in lib/status/error-hints.ts), as
 * a server's replies have theirs in lib/status/server-text-words.ts. A relay
 * that is down refuses the connection (NETWORK_FAILED); a link that expired answers 410 or 404
 * (SERVER_FAILED, SERVER_BAD_CONTENT); a token the relay no longer accepts answers 401/403.
 */
export const INTERRUPT_WORDS: Record<string, string> = {
  NETWORK_FAILED: 'the relay could not be reached (is it running?)',
  NETWORK_TIMEOUT: 'the relay took too long to answer',
  NETWORK_DISCONNECTED: 'the network connection was lost',
  NETWORK_SERVER_DOWN: 'the relay is not answering',
  NETWORK_INVALID_REQUEST: 'the browser refused the request',
  SERVER_FAILED: 'the relay no longer has this file (the link expired or the relay was restarted without it)',
  SERVER_NO_RANGE: 'the relay cannot continue the interrupted download',
  SERVER_BAD_CONTENT: 'the relay does not know this link any more (it expired)',
  SERVER_UNAUTHORIZED: 'the relay refused this browser (pair again in Options)',
  SERVER_CERT_PROBLEM: 'the connection was not trusted',
  SERVER_FORBIDDEN: 'the relay refused this browser (pair again in Options)',
  SERVER_UNREACHABLE: 'the relay could not be reached (is it running?)',
  SERVER_CONTENT_LENGTH_MISMATCH: 'the file arrived incomplete',
  SERVER_CROSS_ORIGIN_REDIRECT: 'the download was redirected elsewhere',
  FILE_FAILED: 'the file could not be written',
  FILE_ACCESS_DENIED: 'the downloads folder may not be written to',
  FILE_NO_SPACE: 'the disk is full',
  FILE_NAME_TOO_LONG: 'the file name is too long for this disk',
  FILE_TOO_LARGE: 'the file is too large for this disk',
  FILE_VIRUS_INFECTED: 'a virus scanner blocked the file',
  FILE_TRANSIENT_ERROR: 'the file could not be written for a moment',
  FILE_BLOCKED: 'the browser or a policy blocked this download',
  FILE_SECURITY_CHECK_FAILED: 'a security check of the file failed',
  FILE_TOO_SHORT: 'the file arrived incomplete',
  FILE_HASH_MISMATCH: 'the file arrived damaged',
  FILE_SAME_AS_SOURCE: 'the file would replace itself',
  USER_CANCELED: 'it was cancelled',
  USER_SHUTDOWN: 'the browser was closed while saving',
  CRASH: 'the browser stopped while saving',
};

/** "the disk is full" for FILE_NO_SPACE; an unknown reason is named as Chrome names it. */
export function interruptWords(reason: string | undefined): string {
  if (!reason) return 'the browser stopped it without saying why';
  return INTERRUPT_WORDS[reason] ?? `the browser stopped it (${reason})`;
}

/** The last path segment, on any OS: what a person sees in their downloads folder. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).at(-1) ?? path;
}

/** "1.2 MB of 3.4 MB", "1.2 MB" when Chrome does not know the total, "" before the first byte. */
export function bytesText(received: number, total: number): string {
  if (received <= 0 && total <= 0) return '';
  return total > 0 ? `${formatBytes(received)} of ${formatBytes(total)}` : formatBytes(received);
}

/** The view of one Chrome download item; `suggestedName` stands in while Chrome has no path yet. */
export function downloadView(item: DownloadItemLike | undefined, suggestedName: string): DownloadView {
  if (!item) return { state: 'forgotten' };
  if (item.state === 'complete') {
    const fileName = baseName(item.filename) || suggestedName;
    const gone = item.exists === false;
    return {
      state: 'saved',
      downloadId: item.id,
      fileName,
      fileGone: gone,
      text: gone ? `Saved as ${fileName}, but the file is no longer in its folder.` : `Saved as ${fileName} (${formatBytes(item.bytesReceived)}).`,
    };
  }
  if (item.state === 'interrupted') {
    const reason = item.error ?? 'UNKNOWN';
    return { state: 'failed', downloadId: item.id, reason, text: `Not saved: ${interruptWords(item.error)}.` };
  }
  const bytes = bytesText(item.bytesReceived, item.totalBytes);
  const paused = item.paused ? ' (paused)' : '';
  return { state: 'saving', downloadId: item.id, text: `Saving to your downloads folder${bytes ? `: ${bytes}` : '…'}${paused}` };
}

/** The view when Chrome refused to start the download at all (downloads.download threw). */
export function refusedView(message: string): DownloadView {
  // The browser's own words go to the technical details, not into the sentence.
  return { state: 'failed', downloadId: null, reason: 'REFUSED', text: 'Not saved: the browser refused to start the download.', detail: message };
}
