import { getDb } from '../storage/db.ts';
import { getSetting } from '../storage/settings.ts';
import { firstRunSteps, type FirstRun } from './first-run-steps.ts';
import { useLiveQuery } from './use-live-query.ts';
import { useNow } from './use-freshness.ts';

/**
 * The first-run steps, live from the mirror and aged by the page's clock: a relay that starts
 * answering turns step 1 green with no reload. undefined until the store has been read, so a page
 * never flashes "Connect the relay" at a user whose relay is connected.
 */
export function useFirstRun(): FirstRun | undefined {
  const stored = useLiveQuery(async () => {
    const db = getDb();
    const [relay, accounts, jobs] = await Promise.all([getSetting(db, 'relayState'), db.accounts.toArray(), db.jobs.where('kind').equals('backup').toArray()]);
    return { relay, accounts, jobs };
  });
  const now = useNow();
  return stored && firstRunSteps({ ...stored, now });
}
