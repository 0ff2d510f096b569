import { formatAbsolute, formatRelative } from '@/lib/ui/format';

export function RelativeTime({ at }: { at: number }) {
  return (
    <time dateTime={new Date(at).toISOString()} title={formatAbsolute(at)} data-testid="relative-time">
      {formatRelative(at)}
    </time>
  );
}
