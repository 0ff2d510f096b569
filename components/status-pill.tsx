import type { StatusInfo } from '@/lib/status/status-info';

/** The status name, coloured by severity, with the spec's condition on hover. */
export function StatusPill({ info }: { info: StatusInfo }) {
  return (
    <span class={`pill tone-${info.severity}`} data-testid="status-label" data-status={info.id} title={info.condition}>
      {info.label}
    </span>
  );
}
