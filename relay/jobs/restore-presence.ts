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
 */
export class FolderPresence {
  private readonly byMessageId = new Set<string>();
  /** size + date -> UIDs whose content hash is not known yet. */
  private readonly unhashed = new Map<string, number[]>();
  private readonly hashes = new Set<string>();

  /** Reads the folder (must be selected); `exists` 0 skips the FETCH. */
  static async read(client: ImapFlow, exists: number): Promise<FolderPresence> {
    const p = new FolderPresence();
    if (exists === 0) return p;
    for await (const m of client.fetch('1:*', { uid: true, size: true, internalDate: true, headers: ['message-id'] }, { uid: true })) {
      const mid = m.headers ? messageIdOf(m.headers) : null;
      const date = m.internalDate ? new Date(m.internalDate) : null;
      if (mid) p.byMessageId.add(midKey(mid, m.size ?? 0));
      else {
        const k = shapeKey(m.size ?? 0, date);
        const list = p.unhashed.get(k);
        if (list) list.push(m.uid);
        else p.unhashed.set(k, [m.uid]);
      }
    }
    return p;
  }

  /** True when the destination already holds this message. `client` must still have the folder selected. */
  async has(client: ImapFlow, c: RestoreCandidate): Promise<boolean> {
    if (c.messageId) return this.byMessageId.has(midKey(c.messageId, c.size));
    if (this.hashes.has(c.hash)) return true;
    const k = shapeKey(c.size, c.internalDate);
    const uids = this.unhashed.get(k);
    if (!uids?.length) return false;
    this.unhashed.delete(k);
    for await (const m of client.fetch(uids.join(','), { uid: true, source: true }, { uid: true }))
      if (m.source) this.hashes.add(crypto.createHash('sha256').update(m.source).digest('hex'));
    return this.hashes.has(c.hash);
  }

  /** Records a message appended in this run, so a second candidate with the same key is not appended too. */
  add(c: RestoreCandidate): void {
    if (c.messageId) this.byMessageId.add(midKey(c.messageId, c.size));
    else this.hashes.add(c.hash);
  }
}

function midKey(mid: string, size: number): string {
  return `${mid}\0${size}`;
}

function shapeKey(size: number, date: Date | null): string {
  return `${size}\0${date ? Math.floor(date.getTime() / 1000) : '-'}`;
}
