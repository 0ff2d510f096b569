import type { FetchMessageObject, ImapFlow, ListResponse } from 'imapflow';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import type { ArchiveWriter, MessageMeta } from '../archive/archive-writer.ts';
import { messageIdOf } from '../archive/message-id.ts';
import { classifyImapError, describeImapError, isConnectionCode } from '../imap/classify-error.ts';
import { decodeMutf7 } from '../imap/mutf7.ts';
import type { BackupProgress, SkippedItem } from './types.ts';
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

export interface Tally {
  messages: number;
  bytes: number;
  foldersChecked: number;
  foldersUnchanged: number;
  flagsUpdated: number;
  disappeared: number;
  skipped: SkippedItem[];
}

const big = (v: unknown): string | null => (v === undefined || v === null || v === false ? null : String(v));

/** A folder is unchanged when STATUS matches what the last complete pass recorded. */
function unchanged(ctx: SessionContext, folderId: number, entry: ListResponse): boolean {
  const cp = ctx.writer.checkpoint(folderId);
  const st = entry.status;
  if (!cp || !st || cp.uidnext === null || st.uidValidity === undefined || st.uidNext === undefined || st.messages === undefined) return false;
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

  // The cursor only moves over UIDs whose every predecessor is stored: not past a skipped message
  // (retried next run), nor past a large one set aside to be streamed after the batch.
  let lowestDeferred = Infinity;
  const keepCursor = (uid: number): void => {
    if (firstSkipped === null && uid < lowestDeferred) writer.advanceCursor(folderId, uidvalidity, uid);
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
  const stored = (uid: number): Promise<void> | null => {
    ctx.tally.messages++;
    done++;
    keepCursor(uid);
    report(done, todo.length);
    return writer.maybeCommit();
  };
  const storeBuffer = (meta: MessageMeta, source: Buffer): Promise<void> | null => {
    if (writer.addBuffer(folderId, runId, { ...meta, messageId: meta.messageId ?? messageIdOf(source) }, source)) ctx.tally.bytes += source.length;
    return stored(meta.uid);
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
      await stored(meta.uid);
    } catch (err) {
      rethrowIfSession(err);
      skip(meta.uid, err);
      firstSkipped ??= meta.uid;
    }
  };
  /** A batch the server refused: one by one, so one bad message does not cost the rest. */
  const oneByOne = async (metas: MessageMeta[], got: Set<number>): Promise<void> => {
    for (const meta of metas) {
      if (got.has(meta.uid)) continue;
      try {
        const m = await client.fetchOne(String(meta.uid), { uid: true, source: true }, { uid: true });
        if (m && m.source) await storeBuffer(meta, m.source);
      } catch (e) {
        rethrowIfSession(e);
        skip(meta.uid, e);
        firstSkipped ??= meta.uid;
      }
    }
  };
  const modseq = box.highestModseq !== undefined;

  for (let i = 0; i < todo.length; i += RELAY_LIMITS.fetchBatchUids) {
    ctx.signal?.throwIfAborted();
    const slice = todo.slice(i, i + RELAY_LIMITS.fetchBatchUids);
    const large: MessageMeta[] = [];
    const got = new Set<number>();

    if (!ctx.matchStored) {
      // First backup of the account: one FETCH per batch for envelope and body. The body is asked
      // for up to the stream threshold only (BODY.PEEK[]<0.N>), so imapflow never buffers more than
      // that; larger messages are set aside and streamed once this FETCH is over.
      const query = { uid: true, flags: true, internalDate: true, size: true, modseq, source: { start: 0, maxLength: RELAY_LIMITS.streamThresholdBytes } };
      try {
        for await (const m of client.fetch(uidSet(slice), query, { uid: true })) {
          got.add(m.uid);
          const meta = metaOf(m);
          const src = m.source;
          if (src && (src.length < RELAY_LIMITS.streamThresholdBytes || src.length === meta.size)) {
            const wait = storeBuffer(meta, src);
            if (wait) await wait; // the disk is two groups behind: let it catch up
          } else {
            large.push(meta);
            lowestDeferred = Math.min(lowestDeferred, meta.uid);
          }
        }
      } catch (err) {
        rethrowIfSession(err);
        await oneByOne(slice.map((uid) => ({ uid, uidvalidity, flags: [], internalDate: null, size: 0, messageId: null, modseq: null })), got);
      }
    } else {
      // Incremental: envelope first, with the Message-ID, so content already stored (a folder
      // recreated under a new UIDVALIDITY, a message moved) is recognised without downloading it.
      const metas: MessageMeta[] = [];
      const query = { uid: true, flags: true, internalDate: true, size: true, modseq, headers: ['message-id'] };
      for await (const m of client.fetch(uidSet(slice), query, { uid: true })) metas.push(metaOf(m));
      metas.sort((a, b) => a.uid - b.uid);
      const small: MessageMeta[] = [];
      for (const meta of metas) {
        const known = writer.findStoredContent(ctx.accountId, meta.messageId, meta.size, meta.internalDate);
        if (known) {
          writer.addKnown(folderId, runId, meta, known);
          await stored(meta.uid);
        } else if (meta.size < RELAY_LIMITS.streamThresholdBytes) small.push(meta);
        else {
          large.push(meta);
          lowestDeferred = Math.min(lowestDeferred, meta.uid);
        }
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
          await oneByOne(small, got);
        }
      }
    }
    for (const meta of large.sort((a, b) => a.uid - b.uid)) await streamLarge(meta);
    lowestDeferred = Infinity;
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
