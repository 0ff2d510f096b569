import type { JobProgress } from '@/lib/storage/rows';
import { formatBytes, formatMessages } from '@/lib/format';
import { useFreshness } from '@/lib/ui/use-freshness';

/**
 * The green bar of a running job: messages, bytes and the folder being worked on. A bar says "moving
 * now", so it is not shown while the relay is not reachable (the status pill says "last known").
 */
export function ProgressBar({ progress }: { progress: JobProgress }) {
  if (!useFreshness().freshness.live) return null;
  const { messagesDone, messagesTotal, bytes, folder } = progress;
  const pct = messagesTotal ? Math.min(100, Math.floor((messagesDone / messagesTotal) * 100)) : null;
  return (
    <div data-testid="progress">
      <div
        class={`progress${pct === null ? ' indeterminate' : ''}`}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct ?? undefined}
      >
        <div style={{ width: pct === null ? undefined : `${pct}%` }} />
      </div>
      <div class="small muted">
        {formatMessages(messagesDone, messagesTotal)} · {formatBytes(bytes)}
        {folder ? ` · ${folder}` : ''}
      </div>
    </div>
  );
}
