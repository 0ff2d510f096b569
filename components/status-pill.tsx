import type { StatusInfo } from '@/lib/status/status-info';
import { statusView } from '@/lib/ui/relay-freshness';
import { useFreshness } from '@/lib/ui/use-freshness';

/**
 * The status name, coloured by severity, with the spec's condition on hover. While the relay is not
 * reachable the status is only the last one the relay reported: the pill is dimmed, marked
 * data-current="false", and followed by its age, never shown as current (relay-freshness.ts).
 */
export function StatusPill({ info }: { info: StatusInfo }) {
  const { freshness, now, timeZone } = useFreshness();
  const view = statusView(info.kind, info.id, freshness, now, timeZone);
  return (
    <span class="pill-wrap">
      <span
        class={`pill tone-${info.severity}${view.current ? '' : ' last-known'}`}
        data-testid="status-label"
        data-status={info.id}
        data-current={String(view.current)}
        title={info.condition}
      >
        {view.label}
      </span>
      {view.mark && (
        <span class="small muted as-of" data-testid="as-of">
          {' '}
          {view.mark}
        </span>
      )}
    </span>
  );
}
