/**
 * Bytes for people: KB under 1 MB (a 46 KB export is not "0.0 MB"), MB with one decimal above.
 * KB are rounded up, so a few bytes never read as "0 KB" next to a message count that is not 0.
 */
export function formatSize(bytes: number): string {
  if (bytes < 1048576) return `${Math.ceil(bytes / 1024)} KB`;
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** A retry delay for people: whole seconds rounded up ("next try in 0 s" read as a bug), or "now". */
export function formatRetryIn(ms: number | undefined): string {
  if (!ms || ms <= 0) return 'now';
  return `in ${Math.ceil(ms / 1000)} s`;
}
