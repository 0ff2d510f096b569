import { useState } from 'preact/hooks';
import Dexie from 'dexie';
import type { AccountRow } from '@/lib/storage/rows';
import { getDb } from '@/lib/storage/db';
import { HISTORY_LIMITS } from '@/lib/limits';
import { formatAbsolute, formatBytes } from '@/lib/format';
import { useFreshness } from '@/lib/ui/use-freshness';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { asOfText } from '@/lib/ui/relay-freshness';
import { formatDuration, historyAsOf, runOutcomeLabel, runSeverity } from '@/lib/ui/history-text';
import { lastBackupText, totalsLine } from '@/lib/ui/archive-text';
import { HistoryChart } from './history-chart';
import { backupJobOf } from '@/lib/storage/jobs';
import { statusInfo } from '@/lib/status/catalog';
import './history.css';

/**
 * What one account's archive holds and how it got there, from the mirror of account.history:
 * totals, the last successful backup, the chart, and the runs (newest first). While the relay is
 * not reachable, all of it is the last the relay reported, and says so with its age.
 */
export function AccountHistory({ account }: { account: AccountRow }) {
  const db = getDb();
  const { freshness, now, timeZone } = useFreshness();
  const [all, setAll] = useState(false);
  const summary = useLiveQuery(() => db.archiveSummaries.get(account.id), [account.id]);
  // The relay counts the archive when a backup ends: while one runs, the totals are the last finished one's.
  const backup = useLiveQuery(() => backupJobOf(db, account.id), [account.id]);
  const running = backup != null && statusInfo('backup', backup.status).severity === 'progress';
  const runs = useLiveQuery(
    () => db.historyRuns.where('[accountId+startedAt]').between([account.id, Dexie.minKey], [account.id, Dexie.maxKey]).reverse().toArray(),
    [account.id],
  );
  const headingId = `history-${account.id}`;
  const lastSuccessAt = summary?.lastSuccessAt ?? account.relay?.lastSuccessAt ?? null;
  const shown = runs ? (all ? runs : runs.slice(0, HISTORY_LIMITS.tableRowsShown)) : [];
  return (
    <section class="history-account" aria-labelledby={headingId} data-testid="account-history" data-account-id={account.id}>
      <h3 id={headingId}>{account.displayName}</h3>
      {summary === undefined ? (
        <p class="small muted" data-testid="history-pending">
          {freshness.live ? 'Asking the relay what the archive holds…' : 'Not known yet: the relay has not been reachable since this account was added.'}
        </p>
      ) : (
        <>
          <div class="history-facts">
            <span data-testid="history-totals">{totalsLine(summary, running)}</span>
            {lastSuccessAt != null && <span data-testid="history-last-backup">{lastBackupText(lastSuccessAt, now, timeZone)}</span>}
            {!freshness.live && (
              <span class="muted" data-testid="history-as-of">
                Last known, {asOfText(historyAsOf(summary, freshness), now, timeZone)}
              </span>
            )}
          </div>
          {runs && runs.length > 0 && <HistoryChart runs={runs} name={account.displayName} timeZone={timeZone} idPrefix={headingId} />}
          {runs && runs.length === 0 && <p class="small muted">No backup runs yet. The first one runs by itself on the account's schedule, or start it with "Back up now" in the toolbar popup.</p>}
          {runs && runs.length > 0 && (
            <table class="history-table" data-testid="history-table">
              <caption>{`Backup runs of ${account.displayName}, newest first (${summary.totalRuns} in all): the chart's data`}</caption>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col" class="num">Took</th>
                  <th scope="col">Outcome</th>
                  <th scope="col" class="num">New messages</th>
                  <th scope="col" class="num">New data</th>
                  <th scope="col" class="num">Gone from server</th>
                  <th scope="col" class="num">Archive after</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={r.id} data-testid="history-run" data-status={r.status ?? 'interrupted'} data-key={r.key}>
                    <td class="small">
                      <time dateTime={new Date(r.startedAt).toISOString()}>{formatAbsolute(r.startedAt, timeZone)}</time>
                    </td>
                    <td class="num small">{r.finishedAt === null ? (r.status === 'running' || r.status === 'preparing' ? 'running' : '-') : formatDuration(r.finishedAt - r.startedAt)}</td>
                    <td class="small">
                      <span class={`history-outcome tone-${runSeverity(r.status)}`} data-testid="history-outcome">
                        {runOutcomeLabel(r.status)}
                      </span>
                      {r.errorCode && <span class="muted"> ({r.errorCode})</span>}
                    </td>
                    <td class="num small" data-testid="history-new">{r.newMessages}</td>
                    <td class="num small">{formatBytes(r.newBytes)}</td>
                    <td class="num small" data-testid="history-gone">{r.disappeared}</td>
                    <td class="num small">{`${r.archiveMessages} · ${formatBytes(r.archiveBytes)}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {runs && runs.length > HISTORY_LIMITS.tableRowsShown && (
            <p>
              <button onClick={() => setAll(!all)} aria-expanded={all} data-testid="history-show-all">
                {all ? `Show the newest ${HISTORY_LIMITS.tableRowsShown}` : `Show all ${runs.length} runs`}
              </button>
            </p>
          )}
        </>
      )}
    </section>
  );
}
