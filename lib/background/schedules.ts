import { EXTENSION_LIMITS } from '../limits.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { backupJobOf, transitionJob } from '../storage/jobs.ts';
import { canTransition } from '../status/state-machine.ts';

/** The slice of browser.alarms the scheduler uses (fakeBrowser implements it). */
export interface AlarmsLike {
  create(name: string, info: { when?: number; delayInMinutes?: number; periodInMinutes?: number }): Promise<void> | void;
  get(name: string): Promise<{ name: string; scheduledTime: number; periodInMinutes?: number } | undefined>;
  getAll(): Promise<{ name: string; scheduledTime: number; periodInMinutes?: number }[]>;
  clear(name: string): Promise<boolean>;
}

const BACKUP_PREFIX = 'mailkeep-backup|';
export const RETRY_SOON_ALARM = 'mailkeep-retry-soon';

export function backupAlarmName(accountId: string): string {
  return `${BACKUP_PREFIX}${accountId}`;
}

export function accountOfBackupAlarm(name: string): string | null {
  return name.startsWith(BACKUP_PREFIX) ? name.slice(BACKUP_PREFIX.length) : null;
}

/**
 * One repeating alarm per account with its schedule on, at the interval chosen in the options page
 * (first run one interval after the last success); none for a Deactivated account. Alarms live in
 * the browser, not in the worker, so they survive its restarts; this only brings them in line with
 * the store, and it is cheap to run on every pass.
 */
export async function syncBackupAlarms(db: MailkeepDb, alarms: AlarmsLike, now = Date.now()): Promise<void> {
  const accounts = await db.accounts.toArray();
  const wanted = new Map<string, number>();
  for (const a of accounts) if (a.schedule.enabled) wanted.set(backupAlarmName(a.id), a.schedule.everyHours * 60);
  for (const alarm of await alarms.getAll()) {
    if (alarm.name.startsWith(BACKUP_PREFIX) && !wanted.has(alarm.name)) await alarms.clear(alarm.name);
  }
  for (const [name, minutes] of wanted) {
    const existing = await alarms.get(name);
    if (existing && existing.periodInMinutes === minutes) continue;
    const accountId = accountOfBackupAlarm(name) as string;
    const last = (await backupJobOf(db, accountId))?.lastSuccessAt ?? now;
    const when = Math.max(now + 60_000, last + minutes * 60_000);
    await alarms.create(name, { when, periodInMinutes: minutes });
  }
}

/** A scheduled run is due: queue the account's backup unless it is running or waits for the user. */
export async function queueScheduledBackup(db: MailkeepDb, accountId: string, now = Date.now()): Promise<boolean> {
  const [account, job] = await Promise.all([db.accounts.get(accountId), backupJobOf(db, accountId)]);
  if (!account?.schedule.enabled || !job) return false;
  // Authentication Error waits for a password edit; a run under way is not doubled.
  if (job.status === 'authentication_error' || !canTransition('backup', job.status, 'preparing') || job.status === 'retrying') return false;
  await transitionJob(db, job.id, 'preparing', { at: now });
  return true;
}

/** A one-shot alarm at the earliest owed auto-retry, so a short (test) delay is kept to the second. */
export async function armRetryAlarm(db: MailkeepDb, alarms: AlarmsLike, now = Date.now()): Promise<void> {
  const due = await db.jobs.where('nextRetryAt').above(0).toArray();
  const earliest = Math.min(...due.map((j) => j.nextRetryAt ?? Infinity));
  if (!Number.isFinite(earliest)) return;
  const existing = await alarms.get(RETRY_SOON_ALARM);
  if (existing && Math.abs(existing.scheduledTime - earliest) < 1_000) return;
  await alarms.create(RETRY_SOON_ALARM, { when: Math.max(earliest, now + EXTENSION_LIMITS.minAlarmDelayMs) });
}
