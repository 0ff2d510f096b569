import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { browserDownloadOptions, linkIsLive } from '@/lib/download/browser-download';
import { newJobKey, runRelayJob } from '@/lib/migrate/run-relay-job';
import type { ImapAccount, JobSnapshot } from '@/lib/protocol/common';
import { statusInfo } from '@/lib/status/catalog';
import { errorHint } from '@/lib/status/error-hints';
import { formatBytes } from '@/lib/ui/format';
import { useRelay } from '@/lib/ui/use-relay';
import { ProgressBar } from './progress-bar';
import { StatusPill } from './status-pill';

/** Generating an export of a large archive takes a while; past this the panel stops waiting (the job goes on). */
const EXPORT_DEADLINE_MS = 6 * 60 * 60_000;
/** The list is read again this often, so a link that expired shows Expired without a reload. */
const REFRESH_MS = 30_000;
/** How long the link may live: the relay deletes the file then (default a day). */
const LINK_TTL_CHOICES = [
  { label: '1 hour', minutes: 60 },
  { label: '24 hours', minutes: 24 * 60 },
  { label: '7 days', minutes: 7 * 24 * 60 },
] as const;

/**
 * The dashboard's Download tab: export an account's archive (mbox or .eml files, one folder or
 * all) on the relay, then the Download button hands the link to the browser's download manager
 * with the pairing token (the relay serves it to nobody else) until it expires.
 */
export function DownloadPanel() {
  const { relay, pairing, problem: relayProblem } = useRelay('mailkeep-download-panel');
  const [accounts, setAccounts] = useState<ImapAccount[]>([]);
  const [jobs, setJobs] = useState<JobSnapshot[]>([]);
  const [accountId, setAccountId] = useState('');
  const [format, setFormat] = useState<'mbox' | 'eml-zip'>('mbox');
  const [folder, setFolder] = useState('');
  const [ttlMinutes, setTtlMinutes] = useState<number>(LINK_TTL_CHOICES[1].minutes);
  const [running, setRunning] = useState<JobSnapshot | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const refresh = async (): Promise<void> => {
    if (!relay) return;
    const [a, j] = await Promise.all([relay.call('account.list', {}), relay.call('job.list', { limit: 100 })]);
    setAccounts(a.accounts.map((x) => x.account));
    setJobs(j.jobs.filter((x) => x.kind === 'download'));
  };
  useEffect(() => {
    void refresh().catch((err: unknown) => setProblem(String((err as Error)?.message ?? err)));
    const timer = setInterval(() => void refresh().catch(() => undefined), REFRESH_MS);
    return () => clearInterval(timer);
  }, [relay]);

  const start = async (): Promise<void> => {
    if (!relay || !accountId) return;
    setProblem(null);
    try {
      await runRelayJob(relay, {
        kind: 'download',
        accountId,
        idempotencyKey: newJobKey('download', accountId, format, false),
        params: { format, linkTtlMinutes: ttlMinutes, ...(folder.trim() ? { folder: folder.trim() } : {}) },
        deadlineMs: EXPORT_DEADLINE_MS,
        onUpdate: setRunning,
      });
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
    }
    setRunning(null);
    await refresh().catch(() => undefined);
  };

  const save = async (job: JobSnapshot): Promise<void> => {
    const link = job.outcome?.link;
    if (!pairing || !link) return;
    setProblem(null);
    try {
      await browser.downloads.download(browserDownloadOptions(pairing, link));
    } catch (err) {
      setProblem(`The browser could not start the download: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const name = (id: string): string => {
    const a = accounts.find((x) => x.id === id);
    return a ? `${a.user} (${a.host})` : id;
  };
  return (
    <section class="download-panel" data-testid="download-panel">
      {(relayProblem || problem) && <p class="error-text" role="alert" data-testid="download-problem">{relayProblem ?? problem}</p>}
      <div class="filters">
        <label>
          Account{' '}
          <select data-testid="download-account" value={accountId} disabled={!!running} onChange={(e) => setAccountId(e.currentTarget.value)}>
            <option value="">Choose…</option>
            {accounts.map((a) => <option value={a.id}>{name(a.id)}</option>)}
          </select>
        </label>
        <label>
          Format{' '}
          <select data-testid="download-format" value={format} disabled={!!running} onChange={(e) => setFormat(e.currentTarget.value as 'mbox' | 'eml-zip')}>
            <option value="mbox">mbox (one file per folder)</option>
            <option value="eml-zip">.eml files in folders</option>
          </select>
        </label>
        <label>
          Folder{' '}
          <input data-testid="download-folder" placeholder="all folders" value={folder} disabled={!!running} onInput={(e) => setFolder(e.currentTarget.value)} />
        </label>
        <label>
          Link valid for{' '}
          <select data-testid="download-ttl" value={String(ttlMinutes)} disabled={!!running} onChange={(e) => setTtlMinutes(Number(e.currentTarget.value))}>
            {LINK_TTL_CHOICES.map((c) => <option value={String(c.minutes)}>{c.label}</option>)}
          </select>
        </label>
        <button class="primary" data-testid="download-start" disabled={!relay || !accountId || !!running} onClick={() => void start()}>
          Prepare download
        </button>
      </div>
      {running && (
        <div data-testid="download-running">
          <StatusPill info={statusInfo('download', running.status)} /> <ProgressBar progress={running.progress} />
        </div>
      )}
      {jobs.length > 0 && (
        <table class="status-table" data-testid="download-jobs">
          <thead>
            <tr><th>Account</th><th>Status</th><th>File</th><th>What to do</th></tr>
          </thead>
          <tbody>
            {jobs.map((j) => {
              const info = statusInfo('download', j.status);
              const link = j.outcome?.link;
              const live = !!link && linkIsLive(link);
              return (
                <tr data-testid="download-row" data-status={j.status}>
                  <td>{name(j.accountId)}</td>
                  <td><StatusPill info={info} /></td>
                  <td class="small">
                    {link ? `${link.fileName}, ${formatBytes(link.bytes)}, until ${new Date(link.expiresAt).toLocaleString()}` : (j.outcome?.message ?? '')}
                  </td>
                  <td>
                    <div class={`hint tone-${info.severity}`}>
                      {info.hint}
                      {j.errorCode && errorHint(j.errorCode) && <div class="error-detail">Last error: {errorHint(j.errorCode)}</div>}
                    </div>
                    {j.status === 'completed_link' && (
                      <div class="actions">
                        <button class="primary" data-action="download" disabled={!live} onClick={() => void save(j)}>Download</button>
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
