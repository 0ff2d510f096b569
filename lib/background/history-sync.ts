import type { AccountState } from '../protocol/account-state.ts';
import type { AccountHistoryResult } from '../protocol/account-history.ts';
import type { RelayConnection } from '../protocol/relay-client.ts';
import { HISTORY_LIMITS } from '../limits.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { historyBasis, mirrorHistory } from './mirror.ts';

/**
 * Keeps each account's mirrored history (account.history) in step with the relay: asked again only
 * for an account whose state says something changed since (historyBasis), fetched page by page up to
 * HISTORY_LIMITS.mirrorRunsPerAccount runs. An account whose basis did not change has a history as
 * current as the link's sync (its "as of" is the relay link's syncedAt). A relay too old to know
 * account.history, or one that fails to answer, leaves the last mirrored history as it was, marked
 * behind (shown as of its own fetch).
 */
export async function syncHistories(db: MailkeepDb, c: Pick<RelayConnection, 'call'>, accounts: readonly AccountState[], now: () => number): Promise<void> {
  for (const state of accounts) {
    const basis = historyBasis(state);
    const held = await db.archiveSummaries.get(state.account.id);
    if (held?.basis === basis) continue;
    try {
      const pages: AccountHistoryResult[] = [];
      let before: string | undefined;
      let runs = 0;
      do {
        const page = await c.call('account.history', { accountId: state.account.id, limit: HISTORY_LIMITS.pageMax, ...(before ? { before } : {}) });
        pages.push(page);
        runs += page.runs.length;
        before = page.nextBefore ?? undefined;
      } while (before !== undefined && runs < HISTORY_LIMITS.mirrorRunsPerAccount);
      await mirrorHistory(db, pages, basis, now());
    } catch {
      // Not fatal to the sync: the status and the rest of the mirror stand without the history,
      // which is marked behind, so the pages date it by its own fetch, not by the link's last sync.
      await db.archiveSummaries.update(state.account.id, { behind: true }).catch(() => undefined);
    }
  }
}
