import { mailkeepError } from '../../lib/protocol/error-codes.ts';

/**
 * Midnight at the start of a calendar day in an IANA time zone, as epoch ms: what before:/after:
 * mean by a date ("after:2024-03-01" is from the first moment of March 1 where the person is). The
 * zone is passed in (tests and the relay choose it), never read from the machine here.
 */
export function startOfDay(year: number, month: number, day: number, timeZone: string): number {
  if (timeZone === LOCAL) return new Date(year, month - 1, day).getTime();
  const guess = Date.UTC(year, month - 1, day);
  // The zone's offset at the guess, then again at the result: a day that begins in a DST change
  // has its offset from after the change.
  let t = guess - offsetMs(guess, timeZone);
  t = guess - offsetMs(t, timeZone);
  return t;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** How far `timeZone`'s wall clock is ahead of UTC at `at`, in ms. */
export function offsetMs(at: number, timeZone: string): number {
  if (timeZone === LOCAL) return -new Date(at).getTimezoneOffset() * 60_000;
  let f = formats.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    } catch {
      throw mailkeepError('INVALID_INPUT', `unknown time zone "${timeZone}" (an IANA name such as Europe/Berlin)`);
    }
    formats.set(timeZone, f);
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
