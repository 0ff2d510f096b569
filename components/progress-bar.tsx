import { useRef } from 'preact/hooks';
import type { JobProgress } from '@/lib/storage/rows';
import { systemClock, type Clock } from '@/lib/clock';
import { useFreshness } from '@/lib/ui/use-freshness';
import { addSample, progressView, type ProgressSample } from '@/lib/ui/progress-view';

/**
 * The bar of a running job: the fraction of the run's messages when the relay knows the total
 * (indeterminate and animated when it does not), messages and bytes, the folder being worked on,
 * and a time estimate once the observed rate earns one (lib/ui/progress-view.ts). A bar says
 * "moving now", so it is not shown while the relay is not reachable (the pill says "last known").
 */
export function ProgressBar({ progress, label = 'Progress', clock = systemClock }: { progress: JobProgress; label?: string; clock?: Clock }) {
  const samples = useRef<ProgressSample[]>([]);
  const { freshness } = useFreshness();
  if (!freshness.live) return null;
  const now = clock.now();
  samples.current = addSample(samples.current, { at: now, done: progress.messagesDone });
  const view = progressView(progress, samples.current, now);
  return (
    <div data-testid="progress" class="progress-wrap">
      <div
        class={`progress${view.percent === null ? ' indeterminate' : ''}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={view.percent ?? undefined}
        aria-valuetext={view.valueText}
        data-percent={view.percent ?? undefined}
      >
        <div class="progress-fill" style={{ width: view.percent === null ? undefined : `${view.percent}%` }} />
      </div>
      <div class="small muted progress-text">
        <span data-testid="progress-counts">
          {view.counts}
          {view.percent !== null ? ` · ${view.percent} %` : ''}
        </span>
        {progress.folder ? <span> · {progress.folder}</span> : null}
        {view.estimate && <span data-testid="progress-estimate"> · {view.estimate}</span>}
      </div>
      {view.forecast && (
        <div class="small muted" data-testid="progress-forecast">
          {view.forecast}
        </div>
      )}
    </div>
  );
}
