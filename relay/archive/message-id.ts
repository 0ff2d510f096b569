import { RELAY_LIMITS } from '../../lib/limits.ts';

/**
 * The Message-ID of a raw message, unfolded and trimmed, or null. Used to recognise content the
 * archive already holds without downloading it again (UIDVALIDITY change, a message moved).
 * Only the header block is decoded: converting whole bodies to strings cost more CPU per backup
 * than hashing them.
 */
export function messageIdOf(raw: Buffer | string): string | null {
  let head: string;
  if (typeof raw === 'string') head = raw;
  else {
    const scan = raw.subarray(0, RELAY_LIMITS.messageIdScanBytes);
    const crlf = scan.indexOf('\r\n\r\n');
    // CRLF mail has no bare blank line before its header end: look for one only up to there, not
    // through the whole window (that second scan was a measurable share of backup CPU).
    const lf = (crlf >= 0 ? scan.subarray(0, crlf) : scan).indexOf('\n\n');
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
    head = scan.subarray(0, end >= 0 ? end : scan.length).toString('latin1');
  }
  const end = head.search(/\r?\n\r?\n/);
  const headers = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const m = /^message-id:[ \t]*(.*)$/im.exec(headers);
  const value = m?.[1]?.trim();
  return value ? value.slice(0, 998) : null;
}
