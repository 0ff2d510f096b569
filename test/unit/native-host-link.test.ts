import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { createCoordinator, type Coordinator } from '@/lib/background/coordinator';
import { readPairing } from '@/lib/background/pairing-store';
import { EXTENSION_LIMITS } from '@/lib/limits';
import type { MailkeepDb } from '@/lib/storage/db';
import { getSetting } from '@/lib/storage/settings';
import { freshnessOf } from '@/lib/ui/relay-freshness';
import { freshDb } from './helpers/fresh-db';
import { FakeNativeHost } from './helpers/fake-native-host';
import { FakeRelayWire } from './helpers/fake-relay-socket';

let db: MailkeepDb;
let wire: FakeRelayWire;
let host: FakeNativeHost;
let coordinator: Coordinator;
let clock: number;
/** Timers the coordinator armed (reconnects, heartbeats), run by hand: no test waits on a real delay. */
let timers: { fn: () => void; ms: number }[];

const state = () => getSetting(db, 'relayState');
const settle = () => new Promise((r) => setTimeout(r, 0));
async function runTimers(): Promise<void> {
  const due = timers;
  timers = [];
  for (const t of due) t.fn();
  for (let i = 0; i < 5; i++) await settle();
}

beforeEach(() => {
  fakeBrowser.reset();
  db = freshDb();
  wire = new FakeRelayWire();
  wire.up = false; // no relay running: the host starts it
  host = new FakeNativeHost(wire);
  clock = Date.parse('2026-11-26T13:02:00Z');
  timers = [];
  coordinator = createCoordinator({
    db,
    storage: fakeBrowser.storage.local,
    alarms: fakeBrowser.alarms,
    openSocket: wire.openSocket,
    fetch: wire.fetch,
    client: { name: 'mailkeep-extension', version: '0.1.0' },
    nativeHost: host,
    now: () => clock,
    setTimer: (fn, ms) => void timers.push({ fn, ms }),
  });
});

describe('finding the relay through the native-messaging host', () => {
  it('on first use asks the host, which starts the relay, and connects with no code typed', async () => {
    await coordinator.pump();
    expect(host.requests).toEqual([{ type: 'connect', id: expect.any(String), pair: true }]);
    expect(wire.up).toBe(true);
    expect(await state()).toMatchObject({ state: 'connected', via: 'native', nativeHost: 'ok', syncedAt: clock });
    expect(await readPairing(fakeBrowser.storage.local)).toMatchObject({ port: 7412, token: wire.token, via: 'native' });
    // The token stays in storage.local: nothing in IndexedDB holds it.
    expect(JSON.stringify(await db.settings.toArray())).not.toContain(wire.token);
    expect(freshnessOf(await state(), clock)).toMatchObject({ live: true, via: 'native' });
  });

  it('says the host is missing (so the options page offers code pairing) when the browser cannot launch it', async () => {
    host.present = false;
    await coordinator.pump();
    expect(await state()).toMatchObject({ state: 'unpaired', nativeHost: 'missing' });
    expect(freshnessOf(await state(), clock)).toMatchObject({ live: false, reason: 'unpaired', nativeHost: 'missing' });
    // Code pairing still works as the fallback.
    wire.up = true;
    await coordinator.pair(7412, wire.code);
    await coordinator.pump();
    expect(await state()).toMatchObject({ state: 'connected', via: 'pairing' });
  });

  it('records a host that ran but could not start the relay as failed, with its code', async () => {
    host.failWith = { code: 'RELAY_START_FAILED', message: 'the relay did not listen within 15 s' };
    await coordinator.pump();
    expect(await state()).toMatchObject({ state: 'unpaired', nativeHost: 'failed' });
  });

  it('turns every status "last known" the moment the relay dies, then relaunches it through the host without a new code', async () => {
    await coordinator.pump();
    const syncedAt = clock;
    clock += 60_000;
    wire.up = false;
    for (const s of wire.sockets) s.close(1006);
    await vi.waitFor(async () => expect((await state()).state).toBe('unreachable'));
    const down = await state();
    expect(down).toMatchObject({ state: 'unreachable', syncedAt });
    expect(freshnessOf(down, clock)).toMatchObject({ live: false, asOf: syncedAt, reason: 'unreachable' });
    // The reconnect timer asks the host again, this time only to start the relay (a token is held).
    expect(timers.some((t) => t.ms === EXTENSION_LIMITS.relayReconnectDelayMs)).toBe(true);
    await runTimers();
    await coordinator.pump();
    expect(host.requests.map((r) => r.pair)).toEqual([true, false]);
    expect(await state()).toMatchObject({ state: 'connected', syncedAt: clock });
  });

  it('keeps looking every few seconds while the host cannot start the relay, and links as soon as it can', async () => {
    await coordinator.pump();
    wire.up = false;
    host.failWith = { code: 'RELAY_START_FAILED', message: 'the relay did not listen within 15 s' };
    for (const s of wire.sockets) s.close(1006);
    await vi.waitFor(async () => expect((await state()).state).toBe('unreachable'));
    for (let i = 0; i < 3; i++) {
      expect(timers.map((t) => t.ms)).toContain(EXTENSION_LIMITS.relayReconnectDelayMs);
      await runTimers();
      await vi.waitFor(async () => expect((await state()).nativeHost).toBe('failed'));
    }
    host.failWith = null;
    await runTimers();
    await vi.waitFor(async () => expect(await state()).toMatchObject({ state: 'connected', nativeHost: 'ok' }));
  });

  it('gets a fresh code from the host when the relay no longer accepts the held token', async () => {
    await coordinator.pump();
    wire.token = `mk1_${'y'.repeat(43)}`; // the relay's data dir was replaced: our token is unknown there
    for (const s of wire.sockets) s.close(1006);
    await settle();
    await coordinator.pump();
    expect(host.requests.at(-1)?.pair).toBe(true);
    expect(await state()).toMatchObject({ state: 'connected' });
    expect((await readPairing(fakeBrowser.storage.local))?.token).toBe(wire.token);
  });

  it('confirms the link on every heartbeat and drops a relay that stops answering', async () => {
    await coordinator.pump();
    clock += EXTENSION_LIMITS.relayHeartbeatMs;
    await runTimers();
    await vi.waitFor(async () => expect((await state()).at).toBe(clock));
    expect(freshnessOf(await state(), clock + EXTENSION_LIMITS.relayStaleAfterMs)).toMatchObject({ live: true });
    // Hung: the socket stays open but nothing answers; the page stops believing "connected" by itself.
    wire.relay.hung = true;
    const confirmed = clock;
    clock += EXTENSION_LIMITS.relayStaleAfterMs + 1;
    expect(freshnessOf(await state(), clock)).toMatchObject({ live: false, asOf: confirmed });
  });
});
