/**
 * The per-account connection cap (relay/imap/connection-cap.ts): a session waiting for a slot gives
 * up at its deadline, however often other sessions of the account close and open meanwhile.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { takeConnection } from '../../relay/imap/connection-cap.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('the connection cap', () => {
  it('a waiter whose freed slot is taken again by a newer session still gives up at its one deadline', async () => {
    vi.useFakeTimers();
    const key = 'trickle@example.org:993:u';
    let held = await takeConnection(key, 1, 1000);
    expect(held).not.toBeNull();
    let result: (() => void) | null | 'waiting' = 'waiting';
    let gaveUpAfter = -1;
    const start = Date.now();
    void takeConnection(key, 1, 1000).then((r) => ((result = r), (gaveUpAfter = Date.now() - start)));
    // Every 300 ms the holder closes and a new session takes the slot in the same turn, before the
    // woken waiter runs: the waiter goes round its loop each time.
    for (let i = 0; i < 10 && result === 'waiting'; i++) {
      await vi.advanceTimersByTimeAsync(300);
      held!();
      held = await takeConnection(key, 1, 0);
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(result).toBeNull();
    expect(gaveUpAfter).toBe(1000);
    held?.();
  });

  it('a waiter gets the slot as soon as one closes', async () => {
    const key = 'plain@example.org:993:u';
    const first = await takeConnection(key, 1, 1000);
    const second = takeConnection(key, 1, 1000);
    first!();
    const release = await second;
    expect(release).toBeTypeOf('function');
    release!();
  });
});
