import { liveQuery } from 'dexie';
import { browser } from 'wxt/browser';
import { EXTENSION_LIMITS } from '../limits.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { handleMessage, isMutating } from './messages.ts';
import { parseNotificationId, optionsPathFor } from './notification-ids.ts';
import type { BackgroundPorts } from './ports.ts';
import { reconcile, serialized } from './reconcile.ts';
import { retryDueJobs, retryNow } from './retry-due.ts';

export const RETRY_DUE_ALARM = 'mailkeep-retry-due';

/**
 * Wires the service worker. Runs on every start of the worker (install, browser start, or a wake
 * after Chromium stopped it): listeners are registered synchronously, as MV3 requires, and the
 * badge is recomputed from the store at once and whenever accounts or jobs change.
 */
export function startServiceWorker(db: MailkeepDb, ports: BackgroundPorts): void {
  const refresh = serialized(() => reconcile(db, ports));
  const meta = { extensionVersion: browser.runtime.getManifest().version, userAgent: navigator.userAgent };

  browser.runtime.onMessage.addListener(((message: unknown, sender: { id?: string }) => {
    if (sender.id !== browser.runtime.id) return undefined; // only our own pages
    return handleMessage(db, ports, meta, message).then(async (reply) => {
      if (reply.ok && isMutating(message)) await refresh();
      return reply;
    });
  }) as Parameters<typeof browser.runtime.onMessage.addListener>[0]);

  const ensureAlarm = () => browser.alarms.create(RETRY_DUE_ALARM, { periodInMinutes: EXTENSION_LIMITS.retryDueAlarmMinutes });
  browser.runtime.onInstalled.addListener(() => void ensureAlarm());
  browser.runtime.onStartup.addListener(() => void ensureAlarm());
  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === RETRY_DUE_ALARM) void retryDueJobs(db).then(() => refresh());
  });

  // Covers writes from any context (pages, later the relay client); the first emission is the
  // recompute-on-wake. Reads whole rows so a renamed account also refreshes the tooltip.
  liveQuery(() => Promise.all([db.accounts.toArray(), db.jobs.toArray()])).subscribe({
    next: () => void refresh().catch((err: unknown) => console.error('mailkeep: badge refresh failed', err)),
    error: (err: unknown) => console.error('mailkeep: store subscription failed', err),
  });
}

/** What a notification button or click does; the notification id says which account and job. */
export async function onNotificationAction(db: MailkeepDb, ports: BackgroundPorts, notificationId: string, buttonIndex: number | null): Promise<void> {
  const ref = parseNotificationId(notificationId);
  if (!ref) return;
  if (buttonIndex === 0 && ref.action === 'retry') {
    await retryNow(db, ref.jobId);
    return;
  }
  // "Edit", or a click on the notification body: show the account.
  await ports.openPage(ref.action === 'edit' || buttonIndex === null ? optionsPathFor(ref.accountId) : '/dashboard.html');
}
