import { EXTENSION_LIMITS } from '../limits.ts';
import { statusInfo } from '../status/catalog.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { getSetting, setSetting } from '../storage/settings.ts';
import type { NotificationSpec } from './ports.ts';
import { notificationId } from './notification-ids.ts';

const KIND_WORD = { backup: 'Backup', download: 'Download', restore: 'Restore', migrate: 'Migrate' } as const;
const BUTTON: Partial<Record<string, string>> = { edit: 'Edit', retry: 'Retry now' };

/**
 * Notifications owed for jobs that entered an error status since the last look. The "last look"
 * is an event id stored in settings and advanced in the same transaction that reads the events,
 * so a restarted or concurrent worker neither repeats nor loses a notification.
 */
export async function takeNotifications(db: MailkeepDb, now = Date.now()): Promise<NotificationSpec[]> {
  return db.transaction('rw', [db.settings, db.jobEvents, db.jobs, db.accounts], async () => {
    const seen = await getSetting(db, 'notifiedEventId');
    const events = await db.jobEvents.where('id').above(seen).toArray();
    if (events.length === 0) return [];
    await setSetting(db, 'notifiedEventId', Math.max(...events.map((e) => e.id ?? 0)));
    const latestPerJob = new Map<string, (typeof events)[number]>();
    for (const e of events) latestPerJob.set(e.jobId, e);
    const notes: NotificationSpec[] = [];
    for (const event of latestPerJob.values()) {
      const info = statusInfo(event.kind, event.to);
      if (info.severity !== 'error' || event.at < now - EXTENSION_LIMITS.notifyMaxAgeMs) continue;
      const [job, account] = await Promise.all([db.jobs.get(event.jobId), db.accounts.get(event.accountId)]);
      if (!job || !account || job.status !== event.to) continue; // moved on already: nothing to say
      const button = BUTTON[info.action];
      notes.push({
        id: notificationId({ action: info.action, accountId: account.id, jobId: job.id }, event.id ?? 0),
        title: `${account.displayName}: ${KIND_WORD[event.kind]} ${info.label}`,
        message: info.hint,
        buttons: button ? [button] : [],
      });
    }
    return notes;
  });
}
