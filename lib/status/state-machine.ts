import { MailkeepError } from '../protocol/error-codes.ts';
import type { JobKind } from '../protocol/status-ids.ts';
import { TRANSITIONS, isStatusOf } from './catalog.ts';

export function canTransition(kind: JobKind, from: string, to: string): boolean {
  if (!isStatusOf(kind, from) || !isStatusOf(kind, to)) return false;
  const allowed = (TRANSITIONS[kind] as Record<string, readonly string[]>)[from] ?? [];
  return allowed.includes(to);
}

/** Throws ILLEGAL_TRANSITION: a status change outside the table is never applied silently. */
export function assertTransition(kind: JobKind, from: string, to: string): void {
  if (!canTransition(kind, from, to)) {
    throw new MailkeepError('ILLEGAL_TRANSITION', `${kind}: ${from} -> ${to} is not allowed`, { kind, from, to });
  }
}

/**
 * Shortest legal path from one status to another (excluding `from`), or null. Used to bring a job
 * into a given status through the state machine only (the test seed hook), never around it.
 */
export function pathTo(kind: JobKind, from: string, to: string): string[] | null {
  if (from === to) return [];
  const table = TRANSITIONS[kind] as Record<string, readonly string[]>;
  const previous = new Map<string, string>([[from, from]]);
  const queue = [from];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    for (const next of table[at] ?? []) {
      if (previous.has(next)) continue;
      previous.set(next, at);
      if (next === to) {
        const path = [to];
        for (let s = at; s !== from; s = previous.get(s) as string) path.unshift(s);
        return path;
      }
      queue.push(next);
    }
  }
  return null;
}
