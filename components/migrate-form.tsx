import { useEffect, useState } from 'preact/hooks';
import { newJobKey, runRelayJob } from '@/lib/migrate/run-relay-job';
import type { ImapAccount, JobSnapshot } from '@/lib/protocol/common';
import { errorCodeOf } from '@/lib/protocol/error-codes';
import type { MigratePlanView } from '@/lib/protocol/job-outcome';
import { statusInfo } from '@/lib/status/catalog';
import { errorHint } from '@/lib/status/error-hints';
import { formatBytes } from '@/lib/ui/format';
import { useRelay } from '@/lib/ui/use-relay';
import { ProgressBar } from './progress-bar';
import { StatusPill } from './status-pill';

/** A preview must come back within minutes (it reads both servers, copies nothing). */
const PREVIEW_DEADLINE_MS = 10 * 60_000;
/** A migration of a large mailbox takes hours; past this the page stops waiting (the job goes on). */
const RUN_DEADLINE_MS = 24 * 60 * 60_000;

type Stage =
  | { step: 'choose' }
  | { step: 'previewing'; job: JobSnapshot | null }
  | { step: 'preview'; job: JobSnapshot; plan: MigratePlanView }
  | { step: 'running'; job: JobSnapshot | null }
  | { step: 'done'; job: JobSnapshot };

const label = (a: ImapAccount): string => `${a.user} (${a.host})`;

/**
 * Migrate: choose the source and destination accounts (both stored on the relay with their
 * passwords), preview the folder mapping and counts from a dry run, then confirm. Nothing is
 * written before the confirmation (design.md I6); the source is only read.
 */
export function MigrateForm() {
  const { relay, problem: relayProblem } = useRelay('mailkeep-migrate-page');
  const [accounts, setAccounts] = useState<{ account: ImapAccount; hasPassword: boolean }[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [source, setSource] = useState('');
  const [destination, setDestination] = useState('');
  const [stage, setStage] = useState<Stage>({ step: 'choose' });

  useEffect(() => {
    if (!relay) return;
    relay.call('account.list', {}).then((r) => setAccounts(r.accounts), (err: unknown) => setProblem(`${errorHint(errorCodeOf(err)) ?? 'The relay cannot be reached.'} (${errorCodeOf(err)})`));
  }, [relay]);

  const run = async (dryRun: boolean): Promise<void> => {
    if (!relay) return;
    setProblem(null);
    setStage(dryRun ? { step: 'previewing', job: null } : { step: 'running', job: null });
    try {
      const job = await runRelayJob(relay, {
        kind: 'migrate',
        accountId: source,
        idempotencyKey: newJobKey('migrate', source, destination, dryRun),
        params: { destinationAccountId: destination, ...(dryRun ? { dryRun: true } : {}) },
        deadlineMs: dryRun ? PREVIEW_DEADLINE_MS : RUN_DEADLINE_MS,
        onUpdate: (j) => setStage(dryRun ? { step: 'previewing', job: j } : { step: 'running', job: j }),
      });
      const plan = job.outcome?.migratePlan;
      setStage(dryRun && job.status === 'completed' && plan ? { step: 'preview', job, plan } : { step: 'done', job });
    } catch (err) {
      setStage({ step: 'choose' });
      setProblem(err instanceof Error ? err.message : String(err));
    }
  };

  const usable = (accounts ?? []).filter((a) => a.hasPassword);
  const busy = stage.step === 'previewing' || stage.step === 'running';
  return (
    <main class="migrate">
      <h1>Migrate a mailbox</h1>
      <p class="muted small">Copies every folder of one account into another, with flags and dates. The source is only read; nothing is deleted on either side, and messages already in the destination are never copied twice.</p>
      {(relayProblem || problem) && <p class="error-text" role="alert" data-testid="migrate-problem">{relayProblem ?? problem}</p>}
      {accounts && usable.length < 2 && <p data-testid="migrate-need-accounts">Add both accounts (with their passwords) on the options page first; {usable.length} of 2 is there.</p>}
      {accounts && (
        <div class="migrate-choose">
          <label>
            From{' '}
            <select data-testid="migrate-source" value={source} disabled={busy} onChange={(e) => { setSource(e.currentTarget.value); setStage({ step: 'choose' }); }}>
              <option value="">Choose the source…</option>
              {usable.map((a) => <option value={a.account.id}>{label(a.account)}</option>)}
            </select>
          </label>{' '}
          <label>
            To{' '}
            <select data-testid="migrate-destination" value={destination} disabled={busy} onChange={(e) => { setDestination(e.currentTarget.value); setStage({ step: 'choose' }); }}>
              <option value="">Choose the destination…</option>
              {usable.filter((a) => a.account.id !== source).map((a) => <option value={a.account.id}>{label(a.account)}</option>)}
            </select>
          </label>{' '}
          <button data-testid="migrate-preview" disabled={!source || !destination || source === destination || busy} onClick={() => void run(true)}>
            Preview
          </button>
        </div>
      )}
      {(stage.step === 'previewing' || stage.step === 'running') && (
        <section data-testid="migrate-progress">
          <p>{stage.step === 'previewing' ? 'Reading both mailboxes…' : 'Migrating…'} {stage.job && <StatusPill info={statusInfo('migrate', stage.job.status)} />}</p>
          {stage.job && stage.step === 'running' && <ProgressBar progress={stage.job.progress} />}
        </section>
      )}
      {stage.step === 'preview' && <Preview plan={stage.plan} onConfirm={() => void run(false)} />}
      {stage.step === 'done' && <Result job={stage.job} />}
    </main>
  );
}

function Preview({ plan, onConfirm }: { plan: MigratePlanView; onConfirm: () => void }) {
  return (
    <section data-testid="migrate-plan">
      <h2>What will happen</h2>
      <table>
        <thead>
          <tr><th>Source folder</th><th>Destination folder</th><th>Messages</th><th>Already there</th><th>To copy</th></tr>
        </thead>
        <tbody>
          {plan.folders.map((f) => (
            <tr>
              <td>{f.source}</td>
              <td>
                {f.destination}
                {f.specialUse && <span class="muted small"> ({f.specialUse.replace('\\', '')})</span>}
                {f.create && <span class="muted small"> (new folder)</span>}
              </td>
              <td>{f.messages}</td>
              <td>{f.alreadyPresent}</td>
              <td>{f.toCopy}{f.overAppendLimit ? <span class="error-text"> + {f.overAppendLimit} too large for the destination</span> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p data-testid="migrate-totals">
        {plan.toCopy} message(s) to copy ({formatBytes(plan.bytesToCopy)}), {plan.alreadyPresent} already in the destination
        {plan.overAppendLimit ? `, ${plan.overAppendLimit} larger than the destination accepts (they will be listed, not copied)` : ''}.
      </p>
      <div class="actions">
        <button class="primary" data-testid="migrate-confirm" disabled={plan.toCopy === 0} onClick={onConfirm}>
          {plan.toCopy === 0 ? 'Nothing to copy' : `Migrate ${plan.toCopy} message(s)`}
        </button>
      </div>
    </section>
  );
}

function Result({ job }: { job: JobSnapshot }) {
  const info = statusInfo('migrate', job.status);
  const counts = job.outcome?.counts ?? {};
  return (
    <section data-testid="migrate-result">
      <p>
        <StatusPill info={info} /> {counts.migrated !== undefined && `${counts.migrated} copied, ${counts.notMigrated ?? 0} not copied, ${counts.alreadyPresent ?? 0} already there.`}
      </p>
      <div class={`hint tone-${info.severity}`} data-testid="migrate-hint">
        <div>{info.hint}</div>
        {job.outcome?.message && <div class="error-detail">{job.outcome.message}</div>}
        {job.errorCode && errorHint(job.errorCode) && <div class="error-detail">Last error: {errorHint(job.errorCode)}</div>}
      </div>
    </section>
  );
}
