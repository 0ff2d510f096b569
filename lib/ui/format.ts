/** 1536 -> "1.5 KB": decimal-free for bytes, one decimal above. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600_000],
  ['month', 30 * 24 * 3600_000],
  ['day', 24 * 3600_000],
  ['hour', 3600_000],
  ['minute', 60_000],
];

/** "3 hours ago", "just now": the card's last-backup time (the absolute time goes in the title). */
export function formatRelative(at: number, now = Date.now(), locale = 'en'): string {
  const diff = at - now;
  for (const [unit, ms] of STEPS) {
    if (Math.abs(diff) >= ms) return new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(Math.round(diff / ms), unit);
  }
  return 'just now';
}

export function formatAbsolute(at: number): string {
  return new Date(at).toLocaleString();
}

/** "120 of 400 messages" or "120 messages" while the total is unknown. */
export function formatMessages(done: number, total: number | null): string {
  return total === null ? `${done} messages` : `${done} of ${total} messages`;
}
