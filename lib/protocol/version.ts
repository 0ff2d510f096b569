/**
 * Protocol versions. The client offers every version it speaks in `hello`; the relay answers
 * with the highest one both sides know, or a PROTOCOL_MISMATCH error frame. Bump the version
 * only for a change an older peer would misread; adding an optional field is not such a change.
 */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];

/** The highest version both peers speak, or null when they share none. */
export function negotiateVersion(offered: readonly number[], supported: readonly number[] = SUPPORTED_PROTOCOL_VERSIONS): number | null {
  let best: number | null = null;
  for (const v of offered) if (supported.includes(v) && (best === null || v > best)) best = v;
  return best;
}
