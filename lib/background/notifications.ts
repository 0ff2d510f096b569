import { EXTENSION_LIMITS } from '../limits.ts';
import { statusInfo } from '../status/catalog.ts';
import type { MailkeepDb } from '../storage/db.ts';
import type { AccountRow, JobRow } from '../storage/rows.ts';
import { getSetting, setSetting } from '../storage/settings.ts';
import type { NotificationSpec } from './ports.ts';
import { isOurNotificationId, notificationId, parseNotificationId, type NotificationRef } from './notification-ids.ts';
import { accountLabel } from '../account-label.ts';
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
        // One per account and cause: shown again (error, running, error) it replaces itself.
        id: notificationId({ action: info.action, accountId: failing.id, jobId: job.id, cause: causeOf(job.kind, job.status) }),
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
  if (id === account.id) return { id, name: accountLabel(account), oauthProvider: account.relay?.oauthProvider };
  const other = await db.accounts.get(id);
  return { id, name: other ? accountLabel(other) : `${accountLabel(account)}'s migration destination`, oauthProvider: other?.relay?.oauthProvider };
}

/** "backup.authentication_error": what a job notification is about, in its id. */
export function causeOf(kind: string, status: string): string {
  return `${kind}.${status}`;
}

/**
 * Every notification the extension shows, and when it stops being true (docs/extension.md,
 * "Notifications and prompts"). A notification on screen whose condition no longer holds is
 * cleared (reconcile, on every change of the store):
 * - a job in an error status (`<kind>.<status>`, e.g. Authentication Error, Connection Error,
 *   Failed): cleared once the job has left that status (the account backs up fine again, a retry
 *   runs), once a newer job of the same kind for the same account supersedes it, or once the job
 *   or its account is gone;
 * - mail disappeared from the server ("prompt"): cleared once the prompt is answered (Restore,
 *   Dismiss), once the same mail was restored from anywhere, or once the account is gone;
 * - an id this extension made that no longer parses: cleared (nothing can act on it).
 * The relay being down or unpaired is never a notification: the badge and every page's banner say
 * it, and follow it back.
 */
export async function staleNotificationIds(db: MailkeepDb, ids: readonly string[]): Promise<string[]> {
  const stale: string[] = [];
  for (const id of ids) {
    if (!isOurNotificationId(id)) continue; // not ours to judge
    const ref = parseNotificationId(id);
    if (!ref || !(await stillTrue(db, ref))) stale.push(id);
  }
  return stale;
}

async function stillTrue(db: MailkeepDb, ref: NotificationRef): Promise<boolean> {
  if (ref.cause === 'prompt' || (ref.cause === null && ref.action === 'restore')) {
    const prompt = await db.prompts.get(ref.jobId);
    return !!prompt && prompt.resolvedAt === null && !!(await db.accounts.get(prompt.accountId));
  }
  // The job's own account, not the id's: a migration's destination may be an account this browser
  // does not hold, and its notification stays true while the job is in that error.
  const job = await db.jobs.get(ref.jobId);
  if (!job || !(await db.accounts.get(job.accountId))) return false;
  const still = ref.cause === null ? statusInfo(job.kind, job.status).severity === 'error' : causeOf(job.kind, job.status) === ref.cause;
  if (!still) return false;
  const newer = await db.jobs.where('accountId').equals(job.accountId).filter((j) => j.kind === job.kind && j.id !== job.id && j.createdAt > job.createdAt).count();
  return newer === 0;
}
