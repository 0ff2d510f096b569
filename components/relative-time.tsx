import { systemClock, type Clock } from '@/lib/clock';
import { formatAbsolute, formatRelative } from '@/lib/format';

export function RelativeTime({ at, clock = systemClock }: { at: number; clock?: Clock }) {
  return (
    <time dateTime={new Date(at).toISOString()} title={formatAbsolute(at, clock.timeZone())} data-testid="relative-time">
      {formatRelative(at, clock.now())}
    </time>
  );
}
