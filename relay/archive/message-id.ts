import { RELAY_LIMITS } from '../../lib/limits.ts';

/**
 * The Message-ID of a raw message, unfolded and trimmed, or null. Used to recognise content the
 * archive already holds without downloading it again (UIDVALIDITY change, a message moved).
 */
export function messageIdOf(raw: Buffer | string): string | null {
  const head = typeof raw === 'string' ? raw : raw.subarray(0, RELAY_LIMITS.messageIdScanBytes).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const headers = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const m = /^message-id:[ \t]*(.*)$/im.exec(headers);
  const value = m?.[1]?.trim();
  return value ? value.slice(0, 998) : null;
}
