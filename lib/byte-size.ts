/**
 * A size as people type it, one reading everywhere (search `larger:5M`, `mailkeep account pacing
 * --daily-download 2.4G`): a number with an optional unit K, M or G (binary, 1024), written K,
 * KB, KiB (any case), or B / none for bytes; "2400MB", "2.5 GB", "500K", "300000". Null when it is
 * no such size or not a whole number of bytes JavaScript can hold; callers add their own bounds.
 */
export function parseByteSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg](?:i?b)?|b)?$/i.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  const bytes = Math.round(Number(m[1]) * mult);
  return Number.isSafeInteger(bytes) ? bytes : null;
}
