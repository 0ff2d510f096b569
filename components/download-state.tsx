import { browser } from 'wxt/browser';
import { useDownloadState } from '@/lib/ui/use-download-state';

/**
 * The line under a finished download job's "Download" button: how Chrome's save of the file
 * stands (lib/download/download-state.ts), with "Show in folder" once saved and "Try again" when
 * Chrome stopped. `starting` is the moment between the click and Chrome's answer.
 */
export function DownloadState({ jobId, starting, onTryAgain }: { jobId: string; starting: boolean; onTryAgain: () => void }) {
  const view = useDownloadState(jobId);
  if (starting) {
    return <span class="small muted" role="status" data-testid="download-state" data-state="starting">Starting the download…</span>;
  }
  if (!view || view.state === 'forgotten') return null;
  if (view.state === 'starting') return null;
  return (
    <span class={view.state === 'failed' ? 'small error-text' : 'small muted'} role={view.state === 'failed' ? 'alert' : 'status'} data-testid="download-state" data-state={view.state}>
      <span data-testid="download-state-text">{view.text}</span>{' '}
      {view.state === 'saved' && !view.fileGone && (
        <button class="small" data-action="show-in-folder" onClick={() => void browser.downloads.show(view.downloadId)}>
          Show in folder
        </button>
      )}
      {view.state === 'failed' && view.detail && (
        <details class="technical" data-testid="download-state-detail">
          <summary>Technical details</summary>
          <code>{view.detail}</code>
        </details>
      )}
      {view.state === 'failed' && (
        <button class="small" data-action="try-again" onClick={onTryAgain}>
          Try again
        </button>
      )}
    </span>
  );
}
