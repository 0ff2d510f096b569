/**
 * The per-account connection cap (Gmail allows 15 IMAP connections per account, shared with the
 * user's phone and mail apps; Mailkeep takes PROVIDER_LIMITS.gmailMaxConnections): a session of an
 * account at its cap waits for one of the account's sessions to close, within a deadline, instead
 * of opening one more and being refused with "Too many simultaneous connections".
 */
interface Slot {
  open: number;
  waiters: (() => void)[];
}

const slots = new Map<string, Slot>();

/** Sessions of this account open now in this process (for tests and diagnostics). */
export function openConnections(key: string): number {
  return slots.get(key)?.open ?? 0;
}

/**
 * Takes one of `max` slots of `key`, waiting at most `deadlineMs` (and no longer than `signal`).
 * Resolves with the release function (idempotent), or null when no slot came free in time.
 */
export async function takeConnection(key: string, max: number, deadlineMs: number, signal?: AbortSignal): Promise<(() => void) | null> {
  let slot = slots.get(key);
  if (!slot) slots.set(key, (slot = { open: 0, waiters: [] }));
  const s = slot;
  // One deadline for the whole wait: a slot freed and taken again by a newer session before this
  // waiter runs sends it round the loop, which must not start its wait afresh.
  const until = Date.now() + deadlineMs;
  while (s.open >= max) {
    const left = until - Date.now();
    if (left <= 0) return null;
    const freed = await new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      };
      const onAbort = (): void => {
        s.waiters = s.waiters.filter((w) => w !== wake);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort); // (also when the deadline, not the signal, ended the wait)
        resolve(false);
      };
      const timer = setTimeout(onAbort, left);
      signal?.addEventListener('abort', onAbort, { once: true });
      s.waiters.push(wake);
    });
    if (!freed) return null;
  }
  s.open++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    s.open--;
    s.waiters.shift()?.(); // (the entry stays: one per account, and a woken waiter counts on it)
  };
}
