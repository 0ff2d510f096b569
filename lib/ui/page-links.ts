import { browser } from 'wxt/browser';
import { optionsPathFor } from '../background/notification-ids.ts';

type PagePath = Parameters<typeof browser.runtime.getURL>[0];

export function extensionUrl(pathAndHash: string): string {
  return browser.runtime.getURL(pathAndHash as PagePath);
}

/** Opens an extension page in a new tab and closes the toolbar popup if that is where we are. */
export async function openPage(pathAndHash: string): Promise<void> {
  await browser.tabs.create({ url: extensionUrl(pathAndHash) });
  if (isToolbarPopup()) window.close();
}

export const openAccountInOptions = (accountId: string) => openPage(optionsPathFor(accountId));

/** The popup is also opened as a plain tab (tests, keyboard users): only the real popup closes itself. */
function isToolbarPopup(): boolean {
  return typeof chrome !== 'undefined' && !!chrome.extension?.getViews?.({ type: 'popup' }).includes(window);
}
