import type { FetchMessageObject, ImapFlow, ListResponse } from 'imapflow';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import type { ArchiveWriter, MessageMeta } from '../archive/archive-writer.ts';
import { messageIdOf } from '../archive/message-id.ts';
import { classifyImapError, describeImapError, isConnectionCode } from '../imap/classify-error.ts';
import { decodeMutf7 } from '../imap/mutf7.ts';
import type { BackupProgress, BackupResult } from './types.ts';
import { uidSet } from './uid-set.ts';

/** State shared by the folders of one backup session (one connection). */
export interface SessionContext {
  client: ImapFlow;
  writer: ArchiveWriter;
  accountId: number;
  runId: number;
  signal?: AbortSignal;
  /** True when the account already has stored mail: new messages are first matched by envelope. */
  matchStored: boolean;
  tally: Tally;
  progress: (p: BackupProgress, force?: boolean) => void;
  seenFolders: Set<number>;
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

function rethrowIfSession(err: unknown): void {
  const code = classifyImapError(err);
  if (isConnectionCode(code) || code === 'CANCELLED' || code === 'DISK_FULL' || code === 'UNKNOWN') throw err;
}

export async function backupFolder(ctx: SessionContext, entry: ListResponse, index: number, count: number): Promise<void> {
  const { client, writer, runId } = ctx;
  const rawName = entry.pathAsListed ?? entry.path;
  const name = decodeMutf7(rawName);
  const folderId = writer.upsertFolder(ctx.accountId, runId, {
    rawName,
    name,
    delimiter: entry.delimiter ?? null,
    specialUse: entry.specialUse ?? null,
  });
  ctx.seenFolders.add(folderId);
  ctx.tally.foldersChecked++;
  const report = (done: number, total: number, force = false): void =>
    ctx.progress({ folder: name, folderIndex: index, folderCount: count, done, total, messages: ctx.tally.messages, bytes: ctx.tally.bytes }, force);

  if (unchanged(ctx, folderId, entry)) {
    ctx.tally.foldersUnchanged++;
    writer.recordRunFolder(runId, folderId, 'unchanged', { messages: entry.status?.messages ?? null, uidvalidity: Number(entry.status?.uidValidity), uidnext: entry.status?.uidNext ?? null });
    report(0, 0, true);
    return;
  }

  const skip = (uid: number | null, err: unknown): void => {
    ctx.tally.skipped.push({ folder: name, uid, code: uid === null ? 'FOLDER_UNREADABLE' : 'MESSAGE_UNREADABLE', reason: describeImapError(err) });
  };

  let box;
  try {
    // readOnly -> EXAMINE: even a server that ignored PEEK could not change a flag (I1).
    box = await client.mailboxOpen(entry.path, { readOnly: true });
  } catch (err) {
    rethrowIfSession(err);
    skip(null, err);
    writer.recordRunFolder(runId, folderId, 'skipped');
    return;
  }
  const uidvalidity = Number(box.uidValidity);
  const prev = writer.checkpoint(folderId);
  if (!prev || prev.uidvalidity !== uidvalidity) await writer.resetCheckpoint(folderId, uidvalidity);
  const cp = writer.checkpoint(folderId)!;

  let serverUids: number[] = [];
  try {
    if (box.exists > 0) {
      const found = await client.search({ all: true }, { uid: true });
      serverUids = (found || []).slice().sort((a, b) => a - b);
    }
  } catch (err) {
    rethrowIfSession(err);
    skip(null, err);
    writer.recordRunFolder(runId, folderId, 'skipped');
    return;
  }
  ctx.tally.disappeared += await writer.markGone(folderId, uidvalidity, serverUids, runId);

  // Flag and keyword changes of messages already stored: CONDSTORE asks only for what changed.
  if (prev && prev.uidvalidity === uidvalidity && cp.lastUid > 0) {
    const modseq = big(box.highestModseq);
    const canCondstore = modseq !== null && prev.highestModseq !== null;
    if (!canCondstore || modseq !== prev.highestModseq) {
      const updates: { uid: number; flags: string[]; modseq: string | null }[] = [];
      const query = { uid: true, flags: true, modseq: canCondstore };
      const options = canCondstore ? { uid: true, changedSince: BigInt(prev.highestModseq!) } : { uid: true };
      for await (const m of client.fetch(`1:${cp.lastUid}`, query, options)) {
        updates.push({ uid: m.uid, flags: [...(m.flags ?? [])], modseq: big(m.modseq) });
      }
      ctx.tally.flagsUpdated += await writer.updateFlags(folderId, uidvalidity, updates);
    }
  }

  const already = writer.storedUidsAbove(folderId, uidvalidity, cp.lastUid);
  const todo = serverUids.filter((u) => u > cp.lastUid && !already.has(u));
  let done = 0;
  let firstSkipped: number | null = null;
  report(0, todo.length, true);

  // The cursor moves at the end of each batch, over UIDs whose every predecessor is stored: never
  // past a skipped message (retried next run). Within a batch, a crash is harmless: UIDs already
  // stored above the cursor are never fetched again (storedUidsAbove).
  const moveCursor = (batchTop: number): void => {
    const top = firstSkipped === null ? batchTop : Math.min(batchTop, firstSkipped - 1);
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
  });
  const stored = (): Promise<void> | null => {
    ctx.tally.messages++;
    done++;
    report(done, todo.length);
    return writer.maybeCommit();
  };
  const storeBuffer = (meta: MessageMeta, source: Buffer): Promise<void> | null => {
    if (writer.addBuffer(folderId, runId, { ...meta, messageId: meta.messageId ?? messageIdOf(source) }, source)) ctx.tally.bytes += source.length;
    return stored();
  };
  /** Large messages: partial FETCHes streamed into the pack; memory stays at one chunk. */
  const streamLarge = async (meta: MessageMeta): Promise<void> => {
    try {
      const dl = await client.download(String(meta.uid), undefined, { uid: true, chunkSize: RELAY_LIMITS.streamChunkBytes });
      if (!dl?.content) return; // expunged meanwhile: the next run sees it gone
      const head: Buffer[] = [];
      let headBytes = 0;
      const tee = async function* (): AsyncGenerator<Buffer> {
        for await (const chunk of dl.content as AsyncIterable<Buffer>) {
          if (headBytes < RELAY_LIMITS.messageIdScanBytes) {
            const part = Buffer.from(chunk.subarray(0, RELAY_LIMITS.messageIdScanBytes - headBytes)); // a copy: do not pin the chunk
            head.push(part);
            headBytes += part.length;
          }
          yield chunk;
        }
      };
      const fresh = await writer.addStream(folderId, runId, meta, tee(), () => meta.messageId ?? messageIdOf(Buffer.concat(head)));
      if (fresh) ctx.tally.bytes += meta.size;
      await stored();
    } catch (err) {
      rethrowIfSession(err);
      skip(meta.uid, err);
      firstSkipped ??= meta.uid;
    }
  };
  const modseq = box.highestModseq !== undefined;
  const envelope = { uid: true, flags: true, internalDate: true, size: true, modseq };
  const partialBody = { start: 0, maxLength: RELAY_LIMITS.streamThresholdBytes };
  /** Stores a fetched message whose body may have been cut at the threshold; returns false if it was. */
  const takeBounded = (meta: MessageMeta, src: Buffer | undefined): Promise<void> | null | false => {
    if (src && (src.length < RELAY_LIMITS.streamThresholdBytes || src.length === meta.size)) return storeBuffer(meta, src);
    return false;
  };
  /**
   * A batch the server refused (NO/BAD): one message at a time, so one unreadable message does not
   * cost the rest. It is listed as skipped and the cursor stays below it, so the next run retries.
   */
  const oneByOne = async (uids: number[], got: Set<number>, known: Map<number, MessageMeta>, large: MessageMeta[]): Promise<void> => {
    for (const uid of uids) {
      if (got.has(uid)) continue;
      try {
        const m = await client.fetchOne(String(uid), { ...envelope, source: partialBody }, { uid: true });
        if (!m) continue; // expunged meanwhile
        const meta = { ...metaOf(m), messageId: known.get(uid)?.messageId ?? null };
        const taken = takeBounded(meta, m.source);
        if (taken === false) large.push(meta);
        else if (taken) await taken;
      } catch (e) {
        rethrowIfSession(e);
        skip(uid, e);
        firstSkipped ??= uid;
      }
    }
  };

  for (let i = 0; i < todo.length; i += RELAY_LIMITS.fetchBatchUids) {
    ctx.signal?.throwIfAborted();
    const slice = todo.slice(i, i + RELAY_LIMITS.fetchBatchUids);
    const large: MessageMeta[] = [];
    const got = new Set<number>();

    if (!ctx.matchStored) {
      // First backup of the account: one FETCH per batch for envelope and body. The body is asked
      // for up to the stream threshold only (BODY.PEEK[]<0.N>), so imapflow never buffers more than
      // that; larger messages are set aside and streamed once this FETCH is over.
      try {
        for await (const m of client.fetch(uidSet(slice), { ...envelope, source: partialBody }, { uid: true })) {
          got.add(m.uid);
          const meta = metaOf(m);
          const taken = takeBounded(meta, m.source);
          if (taken === false) large.push(meta);
          else if (taken) await taken; // the disk is two groups behind: let it catch up
        }
      } catch (err) {
        rethrowIfSession(err);
        await oneByOne(slice, got, new Map(), large);
      }
    } else {
      // Incremental: envelope first, with the Message-ID, so content already stored (a folder
      // recreated under a new UIDVALIDITY, a message moved) is recognised without downloading it.
      const metas: MessageMeta[] = [];
      for await (const m of client.fetch(uidSet(slice), { ...envelope, headers: ['message-id'] }, { uid: true })) metas.push(metaOf(m));
      metas.sort((a, b) => a.uid - b.uid);
      const small: MessageMeta[] = [];
      for (const meta of metas) {
        const known = writer.findStoredContent(ctx.accountId, meta.messageId, meta.size, meta.internalDate);
        if (known) {
          writer.addKnown(folderId, runId, meta, known);
          await stored();
        } else if (meta.size < RELAY_LIMITS.streamThresholdBytes) small.push(meta);
        else large.push(meta);
      }
      if (small.length) {
        const byUid = new Map(small.map((m) => [m.uid, m]));
        try {
          for await (const m of client.fetch(uidSet(small.map((p) => p.uid)), { uid: true, source: true }, { uid: true })) {
            const meta = byUid.get(m.uid);
            if (!meta || !m.source) continue;
            got.add(m.uid);
            const wait = storeBuffer(meta, m.source);
            if (wait) await wait;
          }
        } catch (err) {
          rethrowIfSession(err);
          await oneByOne(small.map((m) => m.uid), got, byUid, large);
        }
      }
    }
    for (const meta of large.sort((a, b) => a.uid - b.uid)) await streamLarge(meta);
    moveCursor(slice[slice.length - 1]!);
  }

  await writer.flush();
  if (firstSkipped === null) {
    const top = serverUids.length ? serverUids[serverUids.length - 1]! : 0;
    if (top > 0) writer.advanceCursor(folderId, uidvalidity, top);
    await writer.completeFolder(folderId, runId, { uidvalidity, uidnext: box.uidNext ?? null, messages: box.exists, highestModseq: big(box.highestModseq) });
  }
  writer.recordRunFolder(runId, folderId, 'synced', { messages: box.exists, uidvalidity, uidnext: box.uidNext ?? null });
  report(done, todo.length, true);
}
