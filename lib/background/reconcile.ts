import { deriveBadge, type Badge } from '../status/badge.ts';
import type { MailkeepDb } from '../storage/db.ts';
import type { BackgroundPorts } from './ports.ts';
import { staleNotificationIds, takeNotifications } from './notifications.ts';
import { resolveRestoredPrompts } from '../storage/prompts.ts';
import { takePromptNotifications } from './restore-prompts.ts';
import { getSetting, type RelayState } from '../storage/settings.ts';
import { BADGE_HEX } from '../status/badge.ts';
import { START_RELAY_COMMAND } from '../status/hint-phrases.ts';

/** The command that starts the relay, as the popup and the badge tooltip say it (lib/status/hint-phrases.ts). */
export { START_RELAY_COMMAND } from '../status/hint-phrases.ts';

/**
 * Without a relay nothing is backed up, whatever the job rows say: once there is an account, a
 * relay that is not running or not paired turns the badge red with "off" (unless accounts are in
 * error already: their red count stays) and the tooltip says why.
 */
export function withRelayState(badge: Badge, relay: RelayState, accountCount: number): Badge {
  if (accountCount === 0 || relay.state === 'connected' || relay.state === 'unknown') return badge;
  const why =
    relay.state === 'unreachable'
      ? `Mailkeep: the relay is not running. Start it: ${START_RELAY_COMMAND}`
      : 'Mailkeep: not paired with the relay. Open the options page and pair.';
  const lines = [why, ...badge.title.split('\n').slice(1)].join('\n');
  // Accounts already in error keep their count (it sends the user to the popup, whose banner
  // explains the relay); otherwise the badge itself says the relay is off.
  if (badge.colour === 'red') return { ...badge, title: lines };
  return { colour: 'red', hex: BADGE_HEX.red, text: 'off', title: lines };
}

/** Badge and notifications from the store alone: what a freshly woken service worker runs first. */
export async function reconcile(db: MailkeepDb, ports: BackgroundPorts, now = Date.now()): Promise<Badge> {
  const [accounts, jobs, relay] = await db.transaction('r', db.accounts, db.jobs, db.settings, () =>
    Promise.all([db.accounts.toArray(), db.jobs.toArray(), getSetting(db, 'relayState')]),
  );
  const badge = withRelayState(deriveBadge(accounts, jobs), relay, accounts.length);
  await ports.setBadge(badge);
  await resolveRestoredPrompts(db, now);
  for (const note of await takeNotifications(db, now)) await ports.notify(note);
  for (const note of await takePromptNotifications(db, now)) await ports.notify(note);
  // What is on screen and no longer true goes (an error that was fixed, an answered prompt).
  if (ports.listNotifications && ports.clearNotification) {
    for (const id of await staleNotificationIds(db, await ports.listNotifications())) await ports.clearNotification(id);
  }
  return badge;
}

/**
 * Runs reconcile one at a time, so an older reading can never overwrite the badge after a newer
 * one, and folds the calls that arrive while a run waits its turn into that run: each caller still
 * gets a run that starts after its call, but a burst of store writes (every progress event of a
 * restore wakes the store subscription) costs two runs, not one each. Without this a page's click,
 * answered after a refresh, waited behind every write queued before it (ten seconds and more).
 * The chain lives only as long as this worker; it holds no data.
 */
export function serialized<T>(task: () => Promise<T>): () => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  let waiting: Promise<T> | null = null;
  return () => {
    if (waiting) return waiting;
    const begin = () => {
      waiting = null;
      return task();
    };
    const run = tail.then(begin, begin);
    waiting = run;
    tail = run.catch(() => undefined);
    return run;
  };
}
