import { browser } from 'wxt/browser';
import { readPairing, type LocalStore } from '../background/pairing-store.ts';
import { browserDownloadOptions, linkIsLive, type BrowserDownloadOptions } from '../download/browser-download.ts';
import { writeDownloadRecord } from '../download/download-records.ts';
import type { DownloadLink } from '../protocol/job-outcome.ts';
import type { ErrorCode } from '../protocol/error-codes.ts';

export interface SaveDownloadDeps {
  store: LocalStore;
  download(options: BrowserDownloadOptions): Promise<number>;
  now(): number;
}

const chromeDeps = (): SaveDownloadDeps => ({
  store: browser.storage.local as unknown as LocalStore,
  download: (o) => browser.downloads.download(o),
  now: () => Date.now(),
});

/**
 * Hands a finished export to the browser's download manager: the relay URL with the pairing token
 * as an Authorization header (the relay serves the file to nobody else), and records Chrome's id
 * for the job (lib/download/download-records.ts), so every page follows the real download from
 * then on. Returns the code of what stopped it before Chrome was asked, or null once Chrome has it
 * (whether Chrome then saves it or fails is what the record's id tells).
 */
export async function saveDownload(jobId: string, link: DownloadLink, deps: SaveDownloadDeps = chromeDeps()): Promise<ErrorCode | null> {
  if (!linkIsLive(link, deps.now())) return 'EXPIRED';
  const pairing = await readPairing(deps.store);
  if (!pairing) return 'RELAY_UNPAIRED';
  const options = browserDownloadOptions(pairing, link);
  const startedAt = deps.now();
  try {
    const downloadId = await deps.download(options);
    await writeDownloadRecord(deps.store, { jobId, downloadId, fileName: options.filename, startedAt });
  } catch (err) {
    // Chrome refused before starting (an invalid name, a policy): say so, never "Saving…".
    await writeDownloadRecord(deps.store, { jobId, downloadId: null, fileName: options.filename, startedAt, refused: (err as Error).message ?? String(err) });
  }
  return null;
}
