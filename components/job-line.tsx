import type { JobRow } from '@/lib/storage/rows';
import { statusInfo } from '@/lib/status/catalog';
import { StatusPill } from './status-pill';
import { ProgressBar } from './progress-bar';
import { StatusHint } from './status-hint';
import { restoreScopeText } from '@/lib/ui/restore-plan-text';
import { useFreshness } from '@/lib/ui/use-freshness';
import { RelativeTime } from './relative-time';
import { KindIcon } from './icons';
import { retryTimeWords } from '@/lib/status/row-advice';

const KIND_WORD = { backup: 'Backup', download: 'Download', restore: 'Restore', migrate: 'Migrate' } as const;

/** A download, restore or migrate job on an account card. */
export function JobLine({ job }: { job: JobRow }) {
  const info = statusInfo(job.kind, job.status);
  const { freshness, now, timeZone } = useFreshness();
  const retryShown = info.autoRetry && job.nextRetryAt != null;
  return (
    <div class="job-line" data-testid="job-line" data-kind={job.kind} data-status={job.status} data-job-id={job.id}>
      <div class="card-head">
        <span class="kind">
          <KindIcon kind={job.kind} />
          {KIND_WORD[job.kind]}
          {job.kind === 'restore' && <span class="small muted" data-testid="job-scope"> · {restoreScopeText(job.params)}</span>}
        </span>
        <StatusPill info={info} />
      </div>
      {info.severity === 'progress' && <ProgressBar progress={job.progress} label={`${KIND_WORD[job.kind]} progress`} />}
      {job.kind === 'restore' && job.outcome?.counts?.restored !== undefined && (
        <div class="small" data-testid="job-outcome">
          {job.outcome.counts.restored} restored{job.outcome.counts.notRestored ? `, ${job.outcome.counts.notRestored} not restored` : ''}
        </div>
      )}
      {retryShown && job.nextRetryAt != null && (
        // The relay's own time (its retryAt, mirrored): it retries with the browser closed.
        <div class="small muted" data-testid="job-retry-at" data-at={job.nextRetryAt}>
          The relay tries again by itself{freshness.live ? '' : ' (as planned then)'}: <RelativeTime at={job.nextRetryAt} />
          {job.nextRetryAt > now ? ` (next try ${retryTimeWords(job.nextRetryAt, now, timeZone)})` : ''}
        </div>
      )}
      <StatusHint job={job} retryShown={retryShown} />
    </div>
  );
}
