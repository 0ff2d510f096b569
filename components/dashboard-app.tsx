import { useState } from 'preact/hooks';
import { getDb } from '@/lib/storage/db';
import { listAccounts, listJobs, listRuns } from '@/lib/storage/queries';
import { JOB_KINDS, statusInfo, statusesOf } from '@/lib/status/catalog';
import type { JobKind } from '@/lib/protocol/status-ids';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { DownloadPanel } from './download-panel';
import { StatusTable } from './status-table';
import { RestoreStarter } from './restore-starter';
import { RelayLinkBanner } from './relay-link-banner';
import { RunHistory } from './run-history';

const TAB_LABEL: Record<JobKind, string> = { backup: 'Backup', download: 'Download', restore: 'Restore', migrate: 'Migrate' };

function initialTab(): JobKind {
  const tab = /tab=(\w+)/.exec(location.hash)?.[1];
  return (JOB_KINDS as readonly string[]).includes(tab ?? '') ? (tab as JobKind) : 'backup';
}

/** "System Status": a tab per job kind, filterable by account and status, newest first. */
export function DashboardApp() {
  const [kind, setKind] = useState<JobKind>(initialTab);
  const [accountId, setAccountId] = useState('');
  const [status, setStatus] = useState('');
  const db = getDb();
  const accounts = useLiveQuery(() => listAccounts(db)) ?? [];
  const jobs = useLiveQuery(() => listJobs(db, kind, { accountId, status }), [kind, accountId, status]);
  const runs = useLiveQuery(() => listRuns(db, kind, accountId || undefined), [kind, accountId]);
  const choose = (next: JobKind) => {
    setKind(next);
    setStatus('');
    history.replaceState(null, '', `#tab=${next}`);
  };
  return (
    <main>
      <h1>System Status</h1>
      <RelayLinkBanner />
      <nav role="tablist" class="tabs">
        {JOB_KINDS.map((k) => (
          <button role="tab" aria-selected={k === kind} class={k === kind ? 'selected' : ''} onClick={() => choose(k)}>
            {TAB_LABEL[k]}
          </button>
        ))}
      </nav>
      <div class="filters" role="tabpanel" aria-label={TAB_LABEL[kind]}>
        <label>
          Account{' '}
          <select value={accountId} onChange={(e) => setAccountId(e.currentTarget.value)} data-testid="filter-account">
            <option value="">All accounts</option>
            {accounts.map((a) => (
              <option value={a.id}>{a.displayName}</option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)} data-testid="filter-status">
            <option value="">All statuses</option>
            {statusesOf(kind).map((s) => (
              <option value={s}>{statusInfo(kind, s).label}</option>
            ))}
          </select>
        </label>
      </div>
      {kind === 'download' && <DownloadPanel accounts={accounts} />}
      {kind === 'restore' && <RestoreStarter accounts={accounts} />}
      {kind === 'migrate' && (
        <p>
          <a href="/migrate.html" data-testid="open-migrate">Migrate a mailbox…</a> <span class="muted small">(choose two accounts, preview, confirm)</span>
        </p>
      )}
      {jobs && <StatusTable jobs={jobs} accounts={new Map(accounts.map((a) => [a.id, a]))} />}
      {/* Backups are what the relay runs by itself; the other kinds are the user's rows above (the
          relay's history of those also holds previews, which are no job the user tracks). */}
      {kind === 'backup' && runs && <RunHistory runs={runs} accounts={new Map(accounts.map((a) => [a.id, a]))} />}
    </main>
  );
}
