import { describe, expect, it } from 'vitest';
import { EXTENSION_LIMITS } from '@/lib/limits';
import { JOB_KINDS, statusesOf } from '@/lib/status/catalog';
import type { RelayState } from '@/lib/storage/settings';
import { asOfText, freshnessOf, notReachableLine, relayBannerOf, shortTime, statusView } from '@/lib/ui/relay-freshness';

// 2026-11-26 14:02 in Berlin is 13:02 UTC: every text below is computed in an injected zone.
const SYNCED = Date.parse('2026-11-26T13:02:00Z');
const ZONE = 'Europe/Berlin';
const connected = (at: number): RelayState => ({ state: 'connected', at, relayVersion: '1.2.3', errorCode: null, syncedAt: at, via: 'native', nativeHost: 'ok' });
const down = (state: RelayState['state'], syncedAt: number | null): RelayState => ({ state, at: SYNCED + 60_000, relayVersion: null, errorCode: 'RELAY_UNREACHABLE', syncedAt, via: 'native', nativeHost: 'ok' });

describe('what the pages believe about the relay link', () => {
  it('believes a connected link only while the worker keeps confirming it', () => {
    expect(freshnessOf(connected(SYNCED), SYNCED + EXTENSION_LIMITS.relayStaleAfterMs)).toMatchObject({ live: true, via: 'native' });
    // The worker stopped confirming (browser just reopened, worker gone, relay hung): last known.
    expect(freshnessOf(connected(SYNCED), SYNCED + EXTENSION_LIMITS.relayStaleAfterMs + 1)).toEqual({ live: false, asOf: SYNCED, reason: 'unreachable', nativeHost: 'ok' });
  });

  it('treats a store not read yet, a state never checked and every down state as not live', () => {
    expect(freshnessOf(undefined, SYNCED).live).toBe(false);
    for (const state of ['unknown', 'unreachable', 'unpaired', 'unauthorized'] as const) {
      const f = freshnessOf(down(state, SYNCED), SYNCED + 1);
      expect(f.live, state).toBe(false);
      if (!f.live) expect(f.asOf).toBe(SYNCED);
    }
  });

  it('says "never" rather than inventing a time when the mirror was never in sync', () => {
    const f = freshnessOf(down('unreachable', null), SYNCED);
    expect(f).toMatchObject({ live: false, asOf: null });
    if (!f.live) expect(notReachableLine(f, SYNCED, ZONE)).toBe('Not confirmed by the relay yet, relay not reachable.');
  });

  it('writes the age as "as of" the local time of the last sync, with how long ago', () => {
    const f = freshnessOf(down('unreachable', SYNCED), SYNCED + 3 * 60_000);
    if (f.live) throw new Error('expected not live');
    expect(notReachableLine(f, SYNCED + 3 * 60_000, ZONE)).toBe('As of 14:02 (3 minutes ago), relay not reachable.');
    expect(asOfText(SYNCED, SYNCED + 2 * 86_400_000, ZONE)).toBe('as of 26 Nov, 14:02 (2 days ago)');
    expect(shortTime(SYNCED, SYNCED + 400 * 86_400_000, 'UTC')).toBe('26 Nov 2026, 13:02');
  });

  it('shows every status of every kind as last known, never current and without a progress bar, while not live', () => {
    const f = freshnessOf(down('unreachable', SYNCED), SYNCED + 60_000);
    for (const kind of JOB_KINDS) {
      for (const status of statusesOf(kind)) {
        const view = statusView(kind, status, f, SYNCED + 60_000, ZONE);
        expect(view.current, `${kind}/${status}`).toBe(false);
        expect(view.showProgress).toBe(false);
        expect(view.mark).toBe('last known, as of 14:02 (1 minute ago)');
      }
    }
  });

  it('shows the relay\'s status as current, with its bar while running, when live', () => {
    const f = freshnessOf(connected(SYNCED), SYNCED + 1_000);
    expect(statusView('backup', 'running', f, SYNCED + 1_000, ZONE)).toMatchObject({ current: true, mark: null, showProgress: true, label: 'In Progress / Running' });
    expect(statusView('backup', 'completed', f, SYNCED + 1_000, ZONE)).toMatchObject({ current: true, showProgress: false });
  });
});

describe('the relay banner never contradicts the page below it', () => {
  const unpaired = freshnessOf({ ...down('unpaired', null), nativeHost: 'missing' }, SYNCED);
  const live = freshnessOf(connected(SYNCED), SYNCED);

  it('is not shown with no mailbox on the popup, dashboard and archive: the empty state names the one next step', () => {
    for (const reason of ['unreachable', 'unpaired', 'unauthorized'] as const) {
      expect(relayBannerOf(freshnessOf(down(reason, SYNCED), SYNCED + 1), 0, false), reason).toBe('hidden');
    }
  });

  it('on the options page with no mailbox says how to connect, and nothing about statuses there are none of', () => {
    expect(relayBannerOf(unpaired, 0, true)).toBe('connect');
  });

  it('with mailboxes marks every status below as last known, on every page', () => {
    expect(relayBannerOf(unpaired, 1, false)).toBe('last-known');
    expect(relayBannerOf(unpaired, 20, true)).toBe('last-known');
  });

  it('is not shown while the link is live, nor before the store is read', () => {
    expect(relayBannerOf(live, 3, false)).toBe('hidden');
    expect(relayBannerOf(live, 0, true)).toBe('hidden');
    expect(relayBannerOf(unpaired, undefined, true)).toBe('hidden');
  });
});
