import type { AccountOverview } from '@/lib/storage/queries';
import { statusInfo } from '@/lib/status/catalog';
import { StatusPill } from './status-pill';
import { ProgressBar } from './progress-bar';
import { StatusHint } from './status-hint';
import { RelativeTime } from './relative-time';
import { JobLine } from './job-line';
import { PromptNotice } from './prompt-notice';

/** One account in the popup: its backup status first, then other jobs and open prompts. */
export function AccountCard({ overview }: { overview: AccountOverview }) {
  const { account, backup, otherJobs, prompts } = overview;
  const info = backup ? statusInfo('backup', backup.status) : null;
  return (
    <section class={`card card-${overview.worst}`} data-testid="account-card" data-account-id={account.id} data-status={backup?.status}>
      <div class="card-head">
        <h2>{account.displayName}</h2>
        {info && <StatusPill info={info} />}
      </div>
      {account.displayName !== account.email && <div class="small muted">{account.email}</div>}
      {backup && info?.severity === 'progress' && <ProgressBar progress={backup.progress} />}
      {backup?.lastSuccessAt != null && (
        <div class="small" data-testid="last-backup">
          Last backup: <RelativeTime at={backup.lastSuccessAt} />
        </div>
      )}
      {backup && <StatusHint job={backup} />}
      {otherJobs.map((job) => (
        <JobLine key={job.id} job={job} />
      ))}
      {prompts.map((prompt) => (
        <PromptNotice key={prompt.id} prompt={prompt} />
      ))}
    </section>
  );
}
