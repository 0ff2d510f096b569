import type { JobRow } from '@/lib/storage/rows';
import { statusInfo } from '@/lib/status/catalog';
import { errorHint } from '@/lib/status/error-hints';
import { StatusActions } from './status-actions';
import { useFreshness } from '@/lib/ui/use-freshness';
import { RelativeTime } from './relative-time';
import { pacedForecast, pauseCondition } from '@/lib/status/pause-condition';
import { systemClock } from '@/lib/clock';

/** The remediation hint of the job's status, the last error's own hint when there is one, and the actions. */
export function StatusHint({ job }: { job: JobRow }) {
  const info = statusInfo(job.kind, job.status);
  // While the relay is not reachable the hint belongs to the last known status, not to now.
  const { freshness } = useFreshness();
  const specific = (info.severity === 'warning' || info.severity === 'error') && job.lastErrorCode ? errorHint(job.lastErrorCode) : null;
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
      {job.relayUnknownSince == null && <div data-testid="hint-text">{info.hint}</div>}
      {(info.severity === 'warning' || info.severity === 'error') && job.outcome?.message && (
        <div class="error-detail" data-testid="outcome-message">
          {job.outcome.message}
        </div>
      )}
      {specific && (
        <div class="error-detail" data-testid="error-hint">
          Last error: {specific}
        </div>
      )}
      <StatusActions job={job} />
    </div>
  );
}
