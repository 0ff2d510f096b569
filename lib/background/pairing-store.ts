import { z } from '../zod.ts';
import { DEFAULT_RELAY_PORT } from '../protocol/http.ts';

/**
 * Where the relay is and the token it gave us. Kept in browser.storage.local, not IndexedDB: the
 * token is a credential for the loopback relay (not a mail password), readable only by this
 * extension; keeping it out of the Dexie rows keeps it out of every query, export and diagnostics
 * report built from them. Nothing here is ever logged.
 */
export const Pairing = z.strictObject({
  port: z.number().int().min(1).max(65535),
  token: z.string().min(32).max(256),
  pairedAt: z.number(),
  /** How the token was obtained: a code handed over by the native-messaging host, or typed. */
  via: z.enum(['native', 'pairing']).optional(),
});
export type Pairing = z.infer<typeof Pairing>;

const KEY = 'mailkeepPairing';

/** The slice of browser.storage.local this module uses (fakeBrowser has it too). */
export interface LocalStore {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(key: string): Promise<void>;
}

export async function readPairing(store: LocalStore): Promise<Pairing | null> {
  const parsed = Pairing.safeParse((await store.get(KEY))[KEY]);
  return parsed.success ? parsed.data : null;
}

export async function writePairing(store: LocalStore, pairing: Pairing): Promise<void> {
  await store.set({ [KEY]: Pairing.parse(pairing) });
}

export async function clearPairing(store: LocalStore): Promise<void> {
  await store.remove(KEY);
}

export function relayBaseUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

export function relaySocketUrl(port: number): string {
  return `ws://127.0.0.1:${port}/ws`;
}

export { DEFAULT_RELAY_PORT };
