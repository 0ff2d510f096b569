import { useRef, useState } from 'preact/hooks';
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
import { HistorySection } from './history-section';
import { KindIcon } from './icons';
import { PageHeader } from './page-header';
import { tabIndexForKey } from '@/lib/ui/tab-keys';
import { accountLabel } from '@/lib/account-label';

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
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const choose = (next: JobKind) => {
    setKind(next);
    setStatus('');
    history.replaceState(null, '', `#tab=${next}`);
  };
  // WAI-ARIA tabs: one tab in the Tab order (the selected one); arrows, Home and End move and select.
  const onTabKey = (event: KeyboardEvent) => {
    const next = tabIndexForKey(event.key, JOB_KINDS.indexOf(kind), JOB_KINDS.length);
    if (next === null) return;
    event.preventDefault();
    choose(JOB_KINDS[next]!);
    tabs.current[next]?.focus();
  };
  const clearFilters = () => {
    setAccountId('');
    setStatus('');
  };
  return (
    <main>
      <PageHeader current="dashboard" title="System Status" />
      <RelayLinkBanner />
      <div role="tablist" class="tabs" aria-label="Jobs by kind" onKeyDown={onTabKey}>
        {JOB_KINDS.map((k, i) => (
          <button
            role="tab"
            id={`tab-${k}`}
            aria-controls={k === kind ? `panel-${k}` : undefined}
            aria-selected={k === kind}
            tabIndex={k === kind ? 0 : -1}
            ref={(el) => {
              tabs.current[i] = el;
            }}
            class={k === kind ? 'selected' : ''}
            onClick={() => choose(k)}
          >
            <KindIcon kind={k} />
            {TAB_LABEL[k]}
          </button>
        ))}
      </div>
      <div class="tab-panel" role="tabpanel" id={`panel-${kind}`} aria-labelledby={`tab-${kind}`} data-testid="tab-panel">
      <div class="filters">
        <label>
          Account{' '}
          <select value={accountId} onChange={(e) => setAccountId(e.currentTarget.value)} data-testid="filter-account">
            <option value="">All accounts</option>
            {accounts.map((a) => (
              <option value={a.id}>{accountLabel(a)}</option>
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
      {jobs && (
        <StatusTable
          jobs={jobs}
          accounts={new Map(accounts.map((a) => [a.id, a]))}
          empty={{ kind, filtered: accountId !== '' || status !== '', hasAccounts: accounts.length > 0, clearFilters }}
        />
      )}
      {/* Backups are what the relay runs by itself; the other kinds are the user's rows above (the
          relay's history of those also holds previews, which are no job the user tracks). */}
      {kind === 'backup' && runs && <RunHistory runs={runs} accounts={new Map(accounts.map((a) => [a.id, a]))} />}
      {kind === 'backup' && <HistorySection accounts={accounts} accountId={accountId} />}
      </div>
    </main>
  );
}
