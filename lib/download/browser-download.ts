import { relayBaseUrl, type Pairing } from '../background/pairing-store.ts';
import type { DownloadLink } from '../protocol/job-outcome.ts';

/**
 * What chrome.downloads.download needs to fetch a finished export from the relay: the relay only
 * serves it with the pairing token (Authorization: Bearer), so the header goes with the request
 * and the browser's download manager saves the file under the relay's suggested name.
 */
export interface BrowserDownloadOptions {
  url: string;
  filename: string;
  headers: { name: string; value: string }[];
  conflictAction: 'uniquify';
  saveAs: false;
}

export function browserDownloadOptions(pairing: Pick<Pairing, 'port' | 'token'>, link: DownloadLink): BrowserDownloadOptions {
  return {
    url: `${relayBaseUrl(pairing.port)}${link.url}`,
    // The download manager refuses path separators and a leading dot in a suggested name.
    filename: link.fileName.replace(/[\\/:*?"<>|]/g, '_').replace(/^\.+/, '_'),
    headers: [{ name: 'Authorization', value: `Bearer ${pairing.token}` }],
    conflictAction: 'uniquify',
    saveAs: false,
  };
}

/** True while the link may still be used (the relay answers 410 after). */
export function linkIsLive(link: DownloadLink, now = Date.now()): boolean {
  return Date.parse(link.expiresAt) > now;
}
