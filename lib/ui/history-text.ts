import type { HistoryRun } from '../protocol/account-history.ts';
import { statusInfo } from '../status/catalog.ts';

/**
 * Words for a backup run, shared by the dashboard's history table and `mailkeep status ACCOUNT`,
 * so both say the same thing about the same run. Platform-free.
 */

/** "0.8 s", "3 min 5 s", "1 h 2 min": how long a run took. */
export function formatDuration(ms: number): string {
  if (ms < 0) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** How long the run took, or null while it runs (or was never finished). */
export function runDurationMs(run: Pick<HistoryRun, 'startedAt' | 'finishedAt'>): number | null {
  return run.finishedAt === null ? null : Date.parse(run.finishedAt) - Date.parse(run.startedAt);
}

/** The spec's name of the run's status; a run a stopped relay never finished has none of its own. */
export function runOutcomeLabel(status: HistoryRun['status']): string {
  return status === null ? 'Interrupted' : statusInfo('backup', status).label;
}

/** The run's severity, for its colour (the spec's status colours); an interrupted run is a warning. */
export function runSeverity(status: HistoryRun['status']): 'ok' | 'progress' | 'warning' | 'error' | 'info' {
  return status === null ? 'warning' : statusInfo('backup', status).severity;
}


/**
 * When the relay last confirmed an account's history, for its "Last known, as of ..." line: the
 * relay link's last sync (the banner's "as of") when the mirrored history was still in step with
 * the relay's state then (it is fetched again only when that state changes), else when it was
 * fetched. So the banner, the History and the status rows name the same moment for the same sync.
 */
export function historyAsOf(summary: { fetchedAt: number; behind?: true | undefined }, link: { live: true } | { live: false; asOf: number | null }): number {
  // The link's shape is relay-freshness.ts's Freshness, written out: this file is shared with the relay's CLI (no Dexie there).
  if (summary.behind || link.live || link.asOf === null) return summary.fetchedAt;
  return Math.max(summary.fetchedAt, link.asOf);
}
