/** The slice of browser.alarms the worker uses (fakeBrowser implements it). */
export interface AlarmsLike {
  create(name: string, info: { when?: number; delayInMinutes?: number; periodInMinutes?: number }): Promise<void> | void;
  get(name: string): Promise<{ name: string; scheduledTime: number; periodInMinutes?: number } | undefined>;
  getAll(): Promise<{ name: string; scheduledTime: number; periodInMinutes?: number }[]>;
  clear(name: string): Promise<boolean>;
}

/** The one alarm the worker keeps: a light periodic look at the relay (reconnect, refresh the mirror). */
export const RELAY_CHECK_ALARM = 'mailkeep-relay-check';

/**
 * Alarms of versions that scheduled backups and retries in the browser (`mailkeep-backup|ID`,
 * `mailkeep-retry-due`, `mailkeep-retry-soon`). The relay owns schedules and retries now, so that
 * backups run with the browser closed; an old alarm left armed would only wake the worker for
 * nothing, so every alarm but the relay check is cleared.
 */
export async function clearLegacyAlarms(alarms: AlarmsLike): Promise<string[]> {
  const cleared: string[] = [];
  for (const alarm of await alarms.getAll()) {
    if (alarm.name === RELAY_CHECK_ALARM) continue;
    if (await alarms.clear(alarm.name)) cleared.push(alarm.name);
  }
  return cleared;
}
