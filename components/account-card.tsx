import type { AccountOverview } from '@/lib/storage/queries';
import { statusInfo } from '@/lib/status/catalog';
import { StatusPill } from './status-pill';
import { ProgressBar } from './progress-bar';
import { StatusHint } from './status-hint';
import { RelativeTime } from './relative-time';
import { JobLine } from './job-line';
import { PromptNotice } from './prompt-notice';
import { getDb } from '@/lib/storage/db';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { archiveTotalsText, lastBackupText } from '@/lib/ui/archive-text';
import { formatAbsolute } from '@/lib/format';
import { useFreshness } from '@/lib/ui/use-freshness';
import { sendMessage } from '@/lib/ui/send-message';
import { retryTimeWords } from '@/lib/status/row-advice';

/** One account in the popup: its backup status first, then other jobs and open prompts. */
export function AccountCard({ overview }: { overview: AccountOverview }) {
  const { account, backup, otherJobs, prompts } = overview;
  const info = backup ? statusInfo('backup', backup.status) : null;
  // The relay's word (AccountState.lastSuccessAt) when it has given one; else the row's.
  const lastSuccessAt = account.relay?.lastSuccessAt ?? backup?.lastSuccessAt ?? null;
  // Paused under a provider's limit: the pause condition (StatusHint) says when it resumes, once.
  const paused = backup?.status === 'retrying' && backup.lastErrorCode === 'PROVIDER_LIMIT_PAUSED' && !!backup.outcome?.pause;
  const { freshness, now, timeZone } = useFreshness();
  // Folders come with the mirrored history (account.history); messages and size with every account change.
  const summary = useLiveQuery(() => getDb().archiveSummaries.get(account.id), [account.id]);
  const archive = account.relay?.archive;
  const totals = archive && (archive.messages > 0 || lastSuccessAt != null) ? archiveTotalsText({ ...archive, folders: summary?.hasArchive ? summary.folders : null }) : null;
  return (
    <section class={`card card-${overview.worst}`} data-testid="account-card" data-account-id={account.id} data-status={backup?.status}>
      <div class="card-head">
        <h2 title={account.displayName}>{account.displayName}</h2>
        {info && <StatusPill info={info} />}
      </div>
      {account.displayName !== account.email && <div class="small muted">{account.email}</div>}
      {backup && info?.severity === 'progress' && <ProgressBar progress={backup.progress} label={`Backup of ${account.displayName}`} />}
      {lastSuccessAt != null ? (
        <div class="small" data-testid="last-backup" data-at={lastSuccessAt}>
          <time dateTime={new Date(lastSuccessAt).toISOString()} title={formatAbsolute(lastSuccessAt, timeZone)} data-testid="relative-time">
            {lastBackupText(lastSuccessAt, now, timeZone)}
          </time>
          {totals && <span data-testid="archive-totals"> · {totals}</span>}
        </div>
      ) : (
        totals && (
          <div class="small" data-testid="archive-totals">
            In the archive: {totals}
          </div>
        )
      )}
      {!backup && account.relay && (
        <div class="small muted actions" data-testid="no-backup-yet">
          Not backed up yet.{' '}
          <button data-action="backup-now" onClick={() => void sendMessage({ type: 'backup-now', accountId: account.id })}>
            Back up now
          </button>
        </div>
      )}
      {account.relay?.retryAt != null && !paused && (
        <div class="small muted" data-testid="retry-at" data-at={account.relay.retryAt}>
          The relay tries again by itself{freshness.live ? '' : ' (as planned then)'}: <RelativeTime at={account.relay.retryAt} />
          {account.relay.retryAt > now ? ` (next try ${retryTimeWords(account.relay.retryAt, now, timeZone)})` : ''}
        </div>
      )}
      {account.relay?.nextRunAt != null && account.schedule.kind !== 'off' && !paused && (
        <div class="small muted" data-testid="next-run" data-at={account.relay.nextRunAt}>
          Next backup{freshness.live ? '' : ' (as planned then)'}: <RelativeTime at={account.relay.nextRunAt} />
        </div>
      )}
      {backup && <StatusHint job={backup} retryShown={account.relay?.retryAt != null} lastSuccessAt={lastSuccessAt} />}
      {otherJobs.map((job) => (
        <JobLine key={job.id} job={job} />
      ))}
      {prompts.map((prompt) => (
        <PromptNotice key={prompt.id} prompt={prompt} />
      ))}
    </section>
  );
}
