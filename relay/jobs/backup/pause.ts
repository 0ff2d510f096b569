import type { ImapFlow } from 'imapflow';
import { PROVIDER_LIMITS } from '../../../lib/limits.ts';
import { MailkeepError, mailkeepError } from '../../../lib/protocol/error-codes.ts';
import { providerLimitOf, sessionLimit, type ProviderLimit } from '../../imap/provider-limits.ts';
import type { JobPacing, PauseInfo } from '../pacing.ts';

/** The account's daily budget is spent: thrown where the bytes are counted, caught by runBackup as a pause. */
export function budgetSpent(pacing: JobPacing): MailkeepError {
  const resumeAt = pacing.refillAt();
  return mailkeepError('PROVIDER_LIMIT_PAUSED', `${pacing.limitName} reached`, { budget: true, resumeAt, ...(pacing.direction ? { direction: pacing.direction } : {}) });
}

/** How long each limit signal pauses the job when the server named no wait (lib/limits.ts). */
function waitFor(limit: ProviderLimit): number {
  if (limit.waitMs !== undefined) return Math.min(limit.waitMs, PROVIDER_LIMITS.serverWaitMaxMs);
  if (limit.kind === 'bandwidth') return PROVIDER_LIMITS.bandwidthPauseMs;
  if (limit.kind === 'connections') return PROVIDER_LIMITS.connectionsPauseMs;
  if (limit.kind === 'session-expired') return PROVIDER_LIMITS.sessionExpiredPauseMs;
  return PROVIDER_LIMITS.throttledPauseMs;
}

/**
 * The pause a failure asks for, or null when it is no limit: the budget (resume when it refills),
 * or a provider's signal on this session or in the error (resume after the server's suggested wait,
 * else the signal's default; a bandwidth signal also waits for the budget to refill).
 */
export function pauseOf(err: unknown, client: ImapFlow | null, pacing: JobPacing | undefined, now: number): (PauseInfo & { waitMs: number }) | null {
  const provider = pacing?.provider ?? 'other';
  const way = pacing?.direction === 'up' ? { direction: 'up' as const } : {};
  if (err instanceof MailkeepError && err.code === 'PROVIDER_LIMIT_PAUSED' && err.details.budget === true) {
    const at = Math.max(now, Number(err.details.resumeAt) || now);
    return { reason: 'budget', provider, resumeAt: new Date(at).toISOString(), waitMs: at - now, ...way };
  }
  const limit = sessionLimit(client) ?? providerLimitOf(err) ?? (err instanceof MailkeepError ? providerLimitOf(err.cause) ?? (err.details.providerLimit as ProviderLimit | undefined) ?? null : null);
  if (!limit) return null;
  let at = now + waitFor(limit);
  if (limit.kind === 'bandwidth' && pacing?.dailyBytes) at = Math.max(at, pacing.refillAt());
  return { reason: limit.kind, provider, resumeAt: new Date(at).toISOString(), waitMs: at - now, ...way };
}
