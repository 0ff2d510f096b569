import { liveQuery } from 'dexie';
import { useEffect, useRef, useState } from 'preact/hooks';

type Subscription = { deps: unknown[]; unsubscribe(): void };

const sameDeps = (a: unknown[], b: unknown[]) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/**
 * Re-renders whenever the tables the query reads change, in any context (Dexie 4 propagates).
 * The first read starts during the first render, not in an effect after the first paint: the
 * store is opened and read while the page paints (a popup's cards came about 20 ms later when
 * every query waited for its effect).
 */
export function useLiveQuery<T>(query: () => Promise<T>, deps: unknown[] = []): T | undefined {
  const [value, setValue] = useState<T | undefined>(undefined);
  const sub = useRef<Subscription | null>(null);
  const subscribe = (): Subscription => {
    const s = liveQuery(query).subscribe({ next: setValue, error: (err: unknown) => console.error('mailkeep: live query failed', err) });
    return { deps, unsubscribe: () => s.unsubscribe() };
  };
  if (sub.current === null) sub.current = subscribe();
  useEffect(() => {
    // New deps (the cleanup below dropped the old query) or a remount: subscribe again.
    if (sub.current === null || !sameDeps(sub.current.deps, deps)) {
      sub.current?.unsubscribe();
      sub.current = subscribe();
    }
    return () => {
      sub.current?.unsubscribe();
      sub.current = null;
    };
    // The caller lists what the query depends on, as with useEffect.
  }, deps);
  return value;
}
