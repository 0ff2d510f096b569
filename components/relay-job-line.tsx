import type { RelayOnlyJob } from '@/lib/storage/settings';
import { statusInfo } from '@/lib/status/catalog';
import { openPage } from '@/lib/ui/page-links';
import { StatusPill } from './status-pill';
import { ProgressBar } from './progress-bar';

const KIND_WORD = { backup: 'Backup', download: 'Download', restore: 'Restore', migrate: 'Migrate' } as const;

/** A migration or export started from its page, while it runs; its page and tab have the details. */
export function RelayJobLine({ job }: { job: RelayOnlyJob }) {
  const info = statusInfo(job.kind, job.status);
  const { folder, messagesDone, messagesTotal, bytes } = job.progress;
  return (
    <div class="job-line" data-testid="job-line" data-kind={job.kind} data-status={job.status} data-source="relay">
      <div class="card-head">
        <span>{KIND_WORD[job.kind]}</span>
        <StatusPill info={info} />
      </div>
      {info.severity === 'progress' && <ProgressBar progress={{ folder, messagesDone, messagesTotal, bytes }} />}
      <div class="small">
        <a href="#" data-action="details" onClick={(e) => { e.preventDefault(); void openPage(`/dashboard.html#tab=${job.kind}`); }}>Details</a>
      </div>
    </div>
  );
}
