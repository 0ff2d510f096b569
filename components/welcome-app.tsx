import { useState } from 'preact/hooks';
import { useRelayLookup } from '@/lib/ui/use-relay-lookup';
import { useFirstRun } from '@/lib/ui/use-first-run';
import { INSTALL_COMMAND, INSTALL_WHERE, type FirstRun, type FirstRunStep } from '@/lib/ui/first-run-steps';
import { useFreshness } from '@/lib/ui/use-freshness';
import { AccountForm } from './account-form';
import { PageHeader } from './page-header';
import { ProgressBar } from './progress-bar';
import { StatusHint } from './status-hint';
import { StatusPill } from './status-pill';

const STATE_WORD: Record<FirstRunStep['state'], string> = {
  done: 'Done',
  current: 'To do now',
  locked: 'Not yet',
  problem: 'Needs you',
  waiting: 'Waiting for the relay',
};

function CopyCommand() {
  const [copied, setCopied] = useState<boolean | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(INSTALL_COMMAND);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="command-row">
      <code class="command" data-testid="install-command">{INSTALL_COMMAND}</code>
      <button type="button" onClick={() => void copy()} aria-label={`Copy the command ${INSTALL_COMMAND}`}>
        Copy
      </button>
      <span class="small muted">{INSTALL_WHERE}</span>
      <span role="status" class="small" data-testid="copy-result">
        {copied === true ? 'Copied.' : copied === false ? 'Could not copy: select the command and copy it by hand.' : ''}
      </span>
    </div>
  );
}

function RelayBody({ run }: { run: FirstRun }) {
  const { freshness } = useFreshness();
  if (run.relay === 'connected') {
    return <p class="small muted">{freshness.live && freshness.relayVersion ? `Relay ${freshness.relayVersion}` : 'Relay'}{freshness.live && freshness.via === 'native' ? ', found through the Mailkeep host: no code needed.' : ', paired with a code.'}</p>;
  }
  if (run.relay === 'checking' || run.relay === 'refused') {
    return run.relay === 'refused' ? <a class="button" href="/options.html">Connect again on the options page</a> : null;
  }
  return (
    <>
      <CopyCommand />
      <p class="small muted">
        Browsers that cannot start programs (Flatpak and Snap builds) cannot find the relay by themselves: start it with{' '}
        <code>npm start -- --foreground</code> and <a href="/options.html">pair with its code on the options page</a>.
      </p>
    </>
  );
}

function BackupBody({ run }: { run: FirstRun }) {
  const backup = run.backup;
  if (!backup) return null;
  if (backup.messages !== null) {
    return (
      <p>
        <a class="button primary" href="/dashboard.html" data-testid="open-dashboard">Open System Status</a>
      </p>
    );
  }
  const { job, info } = backup;
  if (!job || !info) return null;
  return (
    <div class="first-backup" data-testid="first-backup" data-status={job.status}>
      <StatusPill info={info} />
      {job.status === 'running' && <ProgressBar progress={job.progress} label={`First backup of ${backup.account.email}`} />}
      {run.steps[2].state === 'problem' && <StatusHint job={job} />}
    </div>
  );
}

function Step({ step, index, run }: { step: FirstRunStep; index: number; run: FirstRun }) {
  const current = run.current === step.id;
  return (
    <li class={`step step-${step.state}`} data-testid={`step-${step.id}`} data-state={step.state} aria-current={current ? 'step' : undefined}>
      <span class="step-mark" aria-hidden="true">{step.state === 'done' ? '✓' : step.state === 'problem' ? '!' : index + 1}</span>
      <div class="step-body">
        <h2 id={`step-${step.id}-title`}>
          {step.title} <span class="step-state small">({step.id === 'backup' && step.state === 'current' ? 'Under way' : STATE_WORD[step.state]})</span>
        </h2>
        <p data-testid={`step-${step.id}-text`} role={step.id === 'relay' || step.id === 'backup' ? 'status' : undefined}>
          {step.text}
        </p>
        {step.id === 'relay' && <RelayBody run={run} />}
        {step.id === 'mailbox' && step.state === 'current' && (
          <div class="card welcome-form">
            <AccountForm account={undefined} onSaved={() => undefined} />
          </div>
        )}
        {step.id === 'mailbox' && step.state === 'done' && (
          <p class="small">
            <a href="/options.html#new">Add another mailbox</a> or <a href="/options.html">change this one</a>
          </p>
        )}
        {step.id === 'backup' && <BackupBody run={run} />}
      </div>
    </li>
  );
}

/**
 * The Welcome page: opened once on install (and from every page's header), it leads a new user in
 * the one order that works: connect the relay, add a mailbox, watch the first backup. Every step's
 * state is the mirror's, live: nothing needs a reload, and reopening it shows the true current step.
 */
export function WelcomeApp() {
  const run = useFirstRun();
  useRelayLookup(run !== undefined && run.relay !== 'connected');
  return (
    <main class="welcome">
      <PageHeader current="welcome" title="Welcome to Mailkeep" />
      <p class="lead">
        Mailkeep keeps a copy of your mail on this computer. A small program, the relay, does the backups, also while the browser is closed. Three steps,
        in this order:
      </p>
      {run && (
        <ol class="steps" data-testid="first-run" data-current={run.current}>
          {run.steps.map((step, i) => (
            <Step key={step.id} step={step} index={i} run={run} />
          ))}
        </ol>
      )}
    </main>
  );
}
