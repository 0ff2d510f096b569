import { useState } from 'preact/hooks';
import type { RestorePlan } from '@/lib/background/restore-plan';
import type { RestoreParams } from '@/lib/protocol/restore-params';
import type { AccountRow } from '@/lib/storage/rows';
import { errorHint } from '@/lib/status/error-hints';
import { sendMessage } from '@/lib/ui/send-message';
import { restorePlanText } from '@/lib/ui/restore-plan-text';
import { formatDay } from '@/lib/format';
import { systemClock, type Clock } from '@/lib/clock';
import { accountLabel } from '@/lib/account-label';
import type { LabelMode } from '@/lib/protocol/restore-params';
import { LabelModeChoice } from './label-mode-choice';

type Step = { at: 'choose' } | { at: 'planning' } | { at: 'confirm'; plan: RestorePlan; params: RestoreParams } | { at: 'queued'; jobId: string };

/**
 * The Restore tab's "Restore mail…": an account, optionally one folder, optionally into a new
 * folder; Preview asks the relay for a dry run and shows its counts; only Restore N queues the job
 * (listed below, driven by the service worker). Nothing on the server is deleted or duplicated.
 * The suggested new folder is named after today in the user's zone, not UTC's.
 */
export function RestoreStarter({ accounts, clock = systemClock }: { accounts: AccountRow[]; clock?: Clock }) {
  const [accountId, setAccountId] = useState('');
  const [folder, setFolder] = useState('');
  const [intoNew, setIntoNew] = useState(false);
  const [into, setInto] = useState(() => `Restored ${formatDay(clock.now(), clock.timeZone())}`);
  const [step, setStep] = useState<Step>({ at: 'choose' });
  const [problem, setProblem] = useState<string | null>(null);
  // Another label choice: the shown plan stays (its choice keeps focus) until the new counts come.
  const [replanning, setReplanning] = useState(false);
  const reset = () => setStep({ at: 'choose' });
  const preview = async (labels?: LabelMode) => {
    const params: RestoreParams = { ...(folder.trim() ? { folder: folder.trim() } : {}), ...(intoNew && into.trim() ? { into: into.trim() } : {}), ...(labels ? { labels } : {}) };
    setProblem(null);
    if (labels) setReplanning(true);
    else setStep({ at: 'planning' });
    const reply = await sendMessage<RestorePlan>({ type: 'plan-restore', accountId, params }).finally(() => setReplanning(false));
    if (!reply.ok) {
      setProblem(errorHint(reply.code) ?? reply.message);
      return reset();
    }
    setStep({ at: 'confirm', plan: reply.value, params });
  };
  const start = async (params: RestoreParams) => {
    const reply = await sendMessage<string>({ type: 'start-job', job: { kind: 'restore', accountId, params } });
    if (!reply.ok) {
      setProblem(errorHint(reply.code) ?? reply.message);
      return reset();
    }
    setStep({ at: 'queued', jobId: reply.value });
  };
  return (
    <section class="restore-starter" data-testid="restore-starter">
      <h2>Restore mail</h2>
      <p class="muted small">Puts archived mail back into the account, each message into the folder it was last seen in. Messages already there are never copied twice; nothing is deleted.</p>
      <div class="filters">
        <label>
          Account{' '}
          <select data-testid="restore-account" value={accountId} onChange={(e) => { setAccountId(e.currentTarget.value); reset(); }}>
            <option value="">Choose…</option>
            {accounts.map((a) => <option value={a.id}>{accountLabel(a)}</option>)}
          </select>
        </label>
        <label>
          Only the folder{' '}
          <input data-testid="restore-folder" placeholder="all folders" value={folder} onInput={(e) => { setFolder(e.currentTarget.value); reset(); }} />
        </label>
        <label>
          <input type="checkbox" data-testid="restore-into-new" checked={intoNew} onChange={(e) => { setIntoNew(e.currentTarget.checked); reset(); }} /> into a new folder
        </label>
        {intoNew && <input data-testid="restore-into" value={into} onInput={(e) => { setInto(e.currentTarget.value); reset(); }} />}
        <button data-testid="restore-preview" disabled={!accountId || step.at === 'planning'} onClick={() => void preview()}>
          {step.at === 'planning' ? 'Checking…' : 'Preview'}
        </button>
      </div>
      {problem && <p class="error-text" role="alert" data-testid="restore-problem">{problem}</p>}
      {step.at === 'confirm' && (
        <div class="actions" data-testid="restore-starter-plan" data-to-append={step.plan.toAppend}>
          <span aria-live="polite">{restorePlanText(step.plan)}</span>
          <LabelModeChoice plan={step.plan} busy={replanning} onChange={(mode) => void preview(mode)} />
          <button class="primary" data-testid="restore-confirm" disabled={step.plan.toAppend === 0} onClick={() => void start(step.params)}>
            {step.plan.toAppend === 0 ? 'Nothing to restore' : `Restore ${step.plan.toAppend}`}
          </button>
          <button onClick={reset}>Cancel</button>
        </div>
      )}
      {step.at === 'queued' && <p class="small" role="status" data-testid="restore-queued" data-job-id={step.jobId}>Queued: follow it in the list below and in the toolbar popup.</p>}
    </section>
  );
}
