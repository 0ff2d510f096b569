import type { ImapFlow } from 'imapflow';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { messageIdOf } from '../archive/message-id.ts';
import { digestByDownload, normalizedDigest, normalizedDigestOfChunks } from '../imap/append-hash.ts';
import { blobSource, type AppendRecord } from './append-records.ts';
import type { BlobReader } from './restore-blob.ts';
import type { RestoreCandidate } from './restore-select.ts';
import { uidSet } from './uid-set.ts';

/**
 * What one destination folder already holds, so restore and migrate never append a duplicate
 * (design.md I5). What counts as "the same message", and why, is docs/same-message.md:
 *
 * 1. The append record (append-records.ts): a UID Mailkeep appended this very message as, still in
 *    the folder under the same UIDVALIDITY (and with the INTERNALDATE it was sent with). No content
 *    is compared: whatever the server did to the bytes, it is the message we sent.
 * 2. With a Message-ID: the same Message-ID, INTERNALDATE (to the second) and RFC822.SIZE. When
 *    only the Message-ID matches (a server that rewrote the message changes its size: Courier's
 *    final CRLF), the normalized digests decide: the sent copy and its mailing-list echo share a
 *    Message-ID but not content, and both are kept.
 * 3. Without one: the same INTERNALDATE (to the second), then equal normalized digests
 *    (append-hash.ts: line ends as CRLF, trailing line ends ignored, 8-bit header bytes as `X`).
 *
 * Reading is the cheaper of two ways (lib/limits.ts restoreSearchMaxMessages): one FETCH of the
 * whole folder's (UID RFC822.SIZE INTERNALDATE Message-ID) is one round trip, ~30-60 us per message
 * in the folder; a SEARCH per message to restore is a round trip and a scan of the folder each. So:
 * FETCH once for a folder restore or a migrate, one SEARCH per message for a few (a one-click
 * prompt into a huge INBOX). No SEARCH by size: Courier and GNU imap4d search sizes without CRs.
 *
 * Copies are counted, not just seen: a folder that held the same message twice gets two back, and
 * each copy found on the server answers for one copy to send (each UID is claimed once).
 */
export interface PresenceSource {
  /** What is sent, as append-records.ts names it (blobSource / imapSource). */
  key: string;
  /** The NormalizedDigest of what is sent, or null when it cannot be read (then it is not found). */
  digest: () => Promise<string | null>;
}

/** One message of the destination folder, as the presence FETCH read it. */
interface Held {
  uid: number;
  size: number;
  dateSec: number | null;
  messageId: string | null;
}

export class FolderPresence {
  private readonly held = new Map<number, Held>();
  private readonly claimed = new Set<number>();
  /** UIDs the append record vouches for, by what was sent. */
  private readonly recorded = new Map<string, number[]>();
  private readonly recordedUids = new Set<number>();
  private readonly byMessageId = new Map<string, number[]>();
  /** Messages without Message-ID by INTERNALDATE second ('-' without one). */
  private readonly byDate = new Map<string, number[]>();
  private readonly digests = new Map<number, string | null>();
  /** The UID the last successful `take` claimed: where a Gmail restore adds the message's other labels. */
  lastTaken: number | null = null;

  /**
   * Reads the selected folder (`box`: its EXISTS and UIDVALIDITY). `records`: the append record of
   * this folder under this UIDVALIDITY (AppendRecords.folder). For a few `candidates`
   * (RELAY_LIMITS.restoreSearchMaxMessages) only the messages a SEARCH finds, and the recorded UIDs
   * of those candidates, are fetched: HEADER Message-ID on its longest whitespace-free part (SEARCH
   * is a substring match and folding may differ; the fetched header is compared exactly), or,
   * without Message-ID, INTERNALDATE within a day either side (SEARCH dates ignore time and zone).
   * Otherwise (or without `candidates`: migrate reads a folder once for all its messages) one FETCH
   * of the whole folder.
   */
  static async read(
    client: ImapFlow,
    box: { exists: number },
    opts: { candidates?: { c: RestoreCandidate; source?: string }[]; records?: Map<string, AppendRecord[]> } = {},
  ): Promise<FolderPresence> {
    const p = new FolderPresence();
    if (box.exists === 0) return p;
    const records = opts.records ?? new Map<string, AppendRecord[]>();
    let range = '1:*';
    const few = opts.candidates;
    if (few && few.length <= RELAY_LIMITS.restoreSearchMaxMessages) {
      const uids = await searchCandidates(client, few.map((x) => x.c));
      // null: the server refused a SEARCH (imapflow resolves false on NO/BAD), or a candidate has
      // no date to search by. That is not "no match": read the whole folder instead.
      if (uids !== null) {
        for (const x of few) for (const r of (x.source && records.get(x.source)) || []) uids.add(r.uid);
        if (!uids.size) return p;
        range = uidSet([...uids].sort((a, b) => a - b));
      }
    }
    for await (const m of client.fetch(range, { uid: true, size: true, internalDate: true, headers: ['message-id'] }, { uid: true })) {
      const h: Held = { uid: m.uid, size: m.size ?? 0, dateSec: dateSec(m.internalDate ? new Date(m.internalDate) : null), messageId: m.headers ? messageIdOf(m.headers) : null };
      p.held.set(h.uid, h);
      if (h.messageId) push(p.byMessageId, h.messageId, h.uid);
      else push(p.byDate, dateKey(h.dateSec), h.uid);
    }
    for (const [source, list] of records)
      for (const r of list) {
        const h = p.held.get(r.uid);
        // The date too: a UID is only ever the one message, but a server rebuilt at the same address
        // may reuse both the UIDVALIDITY and the UIDs.
        if (!h || (r.dateSec !== null && r.dateSec !== h.dateSec)) continue;
        push(p.recorded, source, r.uid);
        p.recordedUids.add(r.uid);
      }
    return p;
  }

  /**
   * True when the destination holds a copy of this message not yet claimed by an earlier one (the
   * copy is then claimed). `client` must still have the folder selected. Without `source` only the
   * keys are asked, and a message that needs its content compared is not found.
   */
  async take(client: ImapFlow, c: RestoreCandidate, source?: PresenceSource): Promise<boolean> {
    if (source) {
      const uid = (this.recorded.get(source.key) ?? []).find((u) => !this.claimed.has(u));
      if (uid !== undefined) return this.claim(uid);
    }
    const sec = dateSec(c.internalDate);
    let compare: number[];
    if (c.messageId) {
      const same = this.open(this.byMessageId.get(c.messageId));
      const exact = same.find((u) => this.held.get(u)!.dateSec === sec && this.held.get(u)!.size === c.size);
      if (exact !== undefined) return this.claim(exact);
      compare = same;
    } else compare = sec === null ? this.open([...this.byDate.values()].flat()) : this.open(this.byDate.get(dateKey(sec)));
    if (!compare.length || !source) return false;
    const want = await source.digest();
    if (want === null) return false;
    await this.digestAll(client, compare);
    const match = compare.find((u) => this.digests.get(u) === want);
    return match !== undefined && this.claim(match);
  }

  /** Unclaimed UIDs of `list`, those no record vouches for first (the recorded ones are someone's). */
  private open(list: number[] | undefined): number[] {
    const free = (list ?? []).filter((u) => !this.claimed.has(u));
    return [...free.filter((u) => !this.recordedUids.has(u)), ...free.filter((u) => this.recordedUids.has(u))];
  }

  private claim(uid: number): true {
    this.claimed.add(uid);
    this.lastTaken = uid;
    return true;
  }

  /** Normalized digests of these server copies, each fetched once: small ones in one FETCH, large ones in partial FETCHes. */
  private async digestAll(client: ImapFlow, uids: number[]): Promise<void> {
    const todo = uids.filter((u) => !this.digests.has(u));
    const small = todo.filter((u) => this.held.get(u)!.size < RELAY_LIMITS.appendStreamThresholdBytes).sort((a, b) => a - b);
    if (small.length)
      for await (const m of client.fetch(uidSet(small), { uid: true, source: true }, { uid: true })) if (m.source) this.digests.set(m.uid, normalizedDigest(m.source));
    for (const u of todo) {
      if (this.digests.has(u)) continue;
      const size = this.held.get(u)!.size;
      this.digests.set(u, size >= RELAY_LIMITS.appendStreamThresholdBytes ? await digestByDownload(client, u, size) : null);
    }
  }
}

/** A restore's message: the archive blob, its digest read from the pack (checked against its hash). */
export function blobPresence(blobs: BlobReader, hash: string): PresenceSource {
  return {
    key: blobSource(hash),
    digest: async () => {
      try {
        return await normalizedDigestOfChunks(blobs.stream(hash));
      } catch {
        return null; // a damaged blob is not found; the APPEND path reports it
      }
    },
  };
}

function push(m: Map<string, number[]>, k: string, uid: number): void {
  const list = m.get(k);
  if (list) list.push(uid);
  else m.set(k, [uid]);
}

function dateSec(d: Date | null): number | null {
  return d && !Number.isNaN(d.getTime()) ? Math.floor(d.getTime() / 1000) : null;
}

function dateKey(sec: number | null): string {
  return sec === null ? '-' : String(sec);
}

const DAY_MS = 86_400_000;

/** UIDs that may hold one of the candidates, or null when a SEARCH was refused or cannot be made. */
async function searchCandidates(client: ImapFlow, candidates: RestoreCandidate[]): Promise<Set<number> | null> {
  const uids = new Set<number>();
  for (const c of candidates) {
    const token = c.messageId ? longestToken(c.messageId) : '';
    if (!token && !c.internalDate) return null;
    // SINCE/BEFORE compare days in the server's zone: a day either side covers every zone.
    const day = c.internalDate ? Date.UTC(c.internalDate.getUTCFullYear(), c.internalDate.getUTCMonth(), c.internalDate.getUTCDate()) : 0;
    const query = token ? { header: { 'message-id': token } } : { since: new Date(day - DAY_MS), before: new Date(day + 2 * DAY_MS) };
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
