import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { systemClock, type Clock } from '../clock.ts';
import { EXTENSION_LIMITS } from '../limits.ts';
import { getDb } from '../storage/db.ts';
import { getSetting } from '../storage/settings.ts';
import { freshnessOf, type Freshness } from './relay-freshness.ts';
import { useLiveQuery } from './use-live-query.ts';

export interface PageFreshness {
  freshness: Freshness;
  now: number;
  timeZone: string;
}

const NOT_YET: PageFreshness = { freshness: freshnessOf(undefined, 0), now: 0, timeZone: 'UTC' };

/** What every status on the page is measured against; provided once per page by its app component. */
export const FreshnessContext = createContext<PageFreshness>(NOT_YET);

/** The page's clock, re-read every pageClockTickMs so a link that stops being confirmed turns "last known" by itself. */
export function useNow(clock: Clock = systemClock): number {
  const [now, setNow] = useState(clock.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(clock.now()), EXTENSION_LIMITS.pageClockTickMs);
    return () => clearInterval(timer);
  }, [clock]);
  return now;
}

/** The relay link as the store has it, aged by the page's clock. */
export function usePageFreshness(clock: Clock = systemClock): PageFreshness {
  const relay = useLiveQuery(() => getSetting(getDb(), 'relayState'));
  const now = useNow(clock);
  return { freshness: freshnessOf(relay, now), now, timeZone: clock.timeZone() };
}

export function useFreshness(): PageFreshness {
  return useContext(FreshnessContext);
}
