import { describe, expect, it } from 'vitest';
import { archiveTotalsText, lastBackupText } from '../../lib/ui/archive-text.ts';
import { formatDuration, runDurationMs, runOutcomeLabel, runSeverity } from '../../lib/ui/history-text.ts';

// The words the popup card, the dashboard's History and `mailkeep status ACCOUNT` use; clock and zone fixed.

const NOW = Date.parse('2026-11-26T16:02:00Z');

describe('the words for what is in a backup', () => {
  it('"Last backup 14:02, 3 hours ago" in the zone given, with the day when it was another day', () => {
    const at = Date.parse('2026-11-26T13:02:00Z');
    expect(lastBackupText(at, NOW, 'Europe/Berlin')).toBe('Last backup 14:02, 3 hours ago');
    expect(lastBackupText(at, NOW, 'America/New_York')).toBe('Last backup 08:02, 3 hours ago');
    expect(lastBackupText(Date.parse('2026-11-23T13:02:00Z'), NOW, 'Europe/Berlin')).toBe('Last backup 23 Nov, 14:02, 3 days ago');
    expect(lastBackupText(NOW - 10_000, NOW, 'UTC')).toBe('Last backup 16:01, just now');
  });

  it('totals: messages, folders and size, singular where it is one, folders left out when not known', () => {
    expect(archiveTotalsText({ messages: 1204, bytes: 48.2 * 1024 * 1024, folders: 6 })).toBe('1204 messages in 6 folders, 48.2 MB');
    expect(archiveTotalsText({ messages: 1, bytes: 700, folders: 1 })).toBe('1 message in 1 folder, 700 bytes');
    expect(archiveTotalsText({ messages: 0, bytes: 0, folders: null })).toBe('0 messages, 0 bytes');
  });

  it('durations and outcomes of runs', () => {
    expect(formatDuration(840)).toBe('0.8 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(3_720_000)).toBe('1 h 2 min');
    expect(runDurationMs({ startedAt: '2026-11-26T13:00:00Z', finishedAt: '2026-11-26T13:00:02.500Z' })).toBe(2500);
    expect(runDurationMs({ startedAt: '2026-11-26T13:00:00Z', finishedAt: null })).toBeNull();
    expect([runOutcomeLabel('partially_completed'), runSeverity('partially_completed')]).toEqual(['Partially Completed', 'warning']);
    expect([runOutcomeLabel('connection_error'), runSeverity('connection_error')]).toEqual(['Connection Error', 'error']);
    expect([runOutcomeLabel(null), runSeverity(null)]).toEqual(['Interrupted', 'warning']);
  });
});
