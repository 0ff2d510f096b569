import { EXTENSION_LIMITS } from '../limits.ts';
import { statusInfo } from '../status/catalog.ts';
import type { MailkeepDb } from '../storage/db.ts';
import type { AccountRow, JobRow } from '../storage/rows.ts';
import { getSetting, setSetting } from '../storage/settings.ts';
import type { NotificationSpec } from './ports.ts';
import { notificationId } from './notification-ids.ts';
import { accountToEdit } from './account-to-edit.ts';
import { errorHint } from '../status/error-hints.ts';

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
      // A migration that failed on its destination is about the destination account: the title
      // names it and Edit opens it ("enter the correct password for this email").
      const failing = await failingAccountName(db, job, account);
      // An account the relay signs in with OAuth2 has no password to edit: the button says what
      // the options page it opens offers, and the text is its code's ("Click Sign in again").
      const signInAgain = info.action === 'edit' && job.status === 'authentication_error' && failing.oauthProvider !== undefined;
      const button = signInAgain ? 'Sign in again' : BUTTON[info.action];
      notes.push({
        id: notificationId({ action: info.action, accountId: failing.id, jobId: job.id }, event.id ?? 0),
        title: `${failing.name}: ${KIND_WORD[event.kind]} ${info.label}`,
        message: (signInAgain ? errorHint(job.lastErrorCode ?? 'OAUTH_REVOKED') : null) ?? info.hint,
        buttons: button ? [button] : [],
      });
    }
    return notes;
  });
}

/**
 * The account whose server caused the status (`accountToEdit`) and how to name it. A destination
 * this browser does not hold (the relay may have its password only) is named through the source.
 */
async function failingAccountName(db: MailkeepDb, job: JobRow, account: AccountRow): Promise<{ id: string; name: string; oauthProvider: string | undefined }> {
  const id = accountToEdit(job);
  if (id === account.id) return { id, name: account.displayName, oauthProvider: account.relay?.oauthProvider };
  const other = await db.accounts.get(id);
  return { id, name: other?.displayName ?? `${account.displayName}'s migration destination`, oauthProvider: other?.relay?.oauthProvider };
}
