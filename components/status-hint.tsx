import type { JobRow } from '@/lib/storage/rows';
import { statusInfo } from '@/lib/status/catalog';
import { errorHint } from '@/lib/status/error-hints';
import { rowAdvice } from '@/lib/status/row-advice';
import { StatusActions } from './status-actions';
import { useFreshness } from '@/lib/ui/use-freshness';
import { RelativeTime } from './relative-time';
import { pacedForecast, pauseCondition } from '@/lib/status/pause-condition';
import { systemClock } from '@/lib/clock';
import { restoreCompletedHint } from '@/lib/status/restore-statuses';
import { useSavedDownload } from './status-actions';

/**
 * The job's hint (what to do), its last error in the product's words (what happened) and the
 * relay's raw message folded away under "Technical details", then the actions. Each piece of advice
 * once per row (lib/status/row-advice.ts): `conditionShown` when the row shows the specification's
 * condition beside it (the dashboard), `retryShown` when the row already says when the relay tries
 * again (the popup card's line), `lastSuccessAt` when the address is known to have worked.
 */
export function StatusHint({ job, conditionShown = false, retryShown = false, lastSuccessAt }: { job: JobRow; conditionShown?: boolean; retryShown?: boolean; lastSuccessAt?: number | null }) {
  const info = statusInfo(job.kind, job.status);
  // A download already saved in this browser (Chrome says so): "Click Download…" is not the next step.
  const saved = useSavedDownload(job);
  // While the relay is not reachable the hint belongs to the last known status, not to now.
  const { freshness, now, timeZone } = useFreshness();
  const advice = rowAdvice(
    {
      kind: job.kind,
      status: job.status,
      lastErrorCode: job.lastErrorCode,
      message: job.outcome?.message,
      lastSuccessAt: lastSuccessAt ?? job.lastSuccessAt,
      nextRetryAt: retryShown ? null : job.nextRetryAt,
      conditionShown,
      retryShown,
      pauseShown: !!job.outcome?.pause && job.lastErrorCode === 'PROVIDER_LIMIT_PAUSED',
      relayLive: freshness.live,
    },
    { now, timeZone },
  );
  return (
    <div class={`hint tone-${info.severity}${freshness.live ? '' : ' last-known'}`} data-testid="status-hint">
      {!freshness.live && (
        <div class="small muted" data-testid="hint-last-known">
          What the relay last reported:
        </div>
      )}
      {job.relayUnknownSince != null && (
        // The relay has no record of this run (its data dir was replaced): the status is its last
        // known one, with its age, and nothing runs until the user clicks "Start again".
        <div class="error-detail" data-testid="job-unknown-to-relay" data-since={job.relayUnknownSince}>
          {errorHint('JOB_UNKNOWN_TO_RELAY')} Last reported <RelativeTime at={job.updatedAt} />.
        </div>
      )}
      {/* Paused under a provider's limit: the condition says why and when it resumes (the relay's resume time). */}
      {job.outcome?.pause && job.lastErrorCode === 'PROVIDER_LIMIT_PAUSED' && (
        <div data-testid="pause-condition">
          {pauseCondition(job.outcome.pause, systemClock.timeZone(), systemClock.now())}
          {(() => {
            const f = pacedForecast(job.progress, job.outcome.pause, systemClock.now());
            return f ? <div class="small muted" data-testid="pause-forecast">{f.text}</div> : null;
          })()}
        </div>
      )}
      {/* The status's own hint speaks of a run the relay knows; this one it does not. */}
      {job.relayUnknownSince == null && advice.hint && !saved && <div data-testid="hint-text">{job.kind === 'restore' && job.status === 'completed' ? restoreCompletedHint(job.params, timeZone) : advice.hint}</div>}
      {advice.lastError && (
        <div class="error-detail" data-testid="error-hint">
          Last error: {advice.lastError}
        </div>
      )}
      {advice.technical && (
        // The relay's own words (and the server's reply in them): for a report, never the message.
        <details class="technical small muted" data-testid="technical-details">
          <summary>Technical details</summary>
          <span data-testid="technical-text">{advice.technical}</span>
        </details>
      )}
      <StatusActions job={job} />
    </div>
  );
}
