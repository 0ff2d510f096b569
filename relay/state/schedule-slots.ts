import type { Schedule } from '../../lib/protocol/account-state.ts';
import { addDays, instantOfLocal, localDateOf } from './zoned-time.ts';

const HOUR_MS = 3_600_000;

/**
 * The first slot of `schedule` strictly after `afterMs` (the previous scheduled run's start, or the
 * moment the schedule was set), or null when the schedule is off. One slot after the anchor, never
 * a list: however many slots a sleeping machine missed, the next run is this one slot, once.
 */
export function nextSlot(schedule: Schedule, afterMs: number, zone: string): number | null {
  switch (schedule.kind) {
    case 'off':
      return null;
    case 'every':
      // Elapsed time, not wall time: "every 6 h" stays 6 h apart across DST changes.
      return afterMs + schedule.hours * HOUR_MS;
    case 'daily': {
      const [hour, minute] = schedule.at.split(':').map(Number) as [number, number];
      const today = localDateOf(afterMs, zone);
      // Today's, tomorrow's or (past a skipped or doubled hour) the day after's: the first one later.
      for (let d = 0; d <= 2; d++) {
        const slot = instantOfLocal({ ...addDays(today, d), hour, minute }, zone);
        if (slot > afterMs) return slot;
      }
      throw new Error(`no daily slot after ${new Date(afterMs).toISOString()} in ${zone}`);
    }
  }
}

/** "every 6h", "daily 02:00", "off": how the CLI and the logs say a schedule. */
export function describeSchedule(s: Schedule): string {
  return s.kind === 'off' ? 'off' : s.kind === 'every' ? `every ${s.hours}h` : `daily ${s.at}`;
}

/** Reads the CLI's words back: "every 6h" / "every 6" / "daily 02:00" / "off". */
export function parseScheduleWords(words: readonly string[]): Schedule | null {
  const [kind, value, ...rest] = words;
  if (rest.length > 0) return null;
  if (kind === 'off' && value === undefined) return { kind: 'off' };
  if (kind === 'every' && value !== undefined) {
    const m = /^(\d{1,3})h?$/.exec(value);
    return m ? { kind: 'every', hours: Number(m[1]) } : null;
  }
  if (kind === 'daily' && value !== undefined) {
    const m = /^(\d{1,2}):(\d{2})$/.exec(value);
    return m ? { kind: 'daily', at: `${m[1]!.padStart(2, '0')}:${m[2]}` } : null;
  }
  return null;
}
