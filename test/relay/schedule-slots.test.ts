import { afterEach, describe, expect, it } from 'vitest';
import { Schedule } from '../../lib/protocol/account-state.ts';
import { describeSchedule, nextSlot, parseScheduleWords } from '../../relay/state/schedule-slots.ts';
import { instantOfLocal } from '../../relay/state/zoned-time.ts';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const daily = (t: string): Schedule => ({ kind: 'daily', at: t });

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('schedule slots', () => {
  it('a daily time is local time in the given zone, winter and summer alike', () => {
    expect(iso(nextSlot(daily('02:00'), at('2026-01-10T12:00:00Z'), 'Europe/Berlin'))).toBe('2026-01-11T01:00:00.000Z');
    expect(iso(nextSlot(daily('02:00'), at('2026-07-10T12:00:00Z'), 'Europe/Berlin'))).toBe('2026-07-11T00:00:00.000Z');
    expect(iso(nextSlot(daily('02:00'), at('2026-07-10T12:00:00Z'), 'UTC'))).toBe('2026-07-11T02:00:00.000Z');
  });

  it('a daily time later today is today, one already passed is tomorrow', () => {
    expect(iso(nextSlot(daily('18:00'), at('2026-07-10T12:00:00Z'), 'UTC'))).toBe('2026-07-10T18:00:00.000Z');
    expect(iso(nextSlot(daily('12:00'), at('2026-07-10T12:00:00Z'), 'UTC'))).toBe('2026-07-11T12:00:00.000Z');
  });

  it('a daily time the spring-forward change skips runs when the clock has passed it (02:30 -> 03:30), then at 02:30 again', () => {
    const first = nextSlot(daily('02:30'), at('2026-03-28T12:00:00Z'), 'Europe/Berlin');
    expect(iso(first)).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(iso(nextSlot(daily('02:30'), first!, 'Europe/Berlin'))).toBe('2026-03-30T00:30:00.000Z'); // 02:30 CEST
  });

  it('a daily time the fall-back change repeats runs once, at its first occurrence', () => {
    const first = nextSlot(daily('02:30'), at('2026-10-24T12:00:00Z'), 'Europe/Berlin');
    expect(iso(first)).toBe('2026-10-25T00:30:00.000Z'); // 02:30 CEST, before the clocks go back
    // The run starts a few seconds later; the second 02:30 (CET, 01:30Z) is not another run.
    expect(iso(nextSlot(daily('02:30'), first! + 5_000, 'Europe/Berlin'))).toBe('2026-10-26T01:30:00.000Z');
    expect(iso(nextSlot(daily('01:30'), at('2026-10-31T12:00:00Z'), 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z'); // EDT
  });

  it('zones with half-hour offsets and half-hour DST gaps are handled like any other', () => {
    expect(iso(nextSlot(daily('00:15'), at('2026-06-01T00:00:00Z'), 'Asia/Kolkata'))).toBe('2026-06-01T18:45:00.000Z');
    // Lord Howe Island moves from +10:30 to +11 at 02:00 on 4 Oct 2026: 02:15 does not exist that night.
    expect(iso(nextSlot(daily('02:15'), at('2026-10-03T10:00:00Z'), 'Australia/Lord_Howe'))).toBe('2026-10-03T15:45:00.000Z');
    expect(iso(nextSlot(daily('23:30'), at('2026-06-01T00:00:00Z'), 'Pacific/Kiritimati'))).toBe('2026-06-01T09:30:00.000Z');
  });

  it('"every N hours" counts elapsed hours, so a DST change neither shortens nor stretches it', () => {
    expect(iso(nextSlot({ kind: 'every', hours: 6 }, at('2026-03-28T23:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-29T05:00:00.000Z');
    expect(iso(nextSlot({ kind: 'every', hours: 24 }, at('2026-10-24T22:00:00Z'), 'Europe/Berlin'))).toBe('2026-10-25T22:00:00.000Z');
  });

  it('the slot after a long gap is one slot after the anchor, not one per missed slot', () => {
    const anchor = at('2026-01-01T00:00:00Z');
    expect(iso(nextSlot({ kind: 'every', hours: 6 }, anchor, 'UTC'))).toBe('2026-01-01T06:00:00.000Z');
    expect(iso(nextSlot(daily('02:00'), anchor, 'UTC'))).toBe('2026-01-01T02:00:00.000Z');
    expect(nextSlot({ kind: 'off' }, anchor, 'UTC')).toBeNull();
  });

  it('gives the same instants whatever zone the machine itself is set to', () => {
    const cases = (): (string | null)[] => [
      iso(nextSlot(daily('02:30'), at('2026-03-28T12:00:00Z'), 'Europe/Berlin')),
      iso(nextSlot(daily('02:30'), at('2026-10-24T12:00:00Z'), 'Europe/Berlin')),
      iso(instantOfLocal({ year: 2026, month: 11, day: 1, hour: 1, minute: 30 }, 'America/New_York')),
    ];
    process.env.TZ = 'UTC';
    const inUtc = cases();
    for (const tz of ['Pacific/Kiritimati', 'America/Los_Angeles', 'Europe/Berlin']) {
      process.env.TZ = tz;
      expect(cases(), tz).toEqual(inUtc);
    }
  });

  it('reads the command line words of a schedule, and the schema refuses what is out of range', () => {
    expect(parseScheduleWords(['every', '6h'])).toEqual({ kind: 'every', hours: 6 });
    expect(parseScheduleWords(['every', '12'])).toEqual({ kind: 'every', hours: 12 });
    expect(parseScheduleWords(['daily', '2:05'])).toEqual({ kind: 'daily', at: '02:05' });
    expect(parseScheduleWords(['off'])).toEqual({ kind: 'off' });
    for (const words of [['every'], ['every', 'six'], ['daily', '2'], ['weekly', 'mon'], ['off', 'now'], []]) expect(parseScheduleWords(words), words.join(' ')).toBeNull();
    for (const words of [['every', '0h'], ['every', '169h'], ['daily', '24:00'], ['daily', '12:60']]) expect(Schedule.safeParse(parseScheduleWords(words)).success, words.join(' ')).toBe(false);
    for (const s of [{ kind: 'off' }, { kind: 'every', hours: 6 }, { kind: 'daily', at: '02:00' }] as Schedule[]) expect(parseScheduleWords(describeSchedule(s).split(' '))).toEqual(s);
  });
});
