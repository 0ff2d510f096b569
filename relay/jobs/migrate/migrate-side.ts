import type { Side } from './migrate-types.ts';

/**
 * Which server an error came from. Migrate talks to two servers at once and Authentication Error
 * must say whose password is wrong, so every call is tagged where it is made rather than guessed
 * from the error afterwards.
 */
const sides = new WeakMap<object, Side>();

export async function onSide<T>(side: Side, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    // An error that names its side itself (a deadline that knows which server was slow) keeps it.
    if (err && typeof err === 'object' && !sides.has(err) && !detailSide(err)) sides.set(err, side);
    throw err;
  }
}

export function sideOf(err: unknown): Side | null {
  if (!err || typeof err !== 'object') return null;
  return sides.get(err) ?? detailSide(err);
}

function detailSide(err: object): Side | null {
  const side = (err as { details?: { side?: unknown } }).details?.side;
  return side === 'source' || side === 'destination' ? side : null;
}
