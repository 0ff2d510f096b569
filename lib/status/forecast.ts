import { formatBytes } from '../format.ts';

/** What the forecast needs: the run's bytes so far and in all, and the daily budget it runs under. */
export interface BudgetForecastInput {
  bytesDone: number;
  bytesTotal: number | null | undefined;
  /** Bytes per rolling 24 h, or null (no budget: no forecast). */
  dailyBytes: number | null | undefined;
  /** Bytes the budget still allows in the current window (default: a whole day's). */
  leftToday?: number;
  /** "Gmail's daily download limit" */
  limitName?: string;
  /** When transfers can go on (a paused run's resume time); default now. */
  startAt?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * When a paced download will be done: what fits in today's budget goes now, the rest one budget
 * per day as the window refills (transfers take minutes, the wait between them a day, so the days
 * are what counts). Null when there is no budget or no total.
 */
export function budgetForecast(f: BudgetForecastInput, now: number): { doneAt: number; days: number; text: string } | null {
  if (!f.dailyBytes || f.bytesTotal === null || f.bytesTotal === undefined) return null;
  const remaining = Math.max(0, f.bytesTotal - f.bytesDone);
  const left = Math.max(0, Math.min(f.leftToday ?? f.dailyBytes, f.dailyBytes));
  const start = Math.max(now, f.startAt ?? now);
  const doneAt = start + (remaining <= left ? 0 : Math.ceil((remaining - left) / f.dailyBytes)) * DAY_MS;
  // Counted from now, as the reader counts: a paused run's wait for its resume is part of it.
  const days = doneAt <= now ? 0 : Math.max(1, Math.round((doneAt - now) / DAY_MS));
  const name = (f.limitName ?? 'the daily limit').replace(/ (download|upload) limit$/, ' limit');
  const text =
    doneAt - now < DAY_MS / 2
      ? `done within ${name} today`
      : `about ${days} ${days === 1 ? 'day' : 'days'} at ${name}; ${formatBytes(f.bytesDone)} of ${formatBytes(f.bytesTotal)} so far`;
  return { doneAt, days, text };
}
