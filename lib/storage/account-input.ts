import { z } from '../zod.ts';
import { EXTENSION_LIMITS as L } from '../limits.ts';
import { Security, type OnSchedule, type Schedule } from './rows.ts';
import { LocalTime } from '../protocol/account-state.ts';

const PORT_MESSAGE = 'Port must be a whole number from 1 to 65535.';
const HOURS_MESSAGE = `Enter a whole number of hours from ${L.scheduleMinHours} to ${L.scheduleMaxHours}.`;
// A DNS name (labels of letters, digits and inner hyphens) or an IP address literal.
const HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$|^[0-9a-f:]*:[0-9a-f:.]+$/i;

/**
 * What the options form submits, validated field by field (the messages are shown next to the
 * fields). Strict: there is no password here on purpose; credentials go to the relay (a later
 * issue), never to IndexedDB, and an unexpected key is refused rather than stored.
 */
export const AccountInput = z
  .strictObject({
    displayName: z.string().trim().max(L.displayNameMaxChars, `At most ${L.displayNameMaxChars} characters.`).default(''),
    email: z.email({ error: 'Enter an email address such as name@example.com.' }),
    username: z.string().trim().default(''),
    host: z
      .string({ error: 'Enter the IMAP server host name.' })
      .trim()
      .min(1, 'Enter the IMAP server host name, for example imap.example.com.')
      .regex(HOST, 'This is not a valid host name.'),
    port: z.coerce
      .number({ error: PORT_MESSAGE })
      .int({ error: PORT_MESSAGE })
      .min(1, { error: PORT_MESSAGE })
      .max(65535, { error: PORT_MESSAGE }),
    security: Security,
    scheduleEnabled: z.boolean(),
    /** every N hours (default) or daily at a time; the relay runs either with the browser closed. */
    scheduleKind: z.enum(['every', 'daily']).default('every'),
    dailyAt: z.string().refine((v) => LocalTime.safeParse(v).success, 'Enter a time such as 02:00.').default('02:00'),
    everyHours: z.coerce
      .number({ error: HOURS_MESSAGE })
      .int({ error: HOURS_MESSAGE })
      .min(L.scheduleMinHours, { error: HOURS_MESSAGE })
      .max(L.scheduleMaxHours, { error: HOURS_MESSAGE }),
  })
  .transform(({ scheduleEnabled, scheduleKind, dailyAt, everyHours, ...rest }) => {
    const on: OnSchedule = scheduleKind === 'daily' ? { kind: 'daily', at: dailyAt } : { kind: 'every', hours: everyHours };
    const schedule: Schedule = scheduleEnabled ? on : { kind: 'off' };
    return {
      ...rest,
      displayName: rest.displayName || rest.email,
      username: rest.username || rest.email,
      schedule,
      resumeSchedule: on,
    };
  });
export type AccountInput = z.input<typeof AccountInput>;

export type AccountField = keyof AccountInput;
export type AccountInputIssues = Partial<Record<AccountField | 'form', string>>;

/** The first message per field, the shape the form shows next to each input. */
export function issuesOf(error: z.ZodError): AccountInputIssues {
  const issues: AccountInputIssues = {};
  for (const issue of error.issues) {
    const head = issue.path[0];
    const key = (typeof head === 'string' ? head : 'form') as AccountField | 'form';
    issues[key] ??= issue.message;
  }
  return issues;
}
