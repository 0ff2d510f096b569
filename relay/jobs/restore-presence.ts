import crypto from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { messageIdOf } from '../archive/message-id.ts';
import type { RestoreCandidate } from './restore-select.ts';

/**
 * What one destination folder already holds, so restore never appends a duplicate (design.md I5).
 *
 * Cheaper of the two options: one FETCH of the whole folder's (UID RFC822.SIZE INTERNALDATE
 * BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]) is one round trip and a few hundred bytes per message
 * (~0.1 ms each on Dovecot), while `SEARCH HEADER Message-ID` is a round trip *per message* and,
 * without a full-text index, a scan of the folder per search: O(n x m).
 *
 * Keys:
 * - with a Message-ID: Message-ID + size. The size keeps two different messages that share a
 *   Message-ID (a sent copy and its mailing-list echo) apart, so neither is taken for the other.
 *   A server that rewrites messages on APPEND would defeat it; Dovecot, Cyrus and Gmail store the
 *   literal as sent, and the archive holds the server's own bytes.
 * - without one: size + INTERNALDATE (to the second) select candidates, whose bodies are then
 *   fetched once and hashed: equal SHA-256 is equal content.
 *
 * Copies are counted, not just seen: a folder that held the same message twice gets two back, and
 * each copy found on the server answers for one archived copy.
 */
export class FolderPresence {
  private readonly byMessageId = new Map<string, number>();
  /** size + date -> UIDs whose content hash is not known yet. */
  private readonly unhashed = new Map<string, number[]>();
  private readonly hashes = new Map<string, number>();

  /** Reads the folder (must be selected); `exists` 0 skips the FETCH. */
  static async read(client: ImapFlow, exists: number): Promise<FolderPresence> {
    const p = new FolderPresence();
    if (exists === 0) return p;
    for await (const m of client.fetch('1:*', { uid: true, size: true, internalDate: true, headers: ['message-id'] }, { uid: true })) {
      const mid = m.headers ? messageIdOf(m.headers) : null;
      const date = m.internalDate ? new Date(m.internalDate) : null;
      if (mid) bump(p.byMessageId, midKey(mid, m.size ?? 0));
      else {
        const k = shapeKey(m.size ?? 0, date);
        const list = p.unhashed.get(k);
        if (list) list.push(m.uid);
        else p.unhashed.set(k, [m.uid]);
      }
    }
    return p;
  }

  /**
   * True when the destination holds a copy of this message not yet claimed by an earlier
   * candidate (the copy is then claimed). `client` must still have the folder selected.
   */
  async take(client: ImapFlow, c: RestoreCandidate): Promise<boolean> {
    if (c.messageId) return claim(this.byMessageId, midKey(c.messageId, c.size));
    const k = shapeKey(c.size, c.internalDate);
    const uids = this.unhashed.get(k);
    if (uids?.length) {
      this.unhashed.delete(k);
      for await (const m of client.fetch(uids.join(','), { uid: true, source: true }, { uid: true }))
        if (m.source) bump(this.hashes, crypto.createHash('sha256').update(m.source).digest('hex'));
    }
    return claim(this.hashes, c.hash);
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function claim(m: Map<string, number>, k: string): boolean {
  const n = m.get(k) ?? 0;
  if (n <= 0) return false;
  m.set(k, n - 1);
  return true;
}

function midKey(mid: string, size: number): string {
  return `${mid}\0${size}`;
}

function shapeKey(size: number, date: Date | null): string {
  return `${size}\0${date ? Math.floor(date.getTime() / 1000) : '-'}`;
}
