import { useEffect, useState } from 'preact/hooks';
import type { JobRow } from '@/lib/storage/rows';
import { statusInfo } from '@/lib/status/catalog';
import { errorHint } from '@/lib/status/error-hints';
import { REPORT_PROBLEM_URL } from '@/lib/status/report-problem';
import { sendMessage } from '@/lib/ui/send-message';
import { openAccountInOptions } from '@/lib/ui/page-links';
import { saveDownload } from '@/lib/ui/save-download';
import { DownloadState } from './download-state';
import { useDownloadState } from '@/lib/ui/use-download-state';
import { accountToEdit } from '@/lib/background/account-to-edit';
import { actionsFor, type ActionId } from '@/lib/ui/status-action-list';
import { getDb } from '@/lib/storage/db';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { signInWithProvider } from '@/lib/ui/oauth-sign-in';

/**
 * The buttons a status offers (lib/ui/status-action-list.ts: the catalog's `action`, every button
 * its hint names, Copy diagnostics and the report link where the specification says "contact our
 * support"). Every button goes through the service worker.
 */
/**
 * Whether this row's download is saved (or being saved) in this browser, as Chrome's own record
 * says (lib/download/download-state.ts, by the download id kept for the job): the row then speaks
 * of the file, not of a link to click. A hook: every job row calls it; only a Completed / Link download looks.
 */
export function useSavedDownload(job: JobRow): boolean {
  const view = useDownloadState(job.kind === 'download' && job.status === 'completed_link' && job.outcome?.link ? job.id : null);
  return view?.state === 'saved' || view?.state === 'saving';
}

export function StatusActions({ job }: { job: JobRow }) {
  const info = statusInfo(job.kind, job.status);
  const saved = useSavedDownload(job);
  const [note, setNote] = useState<string | null>(null);
  // A note speaks of the moment it was said ("already running"): the next status takes it away.
  useEffect(() => setNote(null), [job.status]);
  // An OAuth2 account has no password to edit: its "Edit" is "Sign in again" (oauth.start with accountId).
  const target = accountToEdit(job);
  const account = useLiveQuery(() => getDb().accounts.get(target), [target]);
  const oauthProvider = account?.relay?.oauthProvider;
  const signInAgain = async () => {
    if (!account || !oauthProvider) return;
    setNote('Finish the sign-in in the tab that opened.');
    const outcome = await signInWithProvider({ provider: oauthProvider, email: account.username.includes('@') ? account.username : account.email, accountId: account.id });
    setNote(outcome.ok ? null : outcome.text);
  };
  const run = async (message: Parameters<typeof sendMessage>[0]) => {
    const reply = await sendMessage(message);
    setNote(reply.ok ? null : (errorHint(reply.code) ?? reply.message));
  };
  // Nothing new started (false): a run is already under way, and its result shows here when it ends.
  const backUpNow = async () => {
    const reply = await sendMessage<boolean>({ type: 'backup-now', accountId: job.accountId });
    setNote(!reply.ok ? (errorHint(reply.code) ?? reply.message) : reply.value === false ? 'A backup of this account is already running; its result shows here when it ends.' : null);
  };
  const copyDiagnostics = async () => {
    const reply = await sendMessage<string>({ type: 'diagnostics' });
    if (!reply.ok) return setNote(reply.message);
    await navigator.clipboard.writeText(reply.value);
    setNote('Diagnostics copied. Paste them into your report.');
  };
  // A relay link (outcome.link) needs the pairing token, so it goes through the download
  // manager with the header; a plain URL (seeded rows) opens as it is.
  // What happens next is Chrome's to say (components/download-state.tsx), not a fixed "Saving…".
  const link = job.outcome?.link;
  const [starting, setStarting] = useState(false);
  const save = async () => {
    if (link) {
      setNote(null);
      setStarting(true);
      const code = await saveDownload(job.id, link).finally(() => setStarting(false));
      if (code) setNote(errorHint(code) ?? code);
      return;
    }
    if (job.linkUrl) window.open(job.linkUrl, '_blank');
  };
  const BUTTONS: Record<ActionId, () => preact.JSX.Element> = {
    'sign-in-again': () => <button class="primary" data-action="sign-in-again" onClick={() => void signInAgain()}>Sign in again</button>,
    edit: () => <button class={info.action === 'edit' ? 'primary' : ''} data-action="edit" onClick={() => void openAccountInOptions(accountToEdit(job))}>Edit</button>,
    retry: () => <button class={info.action === 'retry' ? 'primary' : ''} data-action="retry" onClick={() => void run({ type: 'retry-now', jobId: job.id })}>Retry now</button>,
    enable: () => <button class="primary" data-action="enable" onClick={() => void run({ type: 'enable-account', accountId: job.accountId })}>Enable</button>,
    download: () => (
      <button class={saved ? '' : 'primary'} data-action="download" disabled={!link && !job.linkUrl} title={link || job.linkUrl ? undefined : 'The link appears when the relay delivers it.'} onClick={() => void save()}>
        {saved ? 'Download again' : 'Download'}
      </button>
    ),
    'copy-diagnostics': () => <button data-action="copy-diagnostics" onClick={() => void copyDiagnostics()}>Copy diagnostics</button>,
    report: () => <a href={REPORT_PROBLEM_URL} target="_blank" rel="noreferrer" data-action="report">Report a problem</a>,
    'backup-now': () => <button data-action="backup-now" onClick={() => void backUpNow()}>Back up now</button>,
    cancel: () => (
      <button
        data-action="cancel"
        title={job.kind === 'backup' ? 'Stops this run: what it already backed up stays in the archive; the rest follows at the next scheduled run.' : undefined}
        onClick={() => void run({ type: 'cancel-job', jobId: job.id })}
      >
        Cancel
      </button>
    ),
    'start-again': () => <button class="primary" data-action="start-again" onClick={() => void run({ type: 'start-again', jobId: job.id })}>Start again</button>,
  };
  // Saved already: nothing is left to cancel (the link expires by itself).
  const ids = actionsFor(job, { oauthProvider }).filter((id) => !(saved && id === 'cancel'));
  const buttons = ids.map((id) => BUTTONS[id]());
  if (buttons.length === 0 && !note) return null;
  return (
    <div class="actions">
      {buttons}
      {ids.includes('download') && link && <DownloadState jobId={job.id} starting={starting} onTryAgain={() => void save()} />}
      {note && <span class="small muted" role="status">{note}</span>}
    </div>
  );
}
