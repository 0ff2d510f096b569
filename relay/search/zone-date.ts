import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { dateTimeFormat } from '../../lib/intl-formats.ts';

/**
 * Midnight at the start of a calendar day in an IANA time zone, as epoch ms: what before:/after:
 * mean by a date ("after:2024-03-01" is from the first moment of March 1 where the person is). The
 * zone is passed in (tests and the relay choose it), never read from the machine here.
 */
export function startOfDay(year: number, month: number, day: number, timeZone: string): number {
  // (JavaScript's own local Date moves a midnight that does not exist to the moment clocks jump.)
  if (timeZone === LOCAL) return new Date(year, month - 1, day).getTime();
  const midnight = Date.UTC(year, month - 1, day); // the wall clock wanted, written as if UTC
  const wall = (t: number): number => t + offsetMs(t, timeZone);
  // Midnight less each offset the zone has around that day: one is right, unless clocks change then.
  const DAY = 86_400_000;
  const offsets = new Set([midnight - DAY, midnight, midnight + DAY].map((t) => offsetMs(t, timeZone)));
  const candidates = [...offsets].map((o) => midnight - o).sort((a, b) => a - b);
  // The first moment the clock reads that midnight (when clocks go back over it, it reads it twice).
  const exact = candidates.find((t) => wall(t) === midnight);
  if (exact !== undefined) return exact;
  // Clocks jump over midnight (Santiago, Havana: 00:00 becomes 01:00): the day begins at the jump,
  // which lies between the candidates; found to the second.
  let lo = candidates[0]!;
  let hi = candidates[candidates.length - 1]!;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (wall(mid) >= midnight) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** How far `timeZone`'s wall clock is ahead of UTC at `at`, in ms. */
export function offsetMs(at: number, timeZone: string): number {
  if (timeZone === LOCAL) return -new Date(at).getTimezoneOffset() * 60_000;
  let f: Intl.DateTimeFormat;
  try {
    f = dateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  } catch {
    throw mailkeepError('INVALID_INPUT', `unknown time zone "${timeZone}" (an IANA name such as Europe/Berlin)`);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(at))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(at / 1000) * 1000;
}

/**
 * This process's zone (TZ, else the system's): the CLI's default; the relay passes the page's. Not
 * looked up by name: the first Intl call loads ICU's zone data, 30-40 ms of a one-shot search.
 */
export const LOCAL = 'local';
export function localTimeZone(): string {
  return LOCAL;
}
