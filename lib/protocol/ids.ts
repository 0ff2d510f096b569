import { z } from '../zod.ts';

/**
 * Identifiers and timestamps every frame and every kind's parameters use. Kept apart from
 * common.ts so the per-kind parameter files can use them while common.ts imports those files.
 * Lengths are wire caps, not business rules.
 */

/** Ids end up in file names and map keys on the relay: a tight alphabet keeps them path-safe. */
export const SafeId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only, 1 to 64');
export type SafeId = z.infer<typeof SafeId>;

/** Correlates a reply with its request; chosen by the client, echoed by the relay. */
export const RequestId = z.string().min(1).max(64);

/** Chosen by the coordinator per intended job run: the same key always means the same job. */
export const IdempotencyKey = z.string().min(8).max(128);

export const Timestamp = z.iso.datetime({ offset: true });
