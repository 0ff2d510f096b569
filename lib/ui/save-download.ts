import { browser } from 'wxt/browser';
import { readPairing } from '../background/pairing-store.ts';
import { browserDownloadOptions, linkIsLive } from '../download/browser-download.ts';
import type { DownloadLink } from '../protocol/job-outcome.ts';
import type { ErrorCode } from '../protocol/error-codes.ts';

/**
 * Hands a finished export to the browser's download manager: the relay URL with the pairing token
 * as an Authorization header (the relay serves the file to nobody else). Returns the code of what
 * stopped it, or null once the download has started.
 */
export async function saveDownload(link: DownloadLink): Promise<ErrorCode | null> {
  if (!linkIsLive(link)) return 'EXPIRED';
  const pairing = await readPairing(browser.storage.local);
  if (!pairing) return 'RELAY_UNPAIRED';
  await browser.downloads.download(browserDownloadOptions(pairing, link));
  return null;
}
