import { z } from '../zod.ts';
import { BackupStatus } from './status-ids.ts';
import { ImapAccount, JobSnapshot, SafeId, Timestamp } from './common.ts';

/**
 * What the relay knows about one account beyond its settings: its backup schedule, when it runs
 * next, the automatic retry it owes, and its latest backup. The relay owns all of it (issue 11);
 * the extension mirrors it and never computes a schedule or a status of its own.
 */

/** Schedule bounds: hourly at most (servers rate-limit logins), weekly at least. */
export const SCHEDULE_MIN_HOURS = 1;
export const SCHEDULE_MAX_HOURS = 168;

/** "HH:MM", 24-hour, local time in the relay's time zone. */
export const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 00:00 to 23:59');

/**
 * When an account's backup runs by itself. `every`: that many hours after the previous scheduled
 * run started. `daily`: at that local time in the relay's zone (a time a DST change skips runs
 * when the clock has passed it, e.g. 02:30 -> 03:30; a repeated one runs once, the first time).
 * A run missed while the machine slept or the relay was down runs once, soon after, not once per
 * missed slot.
 */
export const Schedule = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('off') }),
  z.strictObject({ kind: z.literal('every'), hours: z.number().int().min(SCHEDULE_MIN_HOURS).max(SCHEDULE_MAX_HOURS) }),
  z.strictObject({ kind: z.literal('daily'), at: LocalTime }),
]);
export type Schedule = z.infer<typeof Schedule>;

/** A new account backs up daily unless told otherwise (the extension's default too). */
export const DEFAULT_SCHEDULE: Schedule = { kind: 'every', hours: 24 };

export const ArchiveTotals = z.strictObject({
  /** Distinct messages stored (a message in three folders counts once). */
  messages: z.number().int().nonnegative(),
  /** Their stored size in bytes. */
  bytes: z.number().int().nonnegative(),
});
export type ArchiveTotals = z.infer<typeof ArchiveTotals>;

/**
 * Which reading of an account's state this is: the relay process (`instance`, new at every start)
 * and the order of its readings (`seq`). A state travels as a pushed event and as part of state.get's
 * answer; a page's mirror that applied a later reading skips an earlier one that reaches it after
 * (events queued while a state.get was answered), so a finished run never shows as running again.
 */
export const StateRevision = z.strictObject({
  instance: z.string().min(1).max(64),
  seq: z.number().int().nonnegative(),
});
export type StateRevision = z.infer<typeof StateRevision>;

export const AccountState = z.strictObject({
  /** Settings only: the password never leaves the relay. */
  account: ImapAccount,
  hasPassword: z.boolean(),
  schedule: Schedule,
  /**
   * The account's backup status, applied by the relay with lib/status's state machine: the latest
   * backup's status; `deactivated` when the schedule is off and no backup runs; null before the
   * first backup.
   */
  status: BackupStatus.nullable(),
  /** When the schedule (or a deferred missed run) starts the next backup; null when off. */
  nextRunAt: Timestamp.nullable(),
  /** The automatic retry owed after Connection Error or Partially Completed ("within a few hours"). */
  retryAt: Timestamp.nullable(),
  /** When the latest Completed backup finished. */
  lastSuccessAt: Timestamp.nullable(),
  latestBackup: JobSnapshot.nullable(),
  /** What the account's archive holds; null when it has none yet (or it cannot be read now). */
  archive: ArchiveTotals.nullable(),
  /** Absent from a relay older than the field: such a state is always applied. */
  revision: StateRevision.optional(),
});
export type AccountState = z.infer<typeof AccountState>;

/** Pushed whenever anything about an account changes: settings, schedule, next run, retry, status, last success. */
export const AccountChangedEvent = z.strictObject({
  event: z.literal('account.changed'),
  account: AccountState,
  at: Timestamp,
});

/** Pushed when an account is deleted (its archive stays on disk). */
export const AccountRemovedEvent = z.strictObject({
  event: z.literal('account.removed'),
  accountId: SafeId,
  at: Timestamp,
});

export const AccountEvent = z.discriminatedUnion('event', [AccountChangedEvent, AccountRemovedEvent]);
export type AccountEvent = z.infer<typeof AccountEvent>;
