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
  if (!prev || prev.uidvalidity !== uidvalidity) writer.resetCheckpoint(folderId, uidvalidity);
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
  ctx.tally.disappeared += writer.markGone(folderId, uidvalidity, serverUids, runId);

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
      ctx.tally.flagsUpdated += writer.updateFlags(folderId, uidvalidity, updates);
    }
  }

  const stored = writer.storedUidsAbove(folderId, uidvalidity, cp.lastUid);
  const todo = serverUids.filter((u) => u > cp.lastUid && !stored.has(u));
  let done = 0;
  let firstSkipped: number | null = null;
  report(0, todo.length, true);

  const keepCursor = (uid: number): void => {
    if (firstSkipped === null) writer.advanceCursor(folderId, uidvalidity, uid);
  };

  for (let i = 0; i < todo.length; i += RELAY_LIMITS.fetchBatchUids) {
    ctx.signal?.throwIfAborted();
    const slice = todo.slice(i, i + RELAY_LIMITS.fetchBatchUids);
    // Envelope first (no bodies): sizes decide buffered vs streamed, Message-IDs find stored content.
    const metas: MessageMeta[] = [];
    const query = { uid: true, flags: true, internalDate: true, size: true, modseq: box.highestModseq !== undefined, ...(ctx.matchStored ? { headers: ['message-id'] } : {}) };
    for await (const m of client.fetch(uidSet(slice), query, { uid: true })) {
      metas.push({
        uid: m.uid,
        uidvalidity,
        flags: [...(m.flags ?? [])],
        internalDate: m.internalDate instanceof Date ? m.internalDate : m.internalDate ? new Date(m.internalDate) : null,
        size: m.size ?? 0,
        messageId: m.headers ? messageIdOf(m.headers) : null,
        modseq: big(m.modseq),
      });
    }
    metas.sort((a, b) => a.uid - b.uid);

    let pending: MessageMeta[] = [];
    const flushSmall = async (): Promise<void> => {
      if (!pending.length) return;
      const byUid = new Map(pending.map((m) => [m.uid, m]));
      const got = new Set<number>();
      const take = (m: FetchMessageObject): void => {
        const meta = byUid.get(m.uid);
        if (!meta || !m.source) return;
        got.add(m.uid);
        if (writer.addBuffer(folderId, runId, { ...meta, messageId: meta.messageId ?? messageIdOf(m.source) }, m.source)) ctx.tally.bytes += m.source.length;
        ctx.tally.messages++;
        done++;
        keepCursor(m.uid);
        writer.maybeCommit();
        report(done, todo.length);
      };
      try {
        for await (const m of client.fetch(uidSet(pending.map((p) => p.uid)), { uid: true, source: true }, { uid: true })) take(m);
      } catch (err) {
        rethrowIfSession(err);
        // The server refused the batch: fetch one by one so one bad message does not cost the rest.
        for (const meta of pending) {
          if (got.has(meta.uid)) continue;
          try {
            const m = await client.fetchOne(String(meta.uid), { uid: true, source: true }, { uid: true });
            if (m) take(m);
          } catch (e) {
            rethrowIfSession(e);
            skip(meta.uid, e);
            firstSkipped ??= meta.uid;
          }
        }
      }
      pending = [];
    };

    for (const meta of metas) {
      const known = ctx.matchStored ? writer.findStoredContent(ctx.accountId, meta.messageId, meta.size, meta.internalDate) : undefined;
      if (known) {
        await flushSmall();
        writer.addKnown(folderId, runId, meta, known);
        ctx.tally.messages++;
        done++;
        keepCursor(meta.uid);
        writer.maybeCommit();
        continue;
      }
      if (meta.size < RELAY_LIMITS.streamThresholdBytes) {
        pending.push(meta);
        continue;
      }
      await flushSmall();
      try {
        const dl = await client.download(String(meta.uid), undefined, { uid: true, chunkSize: RELAY_LIMITS.streamChunkBytes });
        if (dl?.content) {
          if (await writer.addStream(folderId, runId, meta, dl.content as AsyncIterable<Buffer>)) ctx.tally.bytes += meta.size;
          ctx.tally.messages++;
          done++;
          keepCursor(meta.uid);
          writer.maybeCommit();
          report(done, todo.length);
        }
      } catch (err) {
        rethrowIfSession(err);
        skip(meta.uid, err);
        firstSkipped ??= meta.uid;
      }
    }
    await flushSmall();
  }

  writer.commit();
  if (firstSkipped === null) {
    const top = serverUids.length ? serverUids[serverUids.length - 1]! : 0;
    if (top > 0) writer.advanceCursor(folderId, uidvalidity, top);
    writer.completeFolder(folderId, runId, { uidvalidity, uidnext: box.uidNext ?? null, messages: box.exists, highestModseq: big(box.highestModseq) });
  }
  writer.recordRunFolder(runId, folderId, 'synced', { messages: box.exists, uidvalidity, uidnext: box.uidNext ?? null });
  report(done, todo.length, true);
}
