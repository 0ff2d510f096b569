import type { AccountRow } from '@/lib/storage/rows';
import { AccountHistory } from './account-history';

/** The dashboard's History: what each account's archive holds and its backup runs (the filtered account only, when one is chosen). */
export function HistorySection({ accounts, accountId }: { accounts: AccountRow[]; accountId: string }) {
  const shown = accountId ? accounts.filter((a) => a.id === accountId) : accounts;
  if (shown.length === 0) return null;
  return (
    <section aria-labelledby="history-heading" data-testid="history-section">
      <h2 id="history-heading">History: what is in each backup</h2>
      {shown.map((a) => (
        <AccountHistory key={a.id} account={a} />
      ))}
    </section>
  );
}
