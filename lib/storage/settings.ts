import { z } from '../zod.ts';
import type { MailkeepDb } from './db.ts';

/** Every setting with its schema and default; a stored value that fails its schema reads as the default. */
export const SETTINGS = {
  /** How eager the "N messages disappeared, restore?" prompt is. */
  restorePrompts: { schema: z.enum(['any', 'bulk', 'never']), fallback: 'bulk' as const },
  /** Id of the last job event the notifier has looked at; stored so a restarted worker does not repeat itself. */
  notifiedEventId: { schema: z.number().int().min(0), fallback: 0 },
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
