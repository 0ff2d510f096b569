import type { UserAction } from '../status/status-info.ts';

/**
 * A notification carries what its buttons need in its id, because the click may reach a service
 * worker started after the one that showed it: nothing may be looked up in memory.
 */
export interface NotificationRef {
  action: UserAction;
  /**
   * The account the notification is about, whose settings "Edit" opens: the job's own, except for
   * a migration that failed on its destination server, where the destination's (the same account
   * the card's Edit opens, lib/background/account-to-edit.ts).
   */
  accountId: string;
  jobId: string;
}

const PREFIX = 'mailkeep';

export function notificationId(ref: NotificationRef, eventId: number): string {
  return [PREFIX, ref.action, encodeURIComponent(ref.accountId), encodeURIComponent(ref.jobId), eventId].join('|');
}

export function parseNotificationId(id: string): NotificationRef | null {
  const [prefix, action, accountId, jobId] = id.split('|');
  if (prefix !== PREFIX || !action || !accountId || !jobId) return null;
  return { action: action as UserAction, accountId: decodeURIComponent(accountId), jobId: decodeURIComponent(jobId) };
}

/** The options page opened at one account: what "Edit" means everywhere. */
export function optionsPathFor(accountId: string): string {
  return `/options.html#account=${encodeURIComponent(accountId)}`;
}
