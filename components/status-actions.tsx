import { useState } from 'preact/hooks';
import type { JobRow } from '@/lib/storage/rows';
import { statusInfo } from '@/lib/status/catalog';
import { errorHint } from '@/lib/status/error-hints';
import { REPORT_PROBLEM_URL } from '@/lib/status/report-problem';
import { sendMessage } from '@/lib/ui/send-message';
import { openAccountInOptions } from '@/lib/ui/page-links';
import { saveDownload } from '@/lib/ui/save-download';

/**
 * The buttons a status offers (catalog `action`), plus Copy diagnostics and the report link where
 * the specification says "contact our support". Every button goes through the service worker.
 */
export function StatusActions({ job }: { job: JobRow }) {
  const info = statusInfo(job.kind, job.status);
  const [note, setNote] = useState<string | null>(null);
  const run = async (message: Parameters<typeof sendMessage>[0]) => {
    const reply = await sendMessage(message);
    setNote(reply.ok ? null : (errorHint(reply.code) ?? reply.message));
  };
  const copyDiagnostics = async () => {
    const reply = await sendMessage<string>({ type: 'diagnostics' });
    if (!reply.ok) return setNote(reply.message);
    await navigator.clipboard.writeText(reply.value);
    setNote('Diagnostics copied. Paste them into your report.');
  };
  const buttons = [];
  if (info.action === 'edit') {
    buttons.push(<button class="primary" data-action="edit" onClick={() => void openAccountInOptions(job.accountId)}>Edit</button>);
  } else if (info.action === 'retry') {
    buttons.push(<button class="primary" data-action="retry" onClick={() => void run({ type: 'retry-now', jobId: job.id })}>Retry now</button>);
  } else if (info.action === 'enable') {
    buttons.push(<button class="primary" data-action="enable" onClick={() => void run({ type: 'enable-account', accountId: job.accountId })}>Enable</button>);
  } else if (info.action === 'download') {
    // A relay link (outcome.link) needs the pairing token, so it goes through the download
    // manager with the header; a plain URL (seeded rows) opens as it is.
    const link = job.outcome?.link;
    const save = async () => {
      if (link) {
        const code = await saveDownload(link);
        return setNote(code ? (errorHint(code) ?? code) : 'Saving to your downloads folder…');
      }
      if (job.linkUrl) window.open(job.linkUrl, '_blank');
    };
    buttons.push(
      <button class="primary" data-action="download" disabled={!link && !job.linkUrl} title={link || job.linkUrl ? undefined : 'The link appears when the relay delivers it.'} onClick={() => void save()}>
        Download
      </button>,
    );
  }
  if (info.offersDiagnostics) {
    buttons.push(<button data-action="copy-diagnostics" onClick={() => void copyDiagnostics()}>Copy diagnostics</button>);
    buttons.push(<a href={REPORT_PROBLEM_URL} target="_blank" rel="noreferrer" data-action="report">Report a problem</a>);
  }
  // A backup at rest can be run at once; one under way or waiting for a password edit cannot.
  if (job.kind === 'backup' && (job.status === 'completed' || job.status === 'partially_completed')) {
    buttons.push(<button data-action="backup-now" onClick={() => void run({ type: 'backup-now', accountId: job.accountId })}>Back up now</button>);
  }
  if (buttons.length === 0 && !note) return null;
  return (
    <div class="actions">
      {buttons}
      {note && <span class="small muted" role="status">{note}</span>}
    </div>
  );
}
