/**
 * Local wall time in an IANA zone <-> instants, with Intl only (no dependence on the machine's
 * zone): the scheduler's daily slots are local times in the relay's zone (lib/clock.ts).
 */
import { dateTimeFormat } from '../../lib/intl-formats.ts';

export interface LocalDate {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
}

function formatter(zone: string): Intl.DateTimeFormat {
  return dateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
}

/** The local date and time of an instant in `zone`. */
export function localDateOf(ms: number, zone: string): LocalDate & { second: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

/** The zone's offset from UTC at an instant, in ms (Berlin in winter: +3,600,000). */
export function zoneOffsetMs(ms: number, zone: string): number {
  const l = localDateOf(ms, zone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant a local wall time happens in `zone`. A time a DST change skips (02:30 on the
 * spring-forward day) is moved forward by the gap (03:30), and a time that happens twice (the
 * fall-back hour) is its first occurrence: the same choice as Temporal's "compatible".
 */
export function instantOfLocal(local: LocalDate, zone: string): number {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  // Offsets in force a day either side cover any one transition near this time.
  const before = zoneOffsetMs(wall - 86_400_000, zone);
  const after = zoneOffsetMs(wall + 86_400_000, zone);
  const valid = [...new Set([before, after])].map((o) => wall - o).filter((t) => zoneOffsetMs(t, zone) === wall - t);
  if (valid.length > 0) return Math.min(...valid);
  // In the gap: read the wall time with the offset before the change, which lands after it.
  return wall - before;
}

/** The calendar day after (or `n` days after) a local date; pure date arithmetic. */
export function addDays(local: LocalDate, n: number): LocalDate {
  const d = new Date(Date.UTC(local.year, local.month - 1, local.day + n));
  return { ...local, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
