import type { Badge } from '../status/badge.ts';

export interface NotificationSpec {
  id: string;
  title: string;
  message: string;
  /** Button titles; the index comes back in NotificationAction. */
  buttons: string[];
}

/**
 * What the background logic needs from the browser, as an interface: the logic stays testable with
 * plain stubs (fake-browser has no notifications API) and the Chromium wiring stays in one file.
 */
export interface BackgroundPorts {
  setBadge(badge: Badge): Promise<void>;
  notify(note: NotificationSpec): Promise<void>;
  /** Ids of this extension's notifications still on screen (chrome.notifications.getAll). */
  listNotifications?(): Promise<string[]>;
  /** Takes one off the screen: what it said is no longer true. */
  clearNotification?(id: string): Promise<void>;
  /** Opens an extension page in a tab, e.g. "options.html#account=ID". */
  openPage(pathAndHash: string): Promise<void>;
  /** Opens a web page in a new tab (a provider's sign-in page); absent where there are no tabs. */
  openUrl?(url: string): Promise<void>;
}
