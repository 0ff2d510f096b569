import { accountLabel } from '@/lib/account-label';
import { DownloadState } from './download-state';
import { useEffect, useState } from 'preact/hooks';
import type { RestorePlan } from '@/lib/background/restore-plan';
import type { DownloadParams } from '@/lib/protocol/download-params';
import type { LabelMode, RestoreParams } from '@/lib/protocol/restore-params';
import type { AccountRow } from '@/lib/storage/rows';
import { getDb } from '@/lib/storage/db';
import { statusInfo } from '@/lib/status/catalog';
import { errorHint } from '@/lib/status/error-hints';
import { formatDay } from '@/lib/format';
import type { Clock } from '@/lib/clock';
import { sendMessage } from '@/lib/ui/send-message';
import { restorePlanText } from '@/lib/ui/restore-plan-text';
import { saveDownload } from '@/lib/ui/save-download';
import { useLiveQuery } from '@/lib/ui/use-live-query';
import { extensionUrl } from '@/lib/ui/page-links';
import { ARCHIVE_PAGE_PATH, archiveHash } from '@/lib/ui/archive-link';
import { ARCHIVE_BROWSE_LIMITS } from '@/lib/limits';
import { restoreCompletedHint } from '@/lib/status/restore-statuses';
import { LabelModeChoice } from './label-mode-choice';

type RestoreStep = { at: 'closed' } | { at: 'choose' } | { at: 'planning' } | { at: 'confirm'; plan: RestorePlan; destination: string; params: RestoreParams };

/**
 * What can be done with the selected messages: put them back (the restore engine, with its dry run
 * shown before anything is appended), download them (.eml for one, a zip for several: a download
 * job and its expiring relay link), or copy a link to the page showing the message.
 */
export function ArchiveActions(props: {
  accountId: string;
  /** What the list shows (account, run, folder or query): notes about another view go when it changes. */
  viewKey: string;
  folder: string | null;
  selected: string[];
  previewId: string | null;
  accounts: AccountRow[];
  clock: Clock;
}) {
  const { accountId, selected } = props;
  const [restore, setRestore] = useState<RestoreStep>({ at: 'closed' });
  const [destination, setDestination] = useState(accountId);
  const [replanning, setReplanning] = useState(false);
  const [intoNew, setIntoNew] = useState(false);
  const [into, setInto] = useState(() => `Restored ${formatDay(props.clock.now(), props.clock.timeZone())}`);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [followJob, setFollowJob] = useState<{ id: string; kind: 'restore' | 'download' } | null>(null);
  const db = getDb();
  const job = useLiveQuery(() => (followJob ? db.jobs.get(followJob.id) : Promise.resolve(undefined)), [followJob?.id]);
  const [saved, setSaved] = useState<string | null>(null);
  // A new selection is a new question: the dry run shown was for the old one.
  const key = selected.join(',');
  useEffect(() => {
    setRestore((r) => (r.at === 'closed' ? r : { at: 'choose' }));
  }, [key]);
  useEffect(() => setDestination(accountId), [accountId]);
  // One line at a time, about what is on screen: another folder, query or run clears a note, and a
  // finished job's line (a running one stays: it is still news).
  useEffect(() => {
    setNote(null);
    setFollowJob((f) => (f && job && isSettled(job.status) ? null : f));
  }, [props.viewKey]);
  // A note that something worked ("Link copied") says it for a moment; a problem stays until the next action.
  useEffect(() => {
    if (!note?.ok) return;
    const t = setTimeout(() => setNote(null), ARCHIVE_BROWSE_LIMITS.noteShownMs);
    return () => clearTimeout(t);
  }, [note]);
  // The download arrives by itself once the relay has the file ready (Completed / Link).
  useEffect(() => {
    if (followJob?.kind !== 'download' || !job || job.status !== 'completed_link' || !job.outcome?.link || saved === job.id) return;
    setSaved(job.id);
    void saveDownload(job.id, job.outcome.link).then((code) => code && setNote({ ok: false, text: errorHint(code) ?? code }));
  }, [job?.status, job?.id]);

  const fail = (code: Parameters<typeof errorHint>[0], message: string) => setNote({ ok: false, text: errorHint(code) ?? message });
  const restoreParams = (labels?: LabelMode): RestoreParams => ({
    messageIds: selected,
    ...(labels ? { labels } : {}),
    ...(destination !== accountId ? { sourceAccountId: accountId } : {}),
    ...(intoNew && into.trim() ? { into: into.trim() } : {}),
  });
  const preview = async (labels?: LabelMode) => {
    setNote(null);
    const params = restoreParams(labels);
    // Another label choice: the shown plan stays (its choice keeps focus) until the new counts come.
    if (labels) setReplanning(true);
    else setRestore({ at: 'planning' });
    const reply = await sendMessage<RestorePlan>({ type: 'plan-restore', accountId: destination, params }).finally(() => setReplanning(false));
    if (!reply.ok) {
      fail(reply.code, reply.message);
      return setRestore({ at: 'choose' });
    }
    setRestore({ at: 'confirm', plan: reply.value, destination, params });
  };
  const confirm = async (step: Extract<RestoreStep, { at: 'confirm' }>) => {
    const reply = await sendMessage<string>({ type: 'start-job', job: { kind: 'restore', accountId: step.destination, params: step.params } });
    if (!reply.ok) return fail(reply.code, reply.message);
    setRestore({ at: 'closed' });
    setFollowJob({ id: reply.value, kind: 'restore' });
  };
  const download = async () => {
    setNote(null);
    const params: DownloadParams = { format: selected.length === 1 ? 'eml' : 'eml-zip', messageIds: selected };
    const reply = await sendMessage<string>({ type: 'start-job', job: { kind: 'download', accountId, params } });
    if (!reply.ok) return fail(reply.code, reply.message);
    setFollowJob({ id: reply.value, kind: 'download' });
  };
  const copyLink = async () => {
    setFollowJob((f) => (f && job && isSettled(job.status) ? null : f));
    const message = props.previewId ?? selected[0];
    const url = extensionUrl(ARCHIVE_PAGE_PATH + archiveHash({ account: accountId, ...(props.folder ? { folder: props.folder } : {}), ...(message ? { message } : {}) }));
    try {
      await navigator.clipboard.writeText(url);
      setNote({ ok: true, text: 'Link copied: it opens this message on this page.' });
    } catch {
      setNote({ ok: false, text: `Copy this link: ${url}` });
    }
  };
  const none = selected.length === 0;
  const count = `${selected.length} ${selected.length === 1 ? 'message' : 'messages'}`;
  return (
    <div class="archive-actions" data-testid="archive-actions">
      <div class="actions" role="toolbar" aria-label="Selected messages">
        <span class="small muted" data-testid="selection-count">{none ? 'Nothing selected' : `${count} selected`}</span>
        <button data-testid="action-restore" disabled={none} onClick={() => setRestore({ at: 'choose' })}>Restore…</button>
        <button data-testid="action-download" disabled={none} onClick={() => void download()}>{selected.length > 1 ? 'Download .zip' : 'Download .eml'}</button>
        <button data-testid="action-copy-link" disabled={none && !props.previewId} onClick={() => void copyLink()}>Copy link</button>
      </div>
      {restore.at !== 'closed' && !none && (
        <div class="restore-box" data-testid="archive-restore">
          <label>
            Into the account{' '}
            <select data-testid="archive-restore-destination" value={destination} onChange={(e) => { setDestination(e.currentTarget.value); setRestore({ at: 'choose' }); }}>
              {props.accounts.map((a) => <option value={a.id}>{accountLabel(a)}</option>)}
            </select>
          </label>
          <label>
            <input type="radio" name="archive-restore-where" checked={!intoNew} onChange={() => { setIntoNew(false); setRestore({ at: 'choose' }); }} /> each into its folder
          </label>
          <label>
            <input type="radio" name="archive-restore-where" data-testid="archive-restore-into-new" checked={intoNew} onChange={() => { setIntoNew(true); setRestore({ at: 'choose' }); }} /> into a new folder
          </label>
          {intoNew && <input aria-label="New folder name" data-testid="archive-restore-into" value={into} onInput={(e) => { setInto(e.currentTarget.value); setRestore({ at: 'choose' }); }} />}
          {restore.at !== 'confirm' && (
            <button data-testid="archive-restore-preview" disabled={restore.at === 'planning'} onClick={() => void preview()}>
              {restore.at === 'planning' ? 'Checking…' : `Check ${count}`}
            </button>
          )}
          {restore.at === 'confirm' && (
            <div class="actions" data-testid="archive-restore-plan" data-to-append={restore.plan.toAppend}>
              <span aria-live="polite">{restorePlanText(restore.plan)}</span>
              <LabelModeChoice plan={restore.plan} busy={replanning} onChange={(mode) => void preview(mode)} />
              <button class="primary" data-testid="archive-restore-confirm" disabled={restore.plan.toAppend === 0} onClick={() => void confirm(restore)}>
                {restore.plan.toAppend === 0 ? 'Nothing to restore' : `Restore ${restore.plan.toAppend}`}
              </button>
            </div>
          )}
          <button onClick={() => setRestore({ at: 'closed' })}>Cancel</button>
        </div>
      )}
      {note && (
        <p class={note.ok ? 'small' : 'error-text'} role={note.ok ? 'status' : 'alert'} data-testid={note.ok ? 'archive-note' : 'archive-problem'}>
          {note.text}
        </p>
      )}
      {followJob && job && !note && (
        <p class="small" role="status" data-testid="archive-job" data-kind={job.kind} data-status={job.status}>
          {job.kind === 'download' && job.status === 'completed_link' && job.outcome?.link && saved === job.id ? (
            // Ready: what happens next is Chrome's to say (components/download-state.tsx), not the relay's "Completed / Link".
            <>
              Download:{' '}
              <DownloadState jobId={job.id} starting={false} onTryAgain={() => job.outcome?.link && void saveDownload(job.id, job.outcome.link)} />
            </>
          ) : job.kind === 'restore' && job.status === 'completed' ? (
            <>
              Restore completed: {restoreCompletedHint(job.params, props.clock.timeZone())}{' '}
              {/* Into this account: a backup follows (docs/search.md), said as a sequence so it stays true once that backup ended; into another account these marks stay true. */}
              {job.accountId === props.accountId && (
                <span class="muted" data-testid="archive-restore-recheck">Then the relay backs the account up to check the server; the "deleted on server" marks follow what that backup finds.</span>
              )}
            </>
          ) : (
            <>
              {job.kind === 'restore' ? 'Restore' : 'Download'}: {statusInfo(job.kind, job.status).label}
            </>
          )}
        </p>
      )}
    </div>
  );
}

/** A job that will not change by itself any more (its line is history once the view changes). */
function isSettled(status: string): boolean {
  return status !== 'on_queue' && status !== 'running' && status !== 'retrying';
}
