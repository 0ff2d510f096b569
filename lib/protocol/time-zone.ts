import { z } from '../zod.ts';

/** Whether this runtime (the browser, Node with full ICU) knows `name` as a time zone. */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * An IANA time zone name ("America/Los_Angeles", "UTC") as a request carries it: the zone in which
 * the asker means its dates (before:/after: on the Archive page are days where the user is, the
 * same zone the page shows dates in). Refused at the door when the relay does not know it.
 */
export const IanaTimeZone = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_+\-/]+$/, 'an IANA time zone name')
  .refine(isKnownTimeZone, 'an IANA time zone name such as Europe/Berlin');
