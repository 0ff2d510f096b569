import { describe, expect, it } from 'vitest';
import { formatAbsolute, formatDay, formatRelative } from '../../lib/format.ts';
import { shortTime } from '../../lib/ui/relay-freshness.ts';
import { dateTimeFormat } from '../../lib/intl-formats.ts';

const AT = Date.parse('2027-03-01T23:30:00Z');

describe('formatters kept between calls', () => {
  it('answer each zone with its own time, whichever zone asked first', () => {
    for (let round = 0; round < 2; round += 1) {
      expect(formatAbsolute(AT, 'UTC')).toBe('1 Mar 2027, 23:30');
      expect(formatAbsolute(AT, 'Asia/Tokyo')).toBe('2 Mar 2027, 08:30');
      expect(formatDay(AT, 'Pacific/Kiritimati')).toBe('2027-03-02');
      expect(formatDay(AT, 'America/Los_Angeles')).toBe('2027-03-01');
      expect(shortTime(AT, AT, 'Asia/Tokyo')).toBe('08:30');
      expect(shortTime(AT, AT, 'UTC')).toBe('23:30');
    }
  });

  it('are built once per locale, options and zone', () => {
    const options = { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' } as const;
    expect(dateTimeFormat('en-GB', options)).toBe(dateTimeFormat('en-GB', { ...options }));
    expect(dateTimeFormat('en-GB', options)).not.toBe(dateTimeFormat('en-GB', { ...options, timeZone: 'UTC' }));
    expect(formatRelative(AT - 3 * 3600_000, AT)).toBe('3 hours ago');
    expect(formatRelative(AT + 2 * 86_400_000, AT)).toBe('in 2 days');
  });
});
