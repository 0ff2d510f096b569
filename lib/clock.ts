/**
 * The wall clock and the time zone that times are shown in. Code that reads "now" or turns a time
 * into words ("since Tuesday 14:02", "3 hours ago", "until 26 Nov 2026, 23:10") takes them as
 * parameters, so a test fixes both and passes on any date, in any zone; only the entry points
 * (the service worker, the pages) use the system's.
 */
export interface Clock {
  now(): number;
  /** An IANA zone name ("Europe/Berlin", "UTC"). */
  timeZone(): string;
}

/** The zone the browser or Node runs in (TZ, or the system's setting). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export const systemClock: Clock = { now: () => Date.now(), timeZone: localTimeZone };

/** A clock that stands still at `at`, in `zone`: for tests and reproducible output. */
export function fixedClock(at: number | string, zone = 'UTC'): Clock {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (Number.isNaN(ms)) throw new Error(`fixedClock: not a time: ${String(at)}`);
  return { now: () => ms, timeZone: () => zone };
}
