import { getDb } from '@/lib/storage/db';
import { loadOverview } from '@/lib/storage/queries';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { openPage } from '@/lib/ui/page-links';
import { AccountCard } from './account-card';
import { EmptyState } from './empty-state';
import { RelayLinkBanner } from './relay-link-banner';

/** The toolbar view: one card per account, live from the store. */
export function PopupApp() {
  const overview = useLiveQuery(() => loadOverview(getDb()));
  return (
    <main>
      <header class="card-head">
        <h1>Mailkeep</h1>
        <span class="actions" style={{ marginTop: 0 }}>
          <button onClick={() => void openPage('/dashboard.html')}>System Status</button>
          <button onClick={() => void openPage('/options.html#new')}>Add a mailbox</button>
        </span>
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
