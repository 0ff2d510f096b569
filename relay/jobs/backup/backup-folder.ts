import type { FetchMessageObject, FetchQueryObject, ImapFlow, ListResponse } from 'imapflow';
import { PROVIDER_LIMITS, RELAY_LIMITS } from '../../../lib/limits.ts';
import { mailkeepError, type ErrorCode } from '../../../lib/protocol/error-codes.ts';
import type { ArchiveWriter, MessageMeta } from '../../archive/archive-writer.ts';
import { messageIdOf } from '../../archive/message-id.ts';
import { reclaimStreamChunks } from '../../imap/append-reclaim.ts';
import { classifyImapError, describeImapError } from '../../imap/classify-error.ts';
import { SessionDeadline } from '../../imap/session.ts';
import { drain, FolderFault, inRange, MessageFault, messageFault, openFolder } from './backup-server.ts';
import type { BackupProgress, BackupResult } from './types.ts';
import type { JobPacing } from '../pacing.ts';
import { budgetSpent } from './pause.ts';
import { sessionLimit } from '../../imap/provider-limits.ts';
import { limitError } from '../../imap/session.ts';
import { uidSet } from '../uid-set.ts';

/** Deadlines of one run (lib/limits.ts in production, small values in tests). */
export interface BackupDeadlines {
  messageBaseMs: number;
  minBytesPerSecond: number;
}

/** State shared by the folders of one backup run. */
export interface SessionContext {
  /** The current session; `reconnect` replaces it after the server dropped it. */
  client: ImapFlow;
  /** Closes the current session and logs in again (bounded per run); rejects when it cannot. */
  reconnect: () => Promise<ImapFlow>;
  writer: ArchiveWriter;
  accountId: number;
  runId: number;
  signal?: AbortSignal;
  /** True when the account already has stored mail: new messages are first matched by envelope. */
  matchStored: boolean;
  tally: Tally;
  progress: (p: BackupProgress, force?: boolean) => void;
  /** Messages still to fetch in the folders after the one at this (1-based) index, or null when unknown (backup-account.ts). */
  pendingAfter?: (index: number) => number | null;
  seenFolders: Set<number>;
  deadlines: BackupDeadlines;
  /** Set when the server gave this run's messages other UIDs than its own STATUS implied (uidsMoved). */
  uidsUnstable?: boolean;
  /**
   * Gmail mode (the server has X-GM-EXT-1, backup-account.ts): All Mail first, then every label
   * folder with envelopes only, each message recognised by its X-GM-MSGID (never downloaded twice).
   */
  gmail?: boolean;
  /** The account's daily download budget: every body byte is counted as it arrives. */
  pacing?: JobPacing;
  /** The account's previous run paused under a limit: this one measures its bytes as a first backup does. */
  resumesPause?: boolean;
  /** Bytes this first run downloads in all (size-total.ts), for the progress bar and the forecast. */
  bytesTotal?: number | null;
}

/** The counters of a run, accumulated folder by folder: exactly those fields of the result. */
export type Tally = Pick<BackupResult, 'messages' | 'bytes' | 'foldersChecked' | 'foldersUnchanged' | 'flagsUpdated' | 'disappeared' | 'skipped'>;

const big = (v: unknown): string | null => (v === undefined || v === null || v === false ? null : String(v));

/**
 * A folder is unchanged when STATUS matches what the last complete pass recorded. Only with
 * HIGHESTMODSEQ (CONDSTORE): without it STATUS cannot show a flag change, so such a server's
 * folders are always examined and their flags compared (I7: flags must survive).
 */
function unchanged(ctx: SessionContext, folderId: number, entry: ListResponse): boolean {
  const cp = ctx.writer.checkpoint(folderId);
  const st = entry.status;
  if (!cp || !st || cp.uidnext === null || st.uidValidity === undefined || st.uidNext === undefined || st.messages === undefined) return false;
  if (st.highestModseq === undefined || st.highestModseq === null) return false;
  return (
    Number(st.uidValidity) === cp.uidvalidity &&
    st.uidNext === cp.uidnext &&
    st.messages === cp.messages &&
    big(st.highestModseq) === cp.highestModseq
  );
}

/**
 * True when the server renumbered the folder between this session's STATUS (from LIST) and its
 * EXAMINE moments later: another UIDVALIDITY, or UIDs at or above STATUS's UIDNEXT while the
 * message count stayed (GNU imap4d with maildir numbers `new/` afresh on every open). Nothing is
 * done differently for it: new UIDs are matched to stored content by Message-ID, size and date,
 * and stored bytes are never written twice (content-addressed); the run says why it compared all.
 */
function uidsMoved(st: ListResponse['status'], box: { uidvalidity: number; exists: number }, serverUids: number[]): boolean {
  if (!st) return false;
  if (st.uidValidity !== undefined && Number(st.uidValidity) !== box.uidvalidity) return true;
  const next = st.uidNext;
  return next !== undefined && st.messages === box.exists && serverUids.some((u) => u >= next);
}

/** A refusal (NO/BAD) of this folder on a session that is still up: the folder is skipped, the run goes on. */
function folderRefused(ctx: SessionContext, err: unknown): boolean {
  return err instanceof FolderFault || (classifyImapError(err) === 'FOLDER_UNREADABLE' && ctx.client.usable);
}

/** Gmail's folders whose messages are downloaded (by special use): every other one is a label. */
const GMAIL_DOWNLOADED = new Set(['\\All', '\\Junk', '\\Trash']);

/** A Gmail label folder: its messages are recorded as memberships of All Mail's, not downloaded or counted. */
export function isGmailLabel(ctx: Pick<SessionContext, 'gmail'>, specialUse: string | null | undefined): boolean {
  return ctx.gmail === true && !GMAIL_DOWNLOADED.has(specialUse ?? '');
}

export async function backupFolder(ctx: SessionContext, entry: ListResponse, index: number, count: number): Promise<void> {
  const { writer, runId } = ctx;
  // Opened by the name exactly as listed; shown by imapflow's decoded name (modified UTF-7 decoded
  // only where the server uses it: with UTF8=ACCEPT or IMAP4rev2 the listed name is the name).
  const rawName = entry.pathAsListed ?? entry.path;
  const name = entry.path;
  const folderId = writer.upsertFolder(ctx.accountId, runId, {
    rawName,
    name,
    delimiter: entry.delimiter ?? null,
    // Gmail's Important folder is flagged \Important (X-GM-EXT-1), a use imapflow does not name:
    // kept, so restore knows it as a system label whatever its localized name.
    specialUse: entry.specialUse ?? (ctx.gmail && entry.flags.has('\\Important') ? '\\Important' : null),
  });
  ctx.seenFolders.add(folderId);
  ctx.tally.foldersChecked++;
  const label = isGmailLabel(ctx, entry.specialUse);
  const report = (done: number, total: number, force = false): void => {
    const after = ctx.pendingAfter?.(index) ?? null;
    // Stored in this run before this folder + this folder's count to fetch + the folders after it.
    // A Gmail label folder's memberships are not messages of the run (writer.addKnown).
    const runTotal = after === null ? null : label ? ctx.tally.messages + after : ctx.tally.messages - done + total + after;
    ctx.progress({ folder: name, folderIndex: index, folderCount: count, done, total, messages: ctx.tally.messages, bytes: ctx.tally.bytes, runTotal, bytesTotal: ctx.bytesTotal ?? null }, force);
  };

  if (unchanged(ctx, folderId, entry)) {
    ctx.tally.foldersUnchanged++;
    writer.recordRunFolder(runId, folderId, 'unchanged', { messages: entry.status?.messages ?? null, uidvalidity: Number(entry.status?.uidValidity), uidnext: entry.status?.uidNext ?? null });
    report(0, 0, true);
    return;
  }
  try {
    await syncFolder(ctx, { folderId, rawName, name, report, status: entry.status, allMail: ctx.gmail === true && entry.specialUse === '\\All' });
  } catch (err) {
    if (!folderRefused(ctx, err)) throw err;
    ctx.tally.skipped.push({ folder: name, uid: null, code: 'FOLDER_UNREADABLE', reason: err instanceof FolderFault ? err.message : describeImapError(err) });
    await writer.flush(); // what was stored before the fault stays, covered by the cursor
    writer.recordRunFolder(runId, folderId, 'skipped');
  }
}

async function syncFolder(
  ctx: SessionContext,
  f: { folderId: number; rawName: string; name: string; report: (done: number, total: number, force?: boolean) => void; status: ListResponse['status']; allMail: boolean },
): Promise<void> {
  const { writer, runId } = ctx;
  const { folderId, rawName, name, report } = f;
  const { messageBaseMs: baseMs, minBytesPerSecond } = ctx.deadlines;
  /** A message must arrive within base + size / minRate: a trickle cannot stretch it (issue 9 item 5). */
  const messageMs = (size: number): number => baseMs + (size / minBytesPerSecond) * 1000;

  const box = await openFolder(ctx.client, ctx.deadlines.messageBaseMs, rawName, name);
  const { uidvalidity } = box;
  const prev = writer.checkpoint(folderId);
  if (!prev || prev.uidvalidity !== uidvalidity) await writer.resetCheckpoint(folderId, uidvalidity);
  const cp = writer.checkpoint(folderId)!;

  let serverUids: number[] = [];
  if (box.exists > 0) {
    const client = ctx.client;
    // A UID takes at most 11 bytes in a SEARCH answer: the answer gets its own rate deadline.
    const found = await new SessionDeadline(client).run(messageMs(box.exists * 11), 'CONNECTION_TIMEOUT', `SEARCH in ${name}`, () => client.search({ all: true }, { uid: true }));
    serverUids = (found || []).slice().sort((a, b) => a - b);
    if (!serverUids.every((u) => inRange(u, 1))) throw new FolderFault(`the server listed an impossible UID in ${name}`);
  }
  if (uidsMoved(f.status, box, serverUids)) ctx.uidsUnstable = true;
  // Disappeared messages are counted once per run from the index (run-backup), by content: a
  // folder recreated under a new UIDVALIDITY with the same messages has lost nothing.
  await writer.markGone(folderId, uidvalidity, serverUids, runId);

  // Stored above the cursor: a crash after a commit, or the messages after one the server still
  // owes (the cursor waits below it). Their flags are followed like the rest.
  const already = writer.storedUidsAbove(folderId, uidvalidity, cp.lastUid);
  let storedTop = cp.lastUid;
  for (const u of already) if (u > storedTop) storedTop = u; // no spread: the set can hold a whole folder
  // Flag and keyword changes of messages already stored: CONDSTORE asks only for what changed.
  if (prev && prev.uidvalidity === uidvalidity && storedTop > 0) {
    const modseq = box.highestModseq;
    const canCondstore = modseq !== null && prev.highestModseq !== null;
    if (!canCondstore || modseq !== prev.highestModseq) {
      const updates: { uid: number; flags: string[]; modseq: string | null }[] = [];
      const labelUpdates: { uid: number; labels: string[] }[] = [];
      // All Mail's labels are followed like flags: a label added or removed since changes them.
      const query = { uid: true, flags: true, modseq: canCondstore, ...(f.allMail ? { labels: true } : {}) };
      const client = ctx.client;
      const dl = new SessionDeadline(client);
      dl.arm(baseMs, 'CONNECTION_TIMEOUT', `FLAGS in ${name}`);
      try {
        const options = canCondstore ? { uid: true, changedSince: BigInt(prev.highestModseq!) } : { uid: true };
        for await (const m of client.fetch(`1:${storedTop}`, query, options)) {
          updates.push({ uid: m.uid, flags: [...(m.flags ?? [])], modseq: big(m.modseq) });
          if (f.allMail && m.labels) labelUpdates.push({ uid: m.uid, labels: [...m.labels] });
          dl.arm(baseMs, 'CONNECTION_TIMEOUT', `FLAGS in ${name}`);
        }
      } catch (err) {
        throw dl.expired ?? err;
      } finally {
        dl.clear();
      }
      ctx.tally.flagsUpdated += await writer.updateFlags(folderId, uidvalidity, updates);
      await writer.updateLabels(folderId, uidvalidity, labelUpdates);
    }
  }

  const todo = serverUids.filter((u) => u > cp.lastUid && !already.has(u));
  let done = 0;
  let lowestSkipped: number | null = null;
  /** Messages in a row whose fault took the session down (see backupMaxConsecutiveDrops). */
  let drops = 0;
  report(0, todo.length, true);

  const skip = (uid: number, code: ErrorCode, reason: string): void => {
    ctx.tally.skipped.push({ folder: name, uid, code, reason });
    lowestSkipped = lowestSkipped === null ? uid : Math.min(lowestSkipped, uid);
  };
  // The cursor moves at the end of each batch, over UIDs whose every predecessor is stored: never
  // past a message the server owes us (it is retried next run, and named until it arrives). Within
  // a batch, a crash is harmless: UIDs already stored above the cursor are never fetched again.
  const moveCursor = (batchTop: number): void => {
    const top = lowestSkipped === null ? batchTop : Math.min(batchTop, lowestSkipped - 1);
    if (top > 0) writer.advanceCursor(folderId, uidvalidity, top);
  };

  const metaOf = (m: FetchMessageObject): MessageMeta => ({
    uid: m.uid,
    uidvalidity,
    flags: [...(m.flags ?? [])],
    internalDate: m.internalDate instanceof Date ? m.internalDate : m.internalDate ? new Date(m.internalDate) : null,
    size: m.size ?? 0,
    messageId: m.headers ? messageIdOf(m.headers) : null,
    modseq: big(m.modseq),
    ...(ctx.gmail && m.emailId ? { gmail: { msgId: String(m.emailId), threadId: m.threadId ? String(m.threadId) : null, labels: m.labels ? [...m.labels].sort() : null } } : {}),
  });
  /**
   * Content already stored for this membership: on Gmail by X-GM-MSGID (a label folder's copy of a
   * message fetched from All Mail, or a label added since), else by envelope on an incremental run.
   */
  const knownContent = (meta: MessageMeta): { hash: string; messageId: string | null } | undefined => {
    const gm = meta.gmail ? writer.findGmailContent(ctx.accountId, meta.gmail.msgId) : undefined;
    if (gm) return gm;
    const hash = ctx.matchStored ? writer.findStoredContent(ctx.accountId, meta.messageId, meta.size, meta.internalDate) : undefined;
    return hash === undefined ? undefined : { hash, messageId: meta.messageId };
  };
  const addKnown = (meta: MessageMeta, known: { hash: string; messageId: string | null }): void =>
    writer.addKnown(folderId, runId, { ...meta, messageId: meta.messageId ?? known.messageId }, known.hash);
  /** `counted`: a new message of the run (not another Gmail label of a stored one: writer.addKnown). */
  const stored = (counted = true): Promise<void> | null => {
    if (counted) ctx.tally.messages++;
    done++;
    report(done, todo.length);
    const wait = writer.maybeCommit();
    // The day's budget is spent: stop here (what arrived is kept; runBackup flushes and pauses).
    const pacing = ctx.pacing;
    if (pacing?.spent())
      return (async () => {
        report(done, todo.length, true); // the bar and the forecast keep the bytes this run got
        if (wait) await wait;
        throw budgetSpent(pacing);
      })();
    return wait;
  };
  const storeBuffer = (meta: MessageMeta, source: Buffer): Promise<void> | null => {
    ctx.pacing?.took(source.length);
    if (writer.addBuffer(folderId, runId, { ...meta, messageId: meta.messageId ?? messageIdOf(source) }, source)) ctx.tally.bytes += source.length;
    return stored();
  };
  const sizeMismatch = (uid: number, got: number, announced: number): MessageFault =>
    new MessageFault('MESSAGE_SIZE_MISMATCH', `UID ${uid}: the server sent ${got} bytes but announced ${announced} (RFC822.SIZE)`);

  /** One server command for one message, under a deadline; its failure is that message's fault. */
  const ask = async <T>(ms: number, what: string, work: (client: ImapFlow) => Promise<T>): Promise<T> => {
    const client = ctx.client;
    try {
      return await new SessionDeadline(client).run(ms, 'MESSAGE_TOO_SLOW', what, () => work(client));
    } catch (err) {
      ctx.signal?.throwIfAborted();
      throw messageFault(err, client);
    }
  };
  /** The server said stop on this session (a limit signal): no other command, no new login; the run pauses. */
  const stopOnLimit = (): void => {
    const limit = sessionLimit(ctx.client);
    if (limit) throw limitError(limit, name);
  };
  /** Nothing came for a UID: expunged meanwhile (nothing owed) or left out by the server (named, retried). */
  const missing = async (uid: number): Promise<void> => {
    const still = await ask(baseMs, `SEARCH UID ${uid}`, (c) => c.search({ uid: String(uid) }, { uid: true }));
    if (still && still.includes(uid)) throw new MessageFault('MESSAGE_MISSING', `UID ${uid}: the server lists it but answered OK without sending it`);
  };
  /** The session is gone (dropped, or closed by a deadline): log in again and re-open this folder. */
  const ensureOpen = async (): Promise<void> => {
    if (ctx.client.usable) return;
    stopOnLimit();
    await ctx.reconnect();
    const again = await openFolder(ctx.client, ctx.deadlines.messageBaseMs, rawName, name);
    if (again.uidvalidity !== uidvalidity) throw mailkeepError('CONNECTION_LOST', `${name} changed its UIDVALIDITY during the backup`);
  };

  const modseq = box.highestModseq !== null;
  // (imapflow takes `modseq` though its FetchQueryObject type does not list it.)
  // Gmail: X-GM-MSGID comes with every FETCH (imapflow asks for it); the thread id is asked for, and
  // All Mail's labels (a label folder's copy needs none: the folder is the label).
  const gmailQuery = ctx.gmail ? { threadId: true, ...(f.allMail ? { labels: true } : {}) } : {};
  const metaQuery = { uid: true, flags: true, internalDate: true, size: true, modseq, ...gmailQuery, ...(ctx.matchStored ? { headers: ['message-id'] } : {}) } as FetchQueryObject;
  // Capped at the threshold: a server announcing a small size cannot make imapflow buffer more.
  const bodyQuery: FetchQueryObject = { uid: true, source: { start: 0, maxLength: RELAY_LIMITS.streamThresholdBytes } };

  // Envelope and body in one FETCH (step 0 below); a body is capped at the stream threshold, so its
  // deadline is that of the largest message such a FETCH can carry.
  const combinedQuery = { ...metaQuery, source: { start: 0, maxLength: RELAY_LIMITS.streamThresholdBytes } } as FetchQueryObject;
  const smallMs = messageMs(RELAY_LIMITS.streamThresholdBytes);
  /** UIDs of `slice` at or above the stream threshold, by SEARCH LARGER; null when the server
   * refuses that SEARCH (then every envelope is fetched first, as on an incremental run). */
  const largeUids = async (slice: number[]): Promise<Set<number> | null> => {
    await ensureOpen();
    try {
      const found = await new SessionDeadline(ctx.client).run(baseMs, 'CONNECTION_TIMEOUT', `SEARCH LARGER in ${name}`, () =>
        ctx.client.search({ uid: uidSet(slice), larger: RELAY_LIMITS.streamThresholdBytes - 1 }, { uid: true }),
      );
      return Array.isArray(found) ? new Set(found) : null;
    } catch (err) {
      ctx.signal?.throwIfAborted();
      if (!ctx.client.usable) throw err;
      return null;
    }
  };

  /** Large messages: partial FETCHes streamed into the pack; memory stays at one chunk. */
  const streamLarge = async (meta: MessageMeta): Promise<void> => {
    const client = ctx.client;
    const dl = new SessionDeadline(client);
    const what = `UID ${meta.uid} (${meta.size} bytes)`;
    const serverFault = (err: unknown): unknown => {
      if (ctx.signal?.aborted) return err;
      return messageFault(dl.expired ?? err, client);
    };
    dl.arm(messageMs(meta.size), 'MESSAGE_TOO_SLOW', what);
    try {
      let dlResult;
      try {
        dlResult = await client.download(String(meta.uid), undefined, { uid: true, chunkSize: RELAY_LIMITS.streamChunkBytes });
      } catch (err) {
        throw serverFault(err);
      }
      if (!dlResult?.content) {
        dl.clear();
        return await missing(meta.uid);
      }
      const content = dlResult.content as AsyncIterable<Buffer>;
      const head: Buffer[] = [];
      let headBytes = 0;
      let total = 0;
      let reclaimed = 0;
      const tee = async function* (): AsyncGenerator<Buffer> {
        const it = content[Symbol.asyncIterator]();
        for (;;) {
          let r: IteratorResult<Buffer>;
          try {
            r = await it.next();
          } catch (err) {
            throw serverFault(err);
          }
          if (r.done) break;
          const chunk = r.value;
          total += chunk.length;
          ctx.pacing?.took(chunk.length);
          if (total > meta.size) throw sizeMismatch(meta.uid, total, meta.size);
          if (headBytes < RELAY_LIMITS.messageIdScanBytes) {
            const part = Buffer.from(chunk.subarray(0, RELAY_LIMITS.messageIdScanBytes - headBytes)); // a copy: do not pin the chunk
            head.push(part);
            headBytes += part.length;
          }
          yield chunk;
          // The chunk is in the pack: free the dead FETCH buffers before they pile up (see append-reclaim.ts).
          if (total - reclaimed >= RELAY_LIMITS.streamReclaimEveryBytes) {
            reclaimed = total;
            reclaimStreamChunks();
          }
        }
        if (total !== meta.size) throw sizeMismatch(meta.uid, total, meta.size);
      };
      const fresh = await writer.addStream(folderId, runId, meta, tee(), () => meta.messageId ?? messageIdOf(Buffer.concat(head)));
      if (fresh) ctx.tally.bytes += meta.size;
      await stored();
    } finally {
      dl.clear();
    }
  };

  // A server sends a FETCH's whole answer even when the run stops reading because the budget is
  // spent, and the provider counts those bytes: under a budget each body FETCH asks for at most a
  // small share of a day's bytes, so a pause wastes at most that much.
  const pacedFetchBytes = ctx.pacing?.dailyBytes ? Math.max(1, Math.floor(ctx.pacing.dailyBytes / PROVIDER_LIMITS.pacedFetchesPerDay)) : null;
  const pacedParts = (uids: number[], sizeOf: (uid: number) => number): number[][] => {
    if (pacedFetchBytes === null) return [uids];
    const parts: number[][] = [];
    let part: number[] = [];
    let bytes = 0;
    for (const uid of uids) {
      if (part.length && bytes + sizeOf(uid) > pacedFetchBytes) {
        parts.push(part);
        part = [];
        bytes = 0;
      }
      part.push(uid);
      bytes += sizeOf(uid);
    }
    if (part.length) parts.push(part);
    return parts;
  };

  for (let i = 0; i < todo.length; i += RELAY_LIMITS.fetchBatchUids) {
    ctx.signal?.throwIfAborted();
    const slice = todo.slice(i, i + RELAY_LIMITS.fetchBatchUids);
    const asked = new Set(slice);
    /** UIDs of the batch neither stored nor skipped yet. */
    const pending = new Set(slice);
    const metas = new Map<number, MessageMeta>();

    /** One message on its own (envelope if not known yet, then body): stored, or skipped with its cause. */
    const one = async (uid: number): Promise<void> => {
      await ensureOpen();
      let meta = metas.get(uid);
      if (!meta) {
        const m = await ask(baseMs, `the envelope of UID ${uid}`, (c) => c.fetchOne(String(uid), metaQuery, { uid: true }));
        if (!m || m.uid !== uid) return await missing(uid);
        meta = metaOf(m);
        const known = knownContent(meta);
        if (known) {
          addKnown(meta, known);
          return void (await stored(!meta.gmail));
        }
      }
      if (meta.size >= RELAY_LIMITS.streamThresholdBytes) return await streamLarge(meta);
      const m = await ask(messageMs(meta.size), `UID ${uid} (${meta.size} bytes)`, (c) => c.fetchOne(String(uid), bodyQuery, { uid: true }));
      if (!m || !m.source) return await missing(uid);
      if (m.source.length !== meta.size) throw sizeMismatch(uid, m.source.length, meta.size);
      await storeBuffer(meta, m.source);
    };
    const alone = async (uid: number): Promise<void> => {
      ctx.signal?.throwIfAborted();
      try {
        await one(uid);
        drops = 0;
      } catch (err) {
        if (!(err instanceof MessageFault)) throw err;
        stopOnLimit();
        if (err.sessionCode && ++drops >= RELAY_LIMITS.backupMaxConsecutiveDrops)
          throw mailkeepError(err.sessionCode, `${drops} messages in a row took the connection down in ${name}: ${err.message}`);
        if (!err.sessionCode) drops = 0;
        skip(uid, err.code, err.message);
      } finally {
        pending.delete(uid);
      }
    };
    /**
     * One FETCH for all of `uids`; where it fails or comes back short, the lowest UID still owed is
     * where it went wrong (answers come in UID order): that one is taken alone, the rest goes back
     * to one FETCH. So a bad message costs itself plus one round trip, and a good batch nothing more.
     */
    const narrowing = async (uids: number[], owed: (uid: number) => boolean, bulk: (want: number[]) => Promise<unknown>): Promise<void> => {
      let want = uids.filter(owed);
      while (want.length) {
        const err = await bulk(want);
        if (err) stopOnLimit();
        const left = want.filter(owed);
        if (!left.length) return;
        if (!err) {
          // Answered OK, yet short (left out, or a length that does not match): ask for each alone.
          for (const uid of left) await alone(uid);
          return;
        }
        await alone(left[0]!);
        await ensureOpen();
        want = left.slice(1).filter(owed);
      }
    };

    // 0. Where nothing stored can match (a first backup), envelope and body come in one FETCH: a
    // second FETCH of 20,000 envelopes cost about half as much again as the bodies' own. Messages
    // the server says are large (SEARCH LARGER) are left to the envelope FETCH and streamed, so
    // their first 4 MiB are not fetched twice; a body whose length is not its RFC822.SIZE (a server
    // that counts sizes otherwise, a short literal) stays owed and goes the checked way below.
    // Gmail label folders (and Spam, Trash) take the envelope way: most of their messages are known
    // by X-GM-MSGID from All Mail, and only the unknown ones are downloaded.
    // Under a daily budget too: the envelopes' sizes let step 2 keep each body FETCH small (below).
    const large = ctx.matchStored || (ctx.gmail && !f.allMail) || pacedFetchBytes !== null ? null : await largeUids(slice);
    if (large) {
      const combined = slice.filter((uid) => !large.has(uid));
      await narrowing(
        combined,
        (uid) => pending.has(uid) && !metas.has(uid),
        (want) =>
          drain(ctx.client, uidSet(want), combinedQuery, smallMs, 'MESSAGE_TOO_SLOW', `messages in ${name}`, async (m) => {
            if (!inRange(m.uid, 1)) throw new FolderFault(`the server sent an impossible UID in ${name}`);
            if (!asked.has(m.uid) || metas.has(m.uid)) return smallMs;
            const meta = metaOf(m);
            metas.set(m.uid, meta);
            if (!pending.has(m.uid) || meta.size >= RELAY_LIMITS.streamThresholdBytes || !m.source || m.source.length !== meta.size) return smallMs;
            pending.delete(m.uid);
            const wait = storeBuffer(meta, m.source);
            if (wait) await wait;
            return smallMs;
          }),
      );
    }

    // 1. Envelopes (RFC822.SIZE is what each body is checked against), with the Message-ID on an
    // incremental run so content already stored (a folder recreated under a new UIDVALIDITY, a
    // message moved) is recognised without downloading it.
    await narrowing(
      slice,
      (uid) => pending.has(uid) && !metas.has(uid),
      (want) =>
        drain(ctx.client, uidSet(want), metaQuery, baseMs, 'CONNECTION_TIMEOUT', `envelopes in ${name}`, (m) => {
          if (!inRange(m.uid, 1)) throw new FolderFault(`the server sent an impossible UID in ${name}`);
          if (asked.has(m.uid) && !metas.has(m.uid)) metas.set(m.uid, metaOf(m));
          return baseMs;
        }),
    );

    // 2. Bodies below the stream threshold in one FETCH; a body is stored only when its length is
    // exactly the size announced for its UID.
    const small: number[] = [];
    for (const uid of slice) {
      const meta = metas.get(uid);
      if (!meta || !pending.has(uid)) continue;
      const known = knownContent(meta);
      if (known) {
        addKnown(meta, known);
        pending.delete(uid);
        const wait = stored(!meta.gmail);
        if (wait) await wait;
      } else if (meta.size < RELAY_LIMITS.streamThresholdBytes) small.push(uid);
    }
    for (const part of pacedParts(small, (uid) => metas.get(uid)!.size)) await narrowing(part, (uid) => pending.has(uid), (want) => {
      let next = 0; // the next UID expected, for its deadline
      const nextMs = (): number => {
        while (next < want.length && !pending.has(want[next]!)) next++;
        return messageMs(metas.get(want[next] ?? want[0]!)!.size);
      };
      return drain(ctx.client, uidSet(want), bodyQuery, nextMs(), 'MESSAGE_TOO_SLOW', `messages in ${name}`, async (m) => {
        const meta = metas.get(m.uid);
        if (!meta || !pending.has(m.uid) || !m.source || m.source.length !== meta.size) return nextMs(); // still owed: narrowed
        pending.delete(m.uid);
        const wait = storeBuffer(meta, m.source);
        if (wait) await wait; // the disk is two groups behind: let it catch up
        return nextMs();
      });
    });

    // 3. Large messages, streamed one by one as always (and anything still owed).
    for (const uid of [...pending].sort((a, b) => a - b)) await alone(uid);
    await ensureOpen(); // the last message may have taken the session down: leave the next batch a live one
    moveCursor(slice[slice.length - 1]!);
  }

  await writer.flush();
  if (lowestSkipped === null) {
    const top = serverUids.length ? serverUids[serverUids.length - 1]! : 0;
    if (top > 0) writer.advanceCursor(folderId, uidvalidity, top);
    await writer.completeFolder(folderId, runId, { uidvalidity, uidnext: box.uidNext, messages: box.exists, highestModseq: box.highestModseq });
  }
  writer.recordRunFolder(runId, folderId, 'synced', { messages: box.exists, uidvalidity, uidnext: box.uidNext });
  report(done, todo.length, true);
}
