import libmime from 'libmime';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { dateTimeFormat } from '../../lib/intl-formats.ts';

/**
 * The name of one message in an eml-zip ("INBOX/2024-05-14 Hotel booking LX-4471.eml"): the day it
 * arrived (INTERNALDATE, in `timeZone`) and its subject, so a person can tell the files apart, made
 * safe for every file system the zip may be unpacked on:
 * - characters Windows, macOS or zip tools refuse or misread (controls, < > : " / \ | ? *) become
 *   "_"; bidi controls (which can make "exe.eml" read as "lme.exe"), zero-width spaces and BOMs
 *   are dropped;
 * - no leading dot (a hidden file) and no trailing dot or space (Windows strips them);
 * - Unicode NFC (macOS would store NFD, and two spellings of one name must collide here, not there);
 * - a Windows device name (CON, NUL, COM1...) is prefixed with "_";
 * - at most RELAY_LIMITS.emlNameMaxBytes UTF-8 bytes with ".eml", cut between whole characters;
 * - unique in its folder ignoring case (macOS and Windows fold case): " (2)", " (3)"... fit the bound.
 */
export function emlEntryName(m: { subject: string | null; internalDate: Date | null }, taken: Set<string>, timeZone = 'UTC'): string {
  const day = m.internalDate ? dayOf(m.internalDate, timeZone) : null;
  const subject = safeText(m.subject ?? '') || 'no subject';
  const stem = windowsSafe(day ? `${day} ${subject}` : subject);
  const max = RELAY_LIMITS.emlNameMaxBytes - '.eml'.length;
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? '' : ` (${n})`;
    const name = `${trimEnd(cutToBytes(stem, max - Buffer.byteLength(suffix)))}${suffix}.eml`;
    const key = name.toLowerCase();
    if (!taken.has(key)) {
      taken.add(key);
      return name;
    }
  }
}

/** The Subject header of a message's header block (the bytes before the first empty line), decoded; null without one. */
export function subjectOf(head: Buffer): string | null {
  const text = head.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const block = end < 0 ? text : text.slice(0, end);
  const m = /(?:^|\n)subject:[ \t]*((?:[^\r\n]*)(?:\r?\n[ \t][^\r\n]*)*)/i.exec(block);
  if (!m) return null;
  // Raw 8-bit subjects are UTF-8 far more often than not; encoded words decode to what they say.
  const bytes = Buffer.from(m[1]!.replace(/\r?\n(?=[ \t])/g, ''), 'latin1');
  const utf8 = bytes.toString('utf8');
  const raw = utf8.includes('\ufffd') ? bytes.toString('latin1') : utf8; // not UTF-8: Latin-1 is the usual other
  try {
    return libmime.decodeWords(raw);
  } catch {
    return raw;
  }
}

function dayOf(d: Date, timeZone: string): string {
  const p = Object.fromEntries(dateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

function safeText(s: string): string {
  return s
    .normalize('NFC')
    // Bidi controls, zero-width space and BOM; not the joiners (U+200C/D), which emoji and scripts need.
    .replace(/[\u200b\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, '_')
    .trim()
    .replace(/^\.+/, (m) => '_'.repeat(m.length));
}

const DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;
const windowsSafe = (s: string): string => (DEVICE.test(s) ? `_${s}` : s);

/** Trailing dots and spaces: Windows drops them, so "a." and "a" would collide after unpacking. */
const trimEnd = (s: string): string => s.replace(/[. ]+$/, '') || '_';

function cutToBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  let bytes = 0;
  // Whole characters as a person sees them (an emoji with its joiners, a letter with its accent).
  for (const { segment: ch } of new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(s)) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > max) break;
    out += ch;
    bytes += b;
  }
  return out;
}
