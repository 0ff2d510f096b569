import { useEffect, useState } from 'preact/hooks';
import { getDb } from '@/lib/storage/db';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { listAccounts } from '@/lib/storage/queries';
import { sendMessage } from '@/lib/ui/send-message';
import { AccountForm } from './account-form';
import { RestorePromptSetting } from './restore-prompt-setting';
import { PairSection } from './pair-section';
import { RelayLinkBanner } from './relay-link-banner';
import { PageHeader } from './page-header';
import { accountLabel } from '@/lib/account-label';

function accountIdFromHash(): string | null {
  const match = /account=([^&]+)/.exec(location.hash);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

/** Options: the accounts and the form; "#account=ID" opens one account for editing. */
export function OptionsApp() {
  const [selected, setSelected] = useState<string | null>(accountIdFromHash);
  // Just saved: the live query may not have the new row yet; keep the form (and its "Saved.") meanwhile.
  const [justSaved, setJustSaved] = useState<string | null>(null);
  useEffect(() => {
    const onHash = () => setSelected(accountIdFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const db = getDb();
  const accounts = useLiveQuery(() => listAccounts(db));
  if (accounts === undefined) return null;
  const account = selected ? accounts.find((a) => a.id === selected) : undefined;
  const remove = async (id: string, name: string) => {
    if (!confirm(`Remove ${name} from Mailkeep? Its backup status and history disappear here; the archive on disk stays.`)) return;
    await sendMessage({ type: 'remove-account', accountId: id });
    if (selected === id) location.hash = '#new';
  };
  return (
    <main class="options">
      <PageHeader current="options" title="Mailkeep options" />
      <RelayLinkBanner onOptionsPage />
      <div class="columns">
        <section>
          <h2>Mailboxes</h2>
          <ul class="account-list" data-testid="account-list">
            {accounts.map((a) => (
              <li data-account-id={a.id} class={a.id === selected ? 'selected' : ''}>
                <a href={`#account=${encodeURIComponent(a.id)}`}>{accountLabel(a)}</a>
                <span class="small muted"> {a.host}:{a.port}</span>{' '}
                <button class="small" onClick={() => void remove(a.id, a.displayName)}>Remove</button>
              </li>
            ))}
          </ul>
          {accounts.length === 0 && (
            <p class="small muted" data-testid="no-accounts">No mailbox yet: add one with the form; the relay backs it up by itself from then on.</p>
          )}
          <a class="button" href="#new">Add a mailbox</a>
          <RestorePromptSetting />
          <PairSection />
        </section>
        <section class="card">
          {selected && !account && selected !== justSaved ? (
            <p data-testid="unknown-account">This account does not exist (any more). <a href="#new">Add a mailbox</a></p>
          ) : (
            <AccountForm
              account={account}
              onSaved={(id) => {
                setJustSaved(id);
                location.hash = `#account=${encodeURIComponent(id)}`;
              }}
            />
          )}
        </section>
      </div>
    </main>
  );
}
