/**
 * The download job's contract (archive -> a file), shared by `mailkeep export` and the relay.
 *
 *   const result = await runDownload({ archiveDir, source, format, out, scope }, { signal, onProgress, onStatus });
 *
 * - Never throws: resolves with a final status of the specification's Download table as far as
 *   the engine decides it: completed_link (the file is complete at `out`), failed (disk full, a
 *   damaged blob, no such archive or account: the message says which), cancelled (the caller's
 *   abort, or RETRY_LIMIT when transient local errors outlasted the attempts). Serving the link
 *   and its expiry (expired) belong to the relay (relay/server/download-links.ts).
 * - onStatus sees running (-> retrying -> running)* -> final.
 * - Never a half file: see export-archive.ts.
 * - Never destroys anything: an `out` inside the archive, a directory, or an existing file (unless
 *   `force`, which the relay never sets) fails with OUTPUT_INSIDE_ARCHIVE / OUTPUT_IS_DIRECTORY /
 *   OUTPUT_EXISTS before a byte is written (relay/export/out-path.ts); not retried.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RELAY_LIMITS } from '../../../lib/limits.ts';
import { MailkeepError, type ErrorCode } from '../../../lib/protocol/error-codes.ts';
import type { DownloadStatus } from '../../../lib/protocol/status-ids.ts';
import { exportArchive, type ExportOptions, type ExportProgress } from '../../export/export-archive.ts';

export interface DownloadOptions extends ExportOptions {
  retry?: { maxAttempts?: number; baseDelayMs?: number };
}

export interface DownloadResult {
  kind: 'download';
  status: Extract<DownloadStatus, 'completed_link' | 'failed' | 'cancelled'>;
  errorCode: ErrorCode | null;
  message: string | null;
  file: string | null;
  fileBytes: number;
  messages: number;
  bytes: number;
  folders: number;
  attempts: number;
  durationMs: number;
}

export interface DownloadHooks {
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
  onStatus?: (status: DownloadStatus, detail: { attempt: number; errorCode?: ErrorCode; message?: string; retryInMs?: number }) => void;
}

/** Local errors that a moment later may be gone: a busy index, a full file table. */
const TRANSIENT = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']);

export async function runDownload(opts: DownloadOptions, hooks: DownloadHooks = {}): Promise<DownloadResult> {
  const started = Date.now();
  const maxAttempts = opts.retry?.maxAttempts ?? RELAY_LIMITS.downloadMaxAttempts;
  const baseDelay = opts.retry?.baseDelayMs ?? RELAY_LIMITS.downloadRetryBaseDelayMs;
  const status: NonNullable<DownloadHooks['onStatus']> = (s, d) => {
    try {
      hooks.onStatus?.(s, d);
    } catch {
      /* a listener's bug must not break the export */
    }
  };
  let attempt = 0;
  const result = (s: DownloadResult['status'], code: ErrorCode | null, message: string | null, summary?: Awaited<ReturnType<typeof exportArchive>>): DownloadResult => {
    status(s, { attempt, ...(code ? { errorCode: code } : {}), ...(message ? { message } : {}) });
    return {
      kind: 'download', status: s, errorCode: code, message,
      file: summary?.file ?? null, fileBytes: summary?.fileBytes ?? 0, messages: summary?.messages ?? 0, bytes: summary?.bytes ?? 0, folders: summary?.folders ?? 0,
      attempts: attempt, durationMs: Date.now() - started,
    };
  };
  for (attempt = 1; ; attempt++) {
    status('running', { attempt });
    try {
      const summary = await exportArchive(opts, { signal: hooks.signal, onProgress: hooks.onProgress });
      return result('completed_link', null, null, summary);
    } catch (err) {
      if (hooks.signal?.aborted) return result('cancelled', 'CANCELLED', 'download cancelled');
      const sys = (err as NodeJS.ErrnoException)?.code ?? '';
      const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 300);
      if (!(err instanceof MailkeepError) && TRANSIENT.has(sys)) {
        const delay = baseDelay * 2 ** (attempt - 1);
        status('retrying', { attempt, errorCode: 'UNKNOWN', message, ...(attempt < maxAttempts ? { retryInMs: delay } : {}) });
        if (attempt >= maxAttempts) return result('cancelled', 'RETRY_LIMIT', `gave up after ${attempt} attempts: ${message}`);
        try {
          await sleep(delay, undefined, { signal: hooks.signal });
        } catch {
          return result('cancelled', 'CANCELLED', 'download cancelled');
        }
        continue;
      }
      const code: ErrorCode = err instanceof MailkeepError ? err.code : sys === 'ENOSPC' ? 'DISK_FULL' : 'UNKNOWN';
      return result('failed', code, message);
    }
  }
}
