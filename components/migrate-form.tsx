import { useEffect, useState } from 'preact/hooks';
import { newJobKey, runRelayJob } from '@/lib/migrate/run-relay-job';
import type { ImapAccount, JobSnapshot } from '@/lib/protocol/common';
import { errorCodeOf } from '@/lib/protocol/error-codes';
import { jobRequestOf, jobResultOf } from '@/lib/protocol/job-kinds';
import type { MigratePlanView } from '@/lib/protocol/job-outcome';
import { statusInfo } from '@/lib/status/catalog';
import { errorHint } from '@/lib/status/error-hints';
import { getDb } from '@/lib/storage/db';
import type { JobRow } from '@/lib/storage/rows';
import { formatBytes } from '@/lib/format';
import { quotaShortfall } from '@/lib/migrate/quota-warning';
import { serverTextIn, technicalText } from '@/lib/status/server-text-words';
import { sendMessage } from '@/lib/ui/send-message';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { useRelay } from '@/lib/ui/use-relay';
import { ProgressBar } from './progress-bar';
import { StatusHint } from './status-hint';
import { StatusPill } from './status-pill';
import { PageHeader } from './page-header';
import { relayAccountLabel } from '@/lib/account-label';

/** A preview must come back within minutes (it reads both servers, copies nothing). */
const PREVIEW_DEADLINE_MS = 10 * 60_000;

type Stage =
  | { step: 'choose' }
  | { step: 'previewing'; job: JobSnapshot | null }
  | { step: 'preview'; job: JobSnapshot; plan: MigratePlanView }
  | { step: 'queuing' }
  | { step: 'queued'; jobId: string };

/** By address, as every page names accounts (never "alice (127.0.0.1)"). */
const label = (a: ImapAccount): string => relayAccountLabel(a);

/**
 * Migrate: choose the source and destination accounts (both stored on the relay with their
 * passwords), preview the folder mapping and counts from a dry run (run on the relay by this page:
 * a preview is part of the form, not a job the user tracks), then confirm. Nothing is written
 * before the confirmation (design.md I6); the source is only read. The confirmation queues a
 * migrate job in the store (`start-job`): the service worker runs and follows it like any job, so
 * it is on the badge, in the popup and in the dashboard's Migrate tab, and this page shows its row.
 */
export function MigrateForm() {
  const { relay, problem: relayProblem } = useRelay('mailkeep-migrate-page');
  const [accounts, setAccounts] = useState<{ account: ImapAccount; hasPassword: boolean }[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [detail, setDetail] = useState<string | null>(null);
  const [source, setSource] = useState('');
  const [destination, setDestination] = useState('');
  const [stage, setStage] = useState<Stage>({ step: 'choose' });

  useEffect(() => {
    if (!relay) return;
    relay.call('account.list', {}).then((r) => setAccounts(r.accounts), (err: unknown) => setProblem(`${errorHint(errorCodeOf(err)) ?? 'The relay cannot be reached.'} (${errorCodeOf(err)})`));
  }, [relay]);

  const preview = async (): Promise<void> => {
    if (!relay) return;
    setProblem(null);
    setDetail(null);
    setStage({ step: 'previewing', job: null });
    try {
      const job = await runRelayJob(relay, {
        kind: 'migrate',
        accountId: source,
        idempotencyKey: newJobKey('migrate', source, destination, true),
        params: { destinationAccountId: destination, dryRun: true },
        deadlineMs: PREVIEW_DEADLINE_MS,
        onUpdate: (j) => setStage({ step: 'previewing', job: j }),
      });
      const plan = job.outcome?.migratePlan;
      if (job.status === 'completed' && plan) return setStage({ step: 'preview', job, plan });
      setStage({ step: 'choose' });
      // The server's reply in the product's words; the relay's own text only as technical detail.
      const message = job.outcome?.message;
      setProblem(`The preview could not be made: ${serverTextIn(message)?.words ?? errorHint(job.errorCode) ?? statusInfo('migrate', job.status).label}`);
      setDetail(message ? technicalText(message) : null);
    } catch (err) {
      setStage({ step: 'choose' });
      setProblem(err instanceof Error ? err.message : String(err));
    }
  };

  const confirm = async (): Promise<void> => {
    setProblem(null);
    setStage({ step: 'queuing' });
    const reply = await sendMessage<string>({ type: 'start-job', job: { kind: 'migrate', accountId: source, params: { destinationAccountId: destination } } });
    if (!reply.ok) {
      setStage({ step: 'choose' });
      return setProblem(errorHint(reply.code) ?? reply.message);
    }
    setStage({ step: 'queued', jobId: reply.value });
  };

  const usable = (accounts ?? []).filter((a) => a.hasPassword);
  // The migration is a row on the source account, so the source must be one of this browser's
  // accounts (the relay may also hold accounts added elsewhere, e.g. with the command line).
  const mine = useLiveQuery(() => getDb().accounts.toCollection().primaryKeys());
  const sources = usable.filter((a) => mine?.includes(a.account.id));
  const busy = stage.step === 'previewing' || stage.step === 'queuing';
  return (
    <main class="migrate">
      <PageHeader current="migrate" title="Migrate a mailbox" />
      <p class="muted small">Copies every folder of one account into another, with flags and dates. The source is only read; nothing is deleted on either side, and messages already in the destination are never copied twice.</p>
      {(relayProblem || problem) && <p class="error-text" role="alert" data-testid="migrate-problem">{relayProblem ?? problem}</p>}
      {detail && !relayProblem && (
        <details class="technical small muted" data-testid="technical-details">
          <summary>Technical details</summary>
          <span data-testid="technical-text">{detail}</span>
        </details>
      )}
      {accounts && usable.length < 2 && <p data-testid="migrate-need-accounts">Add both accounts (with their passwords) on the options page first; {usable.length} of 2 is there.</p>}
      {accounts && (
        <div class="migrate-choose">
          <label>
            From{' '}
            <select data-testid="migrate-source" value={source} disabled={busy} onChange={(e) => { setSource(e.currentTarget.value); setStage({ step: 'choose' }); }}>
              <option value="">Choose the source…</option>
              {sources.map((a) => <option value={a.account.id}>{label(a.account)}</option>)}
            </select>
          </label>{' '}
          <label>
            To{' '}
            <select data-testid="migrate-destination" value={destination} disabled={busy} onChange={(e) => { setDestination(e.currentTarget.value); setStage({ step: 'choose' }); }}>
              <option value="">Choose the destination…</option>
              {usable.filter((a) => a.account.id !== source).map((a) => <option value={a.account.id}>{label(a.account)}</option>)}
            </select>
          </label>{' '}
          <button data-testid="migrate-preview" disabled={!source || !destination || source === destination || busy} onClick={() => void preview()}>
            Preview
          </button>
        </div>
      )}
      {stage.step === 'previewing' && (
        <section data-testid="migrate-progress">
          <p>Reading both mailboxes… {stage.job && <StatusPill info={statusInfo('migrate', stage.job.status)} />}</p>
        </section>
      )}
      {stage.step === 'preview' && <Preview plan={stage.plan} onConfirm={() => void confirm()} />}
      {stage.step === 'queued' && <Result jobId={stage.jobId} nameOf={(id) => { const a = usable.find((x) => x.account.id === id); return a ? label(a.account) : id; }} />}
    </main>
  );
}

function Preview({ plan, onConfirm }: { plan: MigratePlanView; onConfirm: () => void }) {
  const shortfall = quotaShortfall(plan.bytesToCopy, plan.destinationQuota, 'migration');
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
      {shortfall && (
        <p class="warning-text" role="alert" data-testid="migrate-quota-warning" data-free={shortfall.freeBytes} data-to-copy={shortfall.bytesToCopy}>
          <strong>Will not fit:</strong> {shortfall.text}
        </p>
      )}
      <div class="actions">
        <button class="primary" data-testid="migrate-confirm" disabled={plan.toCopy === 0} onClick={onConfirm}>
          {plan.toCopy === 0 ? 'Nothing to copy' : `Migrate ${plan.toCopy} message(s)`}
        </button>
      </div>
    </section>
  );
}

/** The migration's row in the store, live: status, progress, counts, the hint and its buttons. */
function Result({ jobId, nameOf }: { jobId: string; nameOf: (accountId: string) => string }) {
  const job: JobRow | undefined = useLiveQuery(() => getDb().jobs.get(jobId), [jobId]);
  if (!job) return null;
  const info = statusInfo('migrate', job.status);
  const request = jobRequestOf(job);
  const result = jobResultOf(job);
  const counts = result?.kind === 'migrate' ? result.outcome.counts : undefined;
  return (
    <section data-testid="migrate-result" data-job-id={job.id}>
      <p>
        <StatusPill info={info} /> <span class="small muted">to {nameOf(request?.kind === 'migrate' ? request.params.destinationAccountId : '')}</span>{' '}
        {counts && `${counts.migrated} copied, ${counts.notMigrated} not copied, ${counts.alreadyPresent} already there.`}
      </p>
      {info.severity === 'progress' && <ProgressBar progress={job.progress} label="Migration progress" />}
      <div data-testid="migrate-hint">
        <StatusHint job={job} />
      </div>
      <p class="small muted">
        Follow it in the toolbar popup and in the <a href="/dashboard.html#tab=migrate" data-testid="migrate-open-tab">dashboard's Migrate tab</a>; closing this page does not stop it.
      </p>
    </section>
  );
}
