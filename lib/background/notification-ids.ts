import type { UserAction } from '../status/status-info.ts';

/**
 * A notification carries what its buttons need in its id, because the click may reach a service
 * worker started after the one that showed it: nothing may be looked up in memory. The id is also
 * what says whether the notification is still true (lib/background/notifications.ts
 * `staleNotificationIds`), so it names its cause: the same account and cause always get the same
 * id, and Chrome replaces a notification created again under its id instead of stacking a second.
 */
export interface NotificationRef {
  action: UserAction;
  /**
   * The account the notification is about, whose settings "Edit" opens: the job's own, except for
   * a migration that failed on its destination server, where the destination's (the same account
   * the card's Edit opens, lib/background/account-to-edit.ts).
   */
  accountId: string;
  /** The job it is about, or for a bulk-deletion notice the prompt's id. */
  jobId: string;
  /**
   * Why it was shown: `<kind>.<status>` (a job in an error status, e.g. "backup.authentication_error")
   * or "prompt" (mail disappeared from the server). null on ids made before causes were named
   * (they ended in an event number).
   */
  cause: string | null;
}

const PREFIX = 'mailkeep';

export function notificationId(ref: Omit<NotificationRef, 'cause'> & { cause: string }): string {
  return [PREFIX, ref.action, encodeURIComponent(ref.accountId), encodeURIComponent(ref.jobId), encodeURIComponent(ref.cause)].join('|');
}

/** True for ids this extension made (whether or not they still parse). */
export function isOurNotificationId(id: string): boolean {
  return id.startsWith(`${PREFIX}|`);
}

export function parseNotificationId(id: string): NotificationRef | null {
  const [prefix, action, accountId, jobId, tail] = id.split('|');
  if (prefix !== PREFIX || !action || !accountId || !jobId) return null;
  const cause = tail === undefined || /^\d+$/.test(tail) ? null : decodeURIComponent(tail);
  return { action: action as UserAction, accountId: decodeURIComponent(accountId), jobId: decodeURIComponent(jobId), cause };
}

/** The options page opened at one account: what "Edit" means everywhere. */
export function optionsPathFor(accountId: string): string {
  return `/options.html#account=${encodeURIComponent(accountId)}`;
}
