import { getDb } from '@/lib/storage/db';
import { loadOverview, type AccountOverview } from '@/lib/storage/queries';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { openPage } from '@/lib/ui/page-links';
import { ARCHIVE_PAGE_PATH } from '@/lib/ui/archive-link';
import { AccountCard } from './account-card';
import { EmptyState } from './empty-state';
import { RelayLinkBanner } from './relay-link-banner';
import { Logo } from './icons';

const SUMMARY: { severity: AccountOverview['worst']; word: string }[] = [
  { severity: 'error', word: 'need you' },
  { severity: 'warning', word: 'with a warning' },
  { severity: 'progress', word: 'running' },
  { severity: 'ok', word: 'backed up' },
  { severity: 'info', word: 'other' },
];

/** One line before the cards: how many accounts are in each state, worst first (cards are sorted the same way). */
function Summary({ overview }: { overview: AccountOverview[] }) {
  if (overview.length < 2) return null;
  return (
    <div class="summary" data-testid="summary" aria-label="Accounts by state">
      {SUMMARY.map(({ severity, word }) => {
        const n = overview.filter((o) => o.worst === severity).length;
        return n === 0 ? null : (
          <span class={`pill tone-${severity}`} data-severity={severity}>
            {n} {word}
          </span>
        );
      })}
    </div>
  );
}

/** The toolbar view: one card per account, live from the store, the ones that need attention first. */
export function PopupApp() {
  const overview = useLiveQuery(() => loadOverview(getDb()));
  return (
    <main>
      <header class="popup-head">
        <div class="card-head">
          <div class="brand">
            <Logo />
            <h1>Mailkeep</h1>
          </div>
          <span class="actions">
            <button onClick={() => void openPage('/dashboard.html')}>System Status</button>
            {/* The archive to browse and search, once there is a mailbox to have one. */}
            {overview && overview.length > 0 && <button data-testid="popup-open-archive" onClick={() => void openPage(ARCHIVE_PAGE_PATH)}>Archive</button>}
            {/* With no mailbox the empty state below says the next step in order (the relay first). */}
            {overview && overview.length > 0 && <button onClick={() => void openPage('/options.html#new')}>Add a mailbox</button>}
          </span>
        </div>
        {overview && <Summary overview={overview} />}
      </header>
      <RelayLinkBanner />
      {overview === undefined ? null : overview.length === 0 ? (
        <EmptyState />
      ) : (
        overview.map((o) => <AccountCard key={o.account.id} overview={o} />)
      )}
    </main>
  );
}
