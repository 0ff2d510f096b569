/** A retry delay for people: whole seconds rounded up ("next try in 0 s" read as a bug), or "now". */
export function formatRetryIn(ms: number | undefined): string {
  if (!ms || ms <= 0) return 'now';
  return `in ${Math.ceil(ms / 1000)} s`;
}
