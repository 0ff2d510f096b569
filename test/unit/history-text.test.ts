import { describe, expect, it } from 'vitest';
import { archiveTotalsText, lastBackupText } from '../../lib/ui/archive-text.ts';
import { formatDuration, historyAsOf, runDurationMs, runOutcomeLabel, runSeverity } from '../../lib/ui/history-text.ts';
import { asOfText, freshnessOf } from '../../lib/ui/relay-freshness.ts';

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

describe("the History's \"as of\" is the relay's last confirmation, as the banner's is", () => {
  const fetched = NOW - 6 * 60_000; // fetched at 15:56, the state unchanged since
  const synced = NOW - 10_000; // the link's last sync: 16:01
  const down = freshnessOf({ state: 'unreachable', at: NOW, relayVersion: null, errorCode: 'RELAY_UNREACHABLE', syncedAt: synced, via: 'native', nativeHost: 'ok' }, NOW);

  it('a history in step with the relay at its last sync says that sync\'s time, as the banner does, not when it was fetched', () => {
    expect(down.live).toBe(false);
    const at = historyAsOf({ fetchedAt: fetched }, down);
    expect(at).toBe(synced);
    expect(asOfText(at, NOW, 'Europe/Berlin')).toBe('as of 17:01 (just now)');
    if (!down.live) expect(asOfText(at, NOW, 'Europe/Berlin')).toBe(asOfText(down.asOf, NOW, 'Europe/Berlin'));
  });

  it('a history the relay changed since and that could not be fetched again is dated by its own fetch', () => {
    expect(historyAsOf({ fetchedAt: fetched, behind: true }, down)).toBe(fetched);
  });

  it('with no sync known, or a sync older than the fetch, the fetch time stands', () => {
    const never = freshnessOf({ state: 'unreachable', at: NOW, relayVersion: null, errorCode: 'RELAY_UNREACHABLE', syncedAt: null, via: 'native', nativeHost: 'ok' }, NOW);
    expect(historyAsOf({ fetchedAt: fetched }, never)).toBe(fetched);
    const older = freshnessOf({ state: 'unreachable', at: NOW, relayVersion: null, errorCode: 'RELAY_UNREACHABLE', syncedAt: fetched - 60_000, via: 'native', nativeHost: 'ok' }, NOW);
    expect(historyAsOf({ fetchedAt: fetched }, older)).toBe(fetched);
  });
});
