import { deriveBadge, type Badge } from '../status/badge.ts';
import type { MailkeepDb } from '../storage/db.ts';
import type { BackgroundPorts } from './ports.ts';
import { takeNotifications } from './notifications.ts';

/** Badge and notifications from the store alone: what a freshly woken service worker runs first. */
export async function reconcile(db: MailkeepDb, ports: BackgroundPorts, now = Date.now()): Promise<Badge> {
  const [accounts, jobs] = await db.transaction('r', db.accounts, db.jobs, () => Promise.all([db.accounts.toArray(), db.jobs.toArray()]));
  const badge = deriveBadge(accounts, jobs);
  await ports.setBadge(badge);
  for (const note of await takeNotifications(db, now)) await ports.notify(note);
  return badge;
}

/**
 * Runs reconcile one at a time, so an older reading can never overwrite the badge after a newer
 * one. The chain lives only as long as this worker; it holds no data.
 */
export function serialized<T>(task: () => Promise<T>): () => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return () => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}
