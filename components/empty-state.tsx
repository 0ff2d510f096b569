import { openPage } from '@/lib/ui/page-links';

/** First run: say what Mailkeep does and lead to the one thing to do. */
export function EmptyState() {
  return (
    <div class="card" data-testid="empty-state">
      <h2>No mailbox yet</h2>
      <p class="muted">Mailkeep backs up your webmail over IMAP and shows here whether it is safe.</p>
      <button class="primary" data-action="add-mailbox" onClick={() => void openPage('/options.html#new')}>
        Add a mailbox
      </button>
    </div>
  );
}
