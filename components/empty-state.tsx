import { openPage } from '@/lib/ui/page-links';
import { nextActionOf, WELCOME_PAGE, type FirstRun } from '@/lib/ui/first-run-steps';
import { useFirstRun } from '@/lib/ui/use-first-run';
import type { JobKind } from '@/lib/protocol/status-ids';
import { KindIcon } from './icons';

/** Step 1 in a sentence for a small space; the Welcome page has the command and the details. */
const CONNECT_TEXT: Record<FirstRun['relay'], string> = {
  checking: 'Looking for the relay, the small program on this computer that runs the backups…',
  connected: '',
  'host-missing': 'The backups are run by the relay, a small program on this computer, which is not installed for this browser yet. The Welcome page shows the one command that installs it.',
  refused: 'The relay no longer accepts this browser: connect again.',
  'not-answering': 'The relay, the small program on this computer that runs the backups, does not answer yet. The Welcome page shows what to do.',
};

/** The next first-run step in words: the relay while it does not answer, then a mailbox. */
function nextOf(run: FirstRun): { action: 'connect-relay' | 'add-mailbox'; title: string; text: string; button: string } {
  return nextActionOf(run) === 'connect-relay'
    ? { action: 'connect-relay', title: 'Connect the relay first', text: CONNECT_TEXT[run.relay], button: 'Connect the relay' }
    : { action: 'add-mailbox', title: 'No mailbox yet', text: 'The relay is connected. Add the mailbox to back up: its first backup starts right away.', button: 'Add a mailbox' };
}

/**
 * The popup with no mailbox: what Mailkeep does, and the one next step in the first-run order
 * (lib/ui/first-run-steps.ts): "Connect the relay" until it answers, then "Add a mailbox". Both open
 * the Welcome page, which shows that step and then the first backup. Nothing until the store is read.
 */
export function EmptyState() {
  const run = useFirstRun();
  if (!run) return null;
  const next = nextOf(run);
  return (
    <div class="card" data-testid="empty-state" data-next={next.action}>
      <h2>{next.title}</h2>
      <p class="muted">Mailkeep backs up your webmail over IMAP and shows here whether it is safe.</p>
      <p>{next.text}</p>
      <button class="primary" data-action={next.action} onClick={() => void openPage(WELCOME_PAGE)}>
        {next.button}
      </button>
    </div>
  );
}

/** A dashboard tab while there is no mailbox: the same next step as the popup's. */
export function NoMailboxTab({ kind }: { kind: JobKind }) {
  const run = useFirstRun();
  if (!run) return null;
  const next = nextOf(run);
  return (
    <div class="empty" data-testid="no-jobs" data-reason="no-accounts" data-next={next.action}>
      <KindIcon kind={kind} />
      <h2>{next.title}</h2>
      <p>
        {next.action === 'connect-relay' ? next.text : 'Add a mailbox first: Mailkeep then backs it up by itself, and its jobs show here.'}
      </p>
      <button class="primary" onClick={() => void openPage(WELCOME_PAGE)}>{next.button}</button>
    </div>
  );
}
