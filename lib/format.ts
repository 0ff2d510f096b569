import { dateTimeFormat, relativeTimeFormat } from './intl-formats.ts';

/** 1536 -> "1.5 KB": decimal-free for bytes, one decimal above. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600_000],
  ['month', 30 * 24 * 3600_000],
  ['day', 24 * 3600_000],
  ['hour', 3600_000],
  ['minute', 60_000],
];

/**
 * "3 hours ago", "just now", "in 2 hours", "in a moment": the card's last-backup time (the absolute time goes in the title).
 * A difference of two instants, so it needs a clock (`now`) but no zone.
 */
export function formatRelative(at: number, now: number, locale = 'en'): string {
  const diff = at - now;
  for (const [unit, ms] of STEPS) {
    if (Math.abs(diff) >= ms) return relativeTimeFormat(locale, { numeric: 'auto' }).format(Math.round(diff / ms), unit);
  }
  // Under a minute: a past instant is "just now", a coming one (a planned run) "in a moment".
  return diff > 0 ? 'in a moment' : 'just now';
}

/** "26 Nov 2026, 23:10" in the given zone: never the machine's locale or zone by accident. */
export function formatAbsolute(at: number, timeZone: string, locale = 'en-GB'): string {
  return dateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23', timeZone }).format(at);
}

/** "2026-11-26": the calendar day `at` falls on in `timeZone` (a new folder's name, a file's). */
export function formatDay(at: number, timeZone: string): string {
  return dateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone }).format(at);
}

/** "120 of 400 messages" or "120 messages" while the total is unknown. */
export function formatMessages(done: number, total: number | null): string {
  return total === null ? `${done} messages` : `${done} of ${total} messages`;
}
