import { describe, expect, it } from 'vitest';
import { presetFor } from '@/lib/options/presets';
import { formatAbsolute, formatBytes, formatDay, formatMessages, formatRelative } from '@/lib/format';
import { downloadDetailText } from '@/lib/ui/job-detail-text';
import { fixedClock } from '@/lib/clock';
import { notificationId, optionsPathFor, parseNotificationId } from '@/lib/background/notification-ids';
import { ERROR_HINTS, errorHint } from '@/lib/status/error-hints';
import { ErrorCode } from '@/lib/protocol/error-code-schema';

describe('provider presets of the options page', () => {
  it('fill the IMAP server of the big providers from the address domain, case-insensitively', () => {
    expect(presetFor('a@gmail.com')).toMatchObject({ host: 'imap.gmail.com', port: 993, security: 'tls' });
    expect(presetFor(' A@Outlook.com ')).toMatchObject({ host: 'outlook.office365.com' });
    expect(presetFor('a@yahoo.com')?.provider).toBe('Yahoo');
    expect(presetFor('a@icloud.com')?.host).toBe('imap.mail.me.com');
    expect(presetFor('a@fastmail.com')?.host).toBe('imap.fastmail.com');
  });

  it('leave unknown domains and incomplete addresses alone', () => {
    expect(presetFor('a@example.org')).toBeNull();
    expect(presetFor('gmail.com')).toBeNull();
    expect(presetFor('a@')).toBeNull();
  });
});

describe('what the cards print', () => {
  it('formats bytes, message counts and relative times', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(3_500_000)).toBe('3.3 MB');
    expect(formatMessages(120, 400)).toBe('120 of 400 messages');
    expect(formatMessages(7, null)).toBe('7 messages');
    const now = Date.UTC(2026, 0, 10, 12);
    expect(formatRelative(now - 3 * 3600_000, now)).toBe('3 hours ago');
    expect(formatRelative(now - 10_000, now)).toBe('just now');
    // A planned run less than a minute away is not "just now" (that reads as past).
    expect(formatRelative(now + 10_000, now)).toBe('in a moment');
    expect(formatRelative(now + 2 * 3600_000, now)).toBe('in 2 hours');
    expect(formatRelative(now - 26 * 3600_000, now)).toBe('yesterday');
  });

  it('prints absolute times and days in the zone it is given, never the machine\'s', () => {
    const at = Date.parse('2026-11-26T23:10:00Z');
    expect(formatAbsolute(at, 'UTC')).toBe('26 Nov 2026, 23:10');
    expect(formatAbsolute(at, 'Pacific/Kiritimati')).toBe('27 Nov 2026, 13:10');
    expect(formatAbsolute(at, 'America/Los_Angeles')).toBe('26 Nov 2026, 15:10');
    // The suggested "Restored YYYY-MM-DD" folder is named after the user's day, not UTC's.
    expect(formatDay(at, 'UTC')).toBe('2026-11-26');
    expect(formatDay(at, 'Pacific/Kiritimati')).toBe('2026-11-27');
    const clock = fixedClock('2026-12-31T20:00:00Z', 'Asia/Tokyo');
    expect(formatDay(clock.now(), clock.timeZone())).toBe('2027-01-01');
  });

  it('says until when a download link lives, in the user\'s zone', () => {
    const job = { kind: 'download' as const, params: { format: 'mbox' as const }, outcome: { link: { url: '/download/x', expiresAt: '2026-11-26T23:10:00.000Z', fileName: 'mail.zip', bytes: 47_104 } } };
    expect(downloadDetailText(job, 'UTC')).toBe('mbox, all folders: mail.zip, 46.0 KB, until 26 Nov 2026, 23:10');
    expect(downloadDetailText(job, 'Europe/Berlin')).toBe('mbox, all folders: mail.zip, 46.0 KB, until 27 Nov 2026, 00:10');
  });
});

describe('notification ids', () => {
  it('carry the action, account and job through a worker restart, and open the account for Edit', () => {
    const id = notificationId({ action: 'edit', accountId: 'a|b c', jobId: 'j1', cause: 'backup.authentication_error' });
    expect(parseNotificationId(id)).toEqual({ action: 'edit', accountId: 'a|b c', jobId: 'j1', cause: 'backup.authentication_error' });
    // An id from before causes were named (it ended in an event number) still parses.
    expect(parseNotificationId('mailkeep|edit|acc|j1|42')).toEqual({ action: 'edit', accountId: 'acc', jobId: 'j1', cause: null });
    expect(parseNotificationId('someone-else|edit|x|y')).toBeNull();
    expect(optionsPathFor('a b')).toBe('/options.html#account=a%20b');
  });
});

describe('the error hint table', () => {
  it('has a hint for every stable error code and none for no code', () => {
    for (const code of ErrorCode.options) expect(ERROR_HINTS[code].trim(), code).not.toBe('');
    expect(errorHint(null)).toBeNull();
    expect(errorHint('AUTH_FAILED')).toMatch(/Edit/);
  });
});
