import type { JobProgress } from '../protocol/common.ts';
import { formatBytes, formatMessages } from '../format.ts';
import { EXTENSION_LIMITS } from '../limits.ts';
import { budgetForecast } from '../status/forecast.ts';

/** One observation of a running job: when (the page's clock) and how far it was. */
export interface ProgressSample {
  at: number;
  done: number;
}

/** What a progress bar shows: a fraction when there is a total, the counts, and an estimate only when earned. */
export interface ProgressView {
  /** 0..100, or null: no total, the bar is indeterminate. */
  percent: number | null;
  /** "120 of 500 messages · 3.1 MB" */
  counts: string;
  /** "about 4 minutes left", or null while the rate is not known well enough (no estimate beats a wrong one). */
  estimate: string | null;
  /** The whole state in words, for aria-valuetext. */
  valueText: string;
  /** Under a provider's daily budget: "about 6 days at Gmail's daily limit; 3.1 GB of 15.2 GB so far", else null. */
  forecast: string | null;
}

type Progress = Pick<JobProgress, 'messagesDone' | 'messagesTotal' | 'bytes' | 'bytesTotal' | 'dailyBudgetBytes' | 'budgetName'>;

/** Keeps the samples of the recent rate window, plus the new one; a restart (fewer done) starts afresh. */
export function addSample(samples: readonly ProgressSample[], next: ProgressSample): ProgressSample[] {
  const last = samples.at(-1);
  if (last && (next.done < last.done || next.at < last.at)) return [next];
  if (last && last.done === next.done) return [...samples];
  const kept = samples.filter((s) => next.at - s.at <= EXTENSION_LIMITS.progressRateWindowMs);
  // Keep the oldest sample just outside the window too, so the window is always fully covered.
  const firstKept = samples.length - kept.length;
  const from = firstKept > 0 ? samples.slice(firstKept - 1) : kept;
  return [...from, next];
}

function estimateText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'less than a minute left';
  if (minutes === 1) return 'about a minute left';
  if (minutes < 90) return `about ${minutes} minutes left`;
  return `about ${Math.round(minutes / 60)} hours left`;
}

/**
 * The bar's state at `now`. The estimate needs a total and a run watched for at least
 * progressEstimateMinMs over progressEstimateMinMessages messages; the rate is the one observed
 * over the samples (from the page's injected clock), not a guess from sizes.
 */
export function progressView(p: Progress, samples: readonly ProgressSample[], now: number): ProgressView {
  const total = p.messagesTotal;
  // Bytes are the better fraction when known (issue 14): one large message is not one small one.
  const bytesTotal = p.bytesTotal ?? null;
  const percent = bytesTotal
    ? Math.min(100, Math.floor((p.bytes / bytesTotal) * 100))
    : total
      ? Math.min(100, Math.floor((p.messagesDone / total) * 100))
      : total === 0
        ? 100
        : null;
  const counts = `${formatMessages(p.messagesDone, total)} · ${bytesTotal ? `${formatBytes(p.bytes)} of ${formatBytes(bytesTotal)}` : formatBytes(p.bytes)}`;
  const forecast = budgetForecast({ bytesDone: p.bytes, bytesTotal, dailyBytes: p.dailyBudgetBytes ?? null, ...(p.budgetName ? { limitName: p.budgetName } : {}) }, now)?.text ?? null;
  let estimate: string | null = null;
  const first = samples[0];
  if (total !== null && first && p.messagesDone < total) {
    const span = now - first.at;
    const moved = p.messagesDone - first.done;
    if (span >= EXTENSION_LIMITS.progressEstimateMinMs && moved >= EXTENSION_LIMITS.progressEstimateMinMessages) {
      estimate = estimateText(((total - p.messagesDone) / moved) * span);
    }
  }
  const valueText = `${percent === null ? 'Working, total not known yet' : `${percent} %`}: ${counts}${estimate ? `, ${estimate}` : ''}`;
  return { percent, counts, estimate, valueText, forecast };
}

export { budgetForecast, type BudgetForecastInput } from '../status/forecast.ts';
