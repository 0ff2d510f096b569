import { useEffect, useState } from 'preact/hooks';
import type { ImapAccount, JobSnapshot } from '@/lib/protocol/common';
import { statusInfo } from '@/lib/status/catalog';
import { errorHint } from '@/lib/status/error-hints';
import { useRelay } from '@/lib/ui/use-relay';
import { ProgressBar } from './progress-bar';
import { StatusPill } from './status-pill';

/** While a migration runs its bar moves every second; at rest the list is read twice a minute. */
const ACTIVE_REFRESH_MS = 1_000;
const IDLE_REFRESH_MS = 30_000;

/**
 * The dashboard's Migrate tab: the relay's migrations (not the previews), newest first, each with
 * its status, progress while it runs, counts and the status's hint (for Authentication Error, which
 * side's password to fix).
 */
export function MigrateJobs() {
  const { relay } = useRelay('mailkeep-migrate-jobs');
  const [jobs, setJobs] = useState<JobSnapshot[]>([]);
  const [accounts, setAccounts] = useState<ImapAccount[]>([]);
  useEffect(() => {
    if (!relay) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const tick = async (): Promise<void> => {
      let active = false;
      try {
        const [a, j] = await Promise.all([relay.call('account.list', {}), relay.call('job.list', { limit: 100 })]);
        // Previews (dry runs) are part of the form, not migrations: newJobKey marks them.
        const list = j.jobs.filter((x) => x.kind === 'migrate' && !x.idempotencyKey.includes('-preview-'));
        setAccounts(a.accounts.map((x) => x.account));
        setJobs(list);
        active = list.some((x) => x.phase === 'active' || x.phase === 'queued');
      } catch {
        /* the relay went away: the banner elsewhere says so; try again later */
      }
      if (!stopped) timer = setTimeout(() => void tick(), active ? ACTIVE_REFRESH_MS : IDLE_REFRESH_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [relay]);
  if (!jobs.length) return null;
  const name = (id: string): string => {
    const a = accounts.find((x) => x.id === id);
    return a ? `${a.user} (${a.host})` : id;
  };
  return (
    <table class="status-table" data-testid="migrate-jobs">
      <thead>
        <tr><th>From</th><th>Status</th><th>Progress</th><th>What to do</th></tr>
      </thead>
      <tbody>
        {jobs.map((j) => {
          const info = statusInfo('migrate', j.status);
          const c = j.outcome?.counts;
          return (
            <tr data-testid="migrate-job" data-status={j.status}>
              <td>{name(j.accountId)}</td>
              <td><StatusPill info={info} /></td>
              <td class="small">
                {j.phase === 'active' ? <ProgressBar progress={j.progress} /> : c ? `${c.migrated ?? 0} copied, ${c.notMigrated ?? 0} not copied, ${c.alreadyPresent ?? 0} already there` : ''}
              </td>
              <td>
                <div class={`hint tone-${info.severity}`}>
                  {info.hint}
                  {j.outcome?.message && <div class="error-detail">{j.outcome.message}</div>}
                  {j.errorCode && errorHint(j.errorCode) && <div class="error-detail">Last error: {errorHint(j.errorCode)}</div>}
                </div>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
