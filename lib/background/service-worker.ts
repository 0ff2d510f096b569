import { liveQuery } from 'dexie';
import { browser } from 'wxt/browser';
import { EXTENSION_LIMITS } from '../limits.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { drivesRelay, handleMessage, isMutating, retryJob } from './messages.ts';
import { createCoordinator, type Coordinator } from './coordinator.ts';
import { RELAY_CHECK_ALARM } from './legacy-alarms.ts';
import type { FetchLike, WebSocketLike } from '../protocol/relay-client.ts';
import { parseNotificationId, optionsPathFor } from './notification-ids.ts';
import type { BackgroundPorts } from './ports.ts';
import type { NativeHostPorts, NativePortLike } from './native-host-link.ts';
import { reconcile, serialized } from './reconcile.ts';
import { welcomeOnInstall } from './welcome-on-install.ts';

/**
 * Wires the service worker. Runs on every start of the worker (install, browser start, or a wake
 * after Chromium stopped it): listeners are registered synchronously, as MV3 requires, and the
 * badge is recomputed from the store at once and whenever accounts or jobs change.
 */
export { RELAY_CHECK_ALARM };

/** The coordinator wired to Chromium: storage.local, alarms, the worker's WebSocket and fetch. */
export function browserCoordinator(db: MailkeepDb): Coordinator {
  return createCoordinator({
    db,
    storage: browser.storage.local,
    alarms: browser.alarms,
    openSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
    fetch: ((url, init) => fetch(url, init)) as FetchLike,
    client: { name: 'mailkeep-extension', version: browser.runtime.getManifest().version },
    nativeHost: chromeNativeHost(),
  });
}

/**
 * chrome.runtime.connectNative, read straight from `chrome`: the browser's lastError is only
 * readable inside the port's onDisconnect callback, which the polyfill does not pass on. Absent
 * (Firefox without the permission, tests) means code pairing only.
 */
function chromeNativeHost(): NativeHostPorts | undefined {
  if (typeof chrome === 'undefined' || typeof chrome.runtime?.connectNative !== 'function') return undefined;
  return {
    connectNative: (name) => chrome.runtime.connectNative(name) as unknown as NativePortLike,
    lastErrorMessage: () => chrome.runtime.lastError?.message,
  };
}

export function startServiceWorker(db: MailkeepDb, ports: BackgroundPorts, coordinator: Coordinator = browserCoordinator(db)): void {
  const refresh = serialized(() => reconcile(db, ports));
  const meta = { extensionVersion: browser.runtime.getManifest().version, userAgent: navigator.userAgent };
  const drive = () => coordinator.pump().then(() => refresh()).catch((err: unknown) => console.error('mailkeep: coordinator pass failed', err));

  browser.runtime.onMessage.addListener(((message: unknown, sender: { id?: string }) => {
    if (sender.id !== browser.runtime.id) return undefined; // only our own pages
    return handleMessage(db, ports, meta, message, coordinator).then(async (reply) => {
      if (reply.ok && isMutating(message)) await refresh();
      // Not awaited: the page gets its answer at once; the open socket keeps the worker alive.
      if (reply.ok && drivesRelay(message)) void drive();
      return reply;
    });
  }) as Parameters<typeof browser.runtime.onMessage.addListener>[0]);

  // The relay owns schedules and retries (backups run with the browser closed); the worker keeps
  // one light alarm to reconnect and refresh its mirror when nothing else wakes it.
  const ensureAlarm = () => void browser.alarms.create(RELAY_CHECK_ALARM, { periodInMinutes: EXTENSION_LIMITS.relayCheckAlarmMinutes });
  browser.runtime.onInstalled.addListener(ensureAlarm);
  browser.runtime.onInstalled.addListener(({ reason }) => void welcomeOnInstall(db, ports, reason).catch((err: unknown) => console.error('mailkeep: welcome page not opened', err)));
  browser.runtime.onStartup.addListener(ensureAlarm);
  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === RELAY_CHECK_ALARM) void drive();
  });
  // Every start (install, browser start, wake after being stopped) reconciles with the relay.
  void drive();

  // Covers writes from any context (pages, the relay's events); the first emission is the
  // recompute-on-wake. Reads whole rows so a renamed account also refreshes the tooltip.
  liveQuery(() => Promise.all([db.accounts.toArray(), db.jobs.toArray(), db.settings.get('relayState'), db.prompts.count()])).subscribe({
    next: () => void refresh().catch((err: unknown) => console.error('mailkeep: badge refresh failed', err)),
    error: (err: unknown) => console.error('mailkeep: store subscription failed', err),
  });
}

/**
 * Routes notification clicks and button clicks to onNotificationAction; `after` runs once each is
 * handled (the entrypoint pumps the coordinator, so a "Retry now" starts on the relay at once).
 */
export function listenForNotificationClicks(db: MailkeepDb, ports: BackgroundPorts, after: () => unknown = () => undefined, coordinator?: Coordinator): void {
  const act = (id: string, index: number | null) => onNotificationAction(db, ports, id, index, coordinator).then(after).catch(() => undefined);
  browser.notifications.onButtonClicked.addListener((id, index) => act(id, index));
  browser.notifications.onClicked.addListener((id) => act(id, null));
}

/** What a notification button or click does; the notification id says which account and job. */
export async function onNotificationAction(db: MailkeepDb, ports: BackgroundPorts, notificationId: string, buttonIndex: number | null, coordinator?: Coordinator): Promise<void> {
  const ref = parseNotificationId(notificationId);
  if (!ref) return;
  if (buttonIndex === 0 && ref.action === 'retry') {
    await retryJob(db, coordinator, ref.jobId);
    return;
  }
  // A bulk deletion: the popup's page lists the prompt with its Restore button (an extension
  // cannot open the toolbar popup itself).
  if (ref.action === 'restore') {
    await ports.openPage('/popup.html');
    return;
  }
  // "Edit", or a click on the notification body: show the account.
  await ports.openPage(ref.action === 'edit' || buttonIndex === null ? optionsPathFor(ref.accountId) : '/dashboard.html');
}
