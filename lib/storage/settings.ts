import { z } from '../zod.ts';
import type { MailkeepDb } from './db.ts';
import { ErrorCode } from '../protocol/error-code-schema.ts';

/** unpaired: no token stored and no native host; unreachable: nothing answers; unauthorized: the
 * relay refused our token (paired with another install); connected: hello accepted. */
export const RelayState = z.strictObject({
  state: z.enum(['unknown', 'unpaired', 'unreachable', 'unauthorized', 'connected']),
  /** When the worker last recorded or confirmed this state (a connected link is confirmed every
   * EXTENSION_LIMITS.relayHeartbeatMs; pages stop believing it after relayStaleAfterMs). */
  at: z.number(),
  relayVersion: z.string().nullable(),
  errorCode: ErrorCode.nullable(),
  /** The last moment the worker was linked to the relay and the mirror in sync: the "as of" of every
   * status the pages show while the relay is not reachable. null or absent: never linked. */
  syncedAt: z.number().nullable().optional(),
  /** How the worker found the relay: the native-messaging host (no code typed) or a pairing code. */
  via: z.enum(['native', 'pairing']).nullable().optional(),
  /** What the native-messaging host did on the last attempt: ok, missing (not registered, or the
   * browser cannot launch hosts, as Flatpak and Snap builds), or failed (it ran but gave no address). */
  nativeHost: z.enum(['ok', 'missing', 'failed']).nullable().optional(),
});
export type RelayState = z.infer<typeof RelayState>;

/** Every setting with its schema and default; a stored value that fails its schema reads as the default. */
export const SETTINGS = {
  /** How eager the "N messages disappeared, restore?" prompt is. */
  restorePrompts: { schema: z.enum(['any', 'bulk', 'never']), fallback: 'bulk' as const },
  /** Per account, the end of the last backup run whose disappeared messages were turned into
   * prompts: a restarted worker asks the relay again only for runs it has not looked at. */
  restorePromptsCheckedAt: { schema: z.record(z.string(), z.number()), fallback: {} as Record<string, number> },
  /** Id of the last job event the notifier has looked at; stored so a restarted worker does not repeat itself. */
  notifiedEventId: { schema: z.number().int().min(0), fallback: 0 },
  /** What the service worker last learned about the relay, for the popup's banner and the badge.
   * Never holds the token (that is in browser.storage.local, see lib/background/pairing-store.ts). */
  relayState: { schema: RelayState, fallback: { state: 'unknown', at: 0, relayVersion: null, errorCode: null, syncedAt: null } as RelayState },
} as const;
type Settings = typeof SETTINGS;
export type SettingKey = keyof Settings;
export type SettingValue<K extends SettingKey> = z.infer<Settings[K]['schema']>;

export async function getSetting<K extends SettingKey>(db: MailkeepDb, key: K): Promise<SettingValue<K>> {
  const row = await db.settings.get(key);
  const parsed = SETTINGS[key].schema.safeParse(row?.value);
  return (parsed.success ? parsed.data : SETTINGS[key].fallback) as SettingValue<K>;
}

export async function setSetting<K extends SettingKey>(db: MailkeepDb, key: K, value: SettingValue<K>): Promise<void> {
  await db.settings.put({ key, value: SETTINGS[key].schema.parse(value) });
}
