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
import type { JobKind } from '@/lib/protocol/status-ids';
import { KindIcon } from './icons';
import { openPage } from '@/lib/ui/page-links';
import { accountLabel } from '@/lib/account-label';
import { NoMailboxTab } from './empty-state';

/** What an empty tab says: what would be here, and the one thing to do to get it. */
export interface EmptyTab {
  kind: JobKind;
  filtered: boolean;
  hasAccounts: boolean;
  clearFilters: () => void;
}

const EMPTY_TEXT: Record<JobKind, { title: string; text: string }> = {
  backup: {
    title: 'No backups yet',
    text: 'The relay backs up each mailbox by itself on its schedule, also while the browser is closed. A new mailbox gets its first backup right after it is saved.',
  },
  download: {
    title: 'No downloads yet',
    text: 'Choose an account above to save its archive as a file in your downloads folder.',
  },
  restore: {
    title: 'Nothing restored yet',
    text: 'Choose an account above to put archived mail back on its server; a preview shows what would be added before anything is written.',
  },
  migrate: {
    title: 'No migrations yet',
    text: 'Open "Migrate a mailbox" above to copy a mailbox to another server: choose two accounts, preview, then confirm.',
  },
};

function EmptyTabView({ empty }: { empty: EmptyTab }) {
  if (empty.filtered) {
    return (
      <div class="empty" data-testid="no-jobs" data-reason="filtered">
        <KindIcon kind={empty.kind} />
        <h2>No {empty.kind} jobs match these filters</h2>
        <p>Other accounts or statuses may have some.</p>
        <button onClick={empty.clearFilters}>Show all</button>
      </div>
    );
  }
  // No mailbox: the next first-run step (the relay first), as in the popup.
  if (!empty.hasAccounts) return <NoMailboxTab kind={empty.kind} />;
  const { title, text } = EMPTY_TEXT[empty.kind];
  return (
    <div class="empty" data-testid="no-jobs" data-reason="none">
      <KindIcon kind={empty.kind} />
      <h2>{title}</h2>
      <p>{text}</p>
    </div>
  );
}

/** A finished restore's counts, e.g. ": 3 restored". */
function outcomeText(job: JobRow): string {
  const result = jobResultOf(job);
  const c = result?.kind === 'restore' ? result.outcome.counts : undefined;
  if (!c) return '';
  return `: ${c.restored} restored${c.notRestored ? `, ${c.notRestored} not restored` : ''}`;
}

/** One "System Status" tab: Status Name and Condition as in the specification, then hint and actions. */
export function StatusTable({ jobs, accounts, empty }: { jobs: JobRow[]; accounts: Map<string, AccountRow>; empty: EmptyTab }) {
  const nameOf = (id: string): string => { const a = accounts.get(id); return a ? accountLabel(a) : 'a removed account'; };
  if (jobs.length === 0) return <EmptyTabView empty={empty} />;
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
              <td>{accounts.has(job.accountId) ? nameOf(job.accountId) : 'Removed account'}</td>
              <td>
                <StatusPill info={info} />
                {info.severity === 'progress' && <ProgressBar progress={job.progress} label={`${job.kind} of ${nameOf(job.accountId)}`} />}
                {job.kind === 'restore' && <div class="small muted" data-testid="job-scope">{restoreScopeText(job.params)}{outcomeText(job)}</div>}
                {job.kind === 'migrate' && <div class="small muted" data-testid="job-scope">{migrateDetailText(job, nameOf)}</div>}
                {job.kind === 'download' && <div class="small muted" data-testid="job-scope">{downloadDetailText(job, systemClock.timeZone())}</div>}
              </td>
              <td data-testid="condition">{info.condition}</td>
              <td>
                <StatusHint job={job} conditionShown />
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
