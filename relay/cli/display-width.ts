/**
 * Columns a string takes in a terminal: East Asian wide and full-width characters and emoji take
 * two, combining marks and joiners none (Unicode UAX #11, as wcwidth does). Written here rather
 * than taken from a package: `mailkeep search` prints with it on every run, and the packages that
 * do this bring a large emoji table into a one-shot command that must start about as fast as Node.
 */
const ZERO = /[\p{Mn}\p{Me}\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufe00-\ufe0f\ufeff]/u;
const EMOJI = /\p{Extended_Pictographic}/u;

function wide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Columns of one character (a code point). */
export function charWidth(ch: string): 0 | 1 | 2 {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  if (ZERO.test(ch)) return 0;
  return wide(cp) || (cp >= 0x1f000 && EMOJI.test(ch)) ? 2 : 1;
}

export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/** `s` cut (with "…") or padded with spaces to exactly `width` columns. */
export function fitColumns(s: string, width: number): string {
  if (displayWidth(s) <= width) return s + ' '.repeat(width - displayWidth(s));
  let out = '';
  let w = 0;
  for (const ch of s) {
    const c = charWidth(ch);
    if (w + c > width - 1) break;
    out += ch;
    w += c;
  }
  return `${out}…${' '.repeat(width - 1 - w)}`;
}
