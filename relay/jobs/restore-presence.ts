import crypto from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { messageIdOf } from '../archive/message-id.ts';
import { hashByDownload } from '../imap/append-hash.ts';
import type { RestoreCandidate } from './restore-select.ts';

/**
 * What one destination folder already holds, so restore never appends a duplicate (design.md I5).
 *
 * Cheaper of the two options, measured (lib/limits.ts restoreSearchMaxMessages): one FETCH of the
 * whole folder's (UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]) is one round
 * trip, ~30-60 us per message in the folder; `SEARCH HEADER Message-ID` is a round trip and a scan
 * of the folder *per message to restore* (~1.5 us per folder message each). So: FETCH once for a
 * folder restore, one SEARCH per message for a few (a one-click prompt into a huge INBOX).
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

  /**
   * Reads the selected folder. For a few candidates (RELAY_LIMITS.restoreSearchMaxMessages) only
   * the messages a SEARCH finds are fetched: HEADER Message-ID on its longest whitespace-free part
   * (SEARCH is a substring match and folding may differ; the fetched header is compared exactly),
   * or, without Message-ID, the exact RFC822.SIZE. Otherwise (or without `candidates`: Migrate
   * reads a folder once for all its messages) one FETCH of the whole folder.
   */
  static async read(client: ImapFlow, exists: number, candidates?: RestoreCandidate[]): Promise<FolderPresence> {
    const p = new FolderPresence();
    if (exists === 0) return p;
    let range = '1:*';
    if (candidates && candidates.length <= RELAY_LIMITS.restoreSearchMaxMessages) {
      const uids = await searchCandidates(client, candidates);
      // null: the server refused a SEARCH (imapflow resolves false on NO/BAD). That is not "no
      // match": read the whole folder instead, or the message would be appended a second time.
      if (uids !== null) {
        if (!uids.size) return p;
        range = [...uids].sort((a, b) => a - b).join(',');
      }
    }
    for await (const m of client.fetch(range, { uid: true, size: true, internalDate: true, headers: ['message-id'] }, { uid: true })) {
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
      if (c.size >= RELAY_LIMITS.appendStreamThresholdBytes) {
        // Large: hashed in partial FETCHes, never held whole.
        for (const uid of uids) {
          const h = await hashByDownload(client, uid, c.size);
          if (h) bump(this.hashes, h);
        }
      } else
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

/** UIDs that may hold one of the candidates, or null when a SEARCH was refused. */
async function searchCandidates(client: ImapFlow, candidates: RestoreCandidate[]): Promise<Set<number> | null> {
  const uids = new Set<number>();
  for (const c of candidates) {
    const token = c.messageId ? longestToken(c.messageId) : '';
    const query = token ? { header: { 'message-id': token } } : { larger: c.size - 1, smaller: c.size + 1 };
    let hits: number[] | false | undefined;
    try {
      hits = await client.search(query, { uid: true });
    } catch (err) {
      if (!client.usable) throw err; // the session is gone: the job's retry handles it
      return null;
    }
    if (!Array.isArray(hits)) return null;
    for (const uid of hits) uids.add(uid);
  }
  return uids;
}

function longestToken(s: string): string {
  return s.split(/\s+/).reduce((a, b) => (b.length > a.length ? b : a), '');
}

function midKey(mid: string, size: number): string {
  return `${mid}\0${size}`;
}

function shapeKey(size: number, date: Date | null): string {
  return `${size}\0${date ? Math.floor(date.getTime() / 1000) : '-'}`;
}
