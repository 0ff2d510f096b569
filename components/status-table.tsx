import type { AccountRow, JobRow } from '@/lib/storage/rows';
import { statusInfo } from '@/lib/status/catalog';
import { StatusPill } from './status-pill';
import { StatusHint } from './status-hint';
import { ProgressBar } from './progress-bar';
import { RelativeTime } from './relative-time';
import { restoreScopeText } from '@/lib/ui/restore-plan-text';
import { downloadDetailText, migrateDetailText } from '@/lib/ui/job-detail-text';
import { systemClock } from '@/lib/clock';
import { jobResultOf } from '@/lib/protocol/job-kinds';

/** A finished restore's counts, e.g. ": 3 restored". */
function outcomeText(job: JobRow): string {
  const result = jobResultOf(job);
  const c = result?.kind === 'restore' ? result.outcome.counts : undefined;
  if (!c) return '';
  return `: ${c.restored} restored${c.notRestored ? `, ${c.notRestored} not restored` : ''}`;
}

/** One "System Status" tab: Status Name and Condition as in the specification, then hint and actions. */
export function StatusTable({ jobs, accounts }: { jobs: JobRow[]; accounts: Map<string, AccountRow> }) {
  const nameOf = (id: string): string => accounts.get(id)?.displayName ?? 'a removed account';
  if (jobs.length === 0) return <p class="muted" data-testid="no-jobs">No jobs match.</p>;
  return (
    <table class="status-table">
      <thead>
        <tr>
          <th>Account</th>
          <th>Status Name</th>
          <th>Condition</th>
          <th>What to do</th>
          <th>Updated</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((job) => {
          const info = statusInfo(job.kind, job.status);
          return (
            <tr key={job.id} data-testid="job-row" data-status={job.status} data-job-id={job.id}>
              <td>{accounts.get(job.accountId)?.displayName ?? 'Removed account'}</td>
              <td>
                <StatusPill info={info} />
                {info.severity === 'progress' && <ProgressBar progress={job.progress} />}
                {job.kind === 'restore' && <div class="small muted" data-testid="job-scope">{restoreScopeText(job.params)}{outcomeText(job)}</div>}
                {job.kind === 'migrate' && <div class="small muted" data-testid="job-scope">{migrateDetailText(job, nameOf)}</div>}
                {job.kind === 'download' && <div class="small muted" data-testid="job-scope">{downloadDetailText(job, systemClock.timeZone())}</div>}
              </td>
              <td data-testid="condition">{info.condition}</td>
              <td>
                <StatusHint job={job} />
              </td>
              <td class="small">
                <RelativeTime at={job.updatedAt} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
