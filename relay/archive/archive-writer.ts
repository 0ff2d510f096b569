import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { lockArchive, type HeldLock } from '../lock/lock-file.ts';
import { archivePathError, archivePathInvalid } from './archive-path-error.ts';
import { JournalAppender, JOURNAL_FILE_NO, journalFile } from './journal.ts';
import { applyBatch, splitFlags, type JournalOp } from './journal-ops.ts';
import { openIndexForWriting, packFiles, type OpenedIndex } from './journal-recovery.ts';
import { KnownHashes } from './known-hashes.ts';
import { PackAppender, packFileName } from './pack-file.ts';
import type { Db } from './schema.ts';

/**
 * The one writer of an archive (it holds the lock). Messages are staged, then made durable in
 * groups: pack fsync, then one journal record (fsync) with every fact of the group, then one SQLite
 * transaction applying that record: blob rows, membership rows and the folder cursors that cover
 * them (I2, I3). The journal and the packs are the truth; the index can be rebuilt from them. A crash loses at most the uncommitted group, which the
 * next run fetches again because no cursor moved past it.
 *
 * The fsync of a sealed group runs in the thread pool while the next group is being received, so
 * the disk and the network overlap; groups are applied to the index strictly in order. Every
 * method that reads or changes index state first waits for the sealed groups (`flush`).
 */

export interface FolderInfo {
  rawName: string;
  name: string;
  delimiter: string | null;
  specialUse: string | null;
}

export interface Checkpoint {
  uidvalidity: number;
  lastUid: number;
  highestModseq: string | null;
  uidnext: number | null;
  messages: number | null;
}

export interface MessageMeta {
  uid: number;
  uidvalidity: number;
  /** System flags (\Seen ...) and keywords ($Label1 ...) as the server reported them. */
  flags: string[];
  internalDate: Date | null;
  size: number;
  messageId: string | null;
  modseq: string | null;
  /** Gmail (X-GM-EXT-1): X-GM-MSGID, X-GM-THRID and X-GM-LABELS as fetched (labels null when not asked for). */
  gmail?: { msgId: string; threadId: string | null; labels: string[] | null };
}

interface Group {
  pack: PackAppender | null;
  ops: JournalOp[];
  blobs: Set<string>;
  /** A pack that reached its size limit: closed once this group is durable. */
  closePack: PackAppender | null;
}

export class ArchiveWriter {
  private pack: PackAppender | null = null;
  /** Ops staged since the last seal, in the order they happened: the next journal record. */
  private ops: JournalOp[] = [];
  private stagedCount = 0;
  private stagedBlobs = new Set<string>();
  private cursors = new Map<number, { uidvalidity: number; lastUid: number }>();
  private stagedBytes = 0;
  private lastCommit = Date.now();
  private runCounters = new Map<number, { messages: number; bytes: number }>();
  private closed = false;
  /** Sealed groups whose fsync or index transaction is still running, applied in order. */
  private inFlight: Promise<void> = Promise.resolve();
  private inFlightCount = 0;
  /** Sealed groups not yet in the index: their blobs count as known (no second copy). */
  private sealedGroups = new Set<Group>();
  private failure: unknown = null;
  private known: KnownHashes;
  readonly packsDir: string;
  private stmts: ReturnType<ArchiveWriter['prepare']>;
  /** Ids are the writer's to choose (and the journal carries them), so a replay reproduces them. */
  private nextId: { account: number; run: number; folder: number };
  private accountIds = new Map<string, number>();
  private folderIds = new Map<string, number>();
  private folderAccount = new Map<number, number>();
  private nextPackId: number;
  private reuse: { id: number; end: number } | null;
  /** X-GM-MSGID -> blob of memberships staged by this writer (not yet in the index, or just committed). */
  private gmailStaged = new Map<string, { hash: string; messageId: string | null }>();

  private constructor(
    readonly dir: string,
    readonly db: Db,
    private readonly journal: JournalAppender,
    private readonly lock: HeldLock,
    private readonly groupMessages: number,
    packEnds: Map<number, number>,
  ) {
    this.packsDir = path.join(dir, 'packs');
    this.stmts = this.prepare();
    this.known = new KnownHashes(() => this.db.prepare<[], string>('SELECT hash FROM blobs').pluck().iterate());
    const max = (t: string) => this.db.prepare<[], number>(`SELECT COALESCE(MAX(id), 0) FROM ${t}`).pluck().get()!;
    this.nextId = { account: max('accounts') + 1, run: max('runs') + 1, folder: max('folders') + 1 };
    for (const a of this.db.prepare<[], { id: number; host: string; port: number; user: string }>('SELECT id, host, port, user FROM accounts').all())
      this.accountIds.set(accountKey(a.host, a.port, a.user), a.id);
    for (const f of this.db.prepare<[], { id: number; account_id: number; raw_name: string }>('SELECT id, account_id, raw_name FROM folders').all()) {
      this.folderIds.set(`${f.account_id}\0${f.raw_name}`, f.id);
      this.folderAccount.set(f.id, f.account_id);
    }
    // Pack ids stay above every pack file, known or not: an unknown pack is never written into.
    const fileMax = packFiles(dir).reduce((m, p) => Math.max(m, p.id), 0);
    const knownMax = [...packEnds.keys()].reduce((m, id) => Math.max(m, id), 0);
    this.nextPackId = Math.max(fileMax, knownMax);
    const lastEnd = packEnds.get(knownMax);
    this.reuse = knownMax > 0 && lastEnd !== undefined && lastEnd < RELAY_LIMITS.packMaxBytes ? { id: knownMax, end: lastEnd } : null;
  }

  /** `groupCommitMessages` tunes the group size (smaller: less refetched after a crash; larger: fewer fsyncs). */
  static open(dir: string, opts: { groupCommitMessages?: number } = {}): ArchiveWriter {
    // A file where the folder or index belongs is refused before anything is created or locked.
    const invalid = archivePathInvalid(dir);
    if (invalid) throw invalid;
    let lock: HeldLock;
    try {
      // A new archive directory is private, like everything in it (mail of possibly many accounts).
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.mkdirSync(path.join(dir, 'packs'), { recursive: true, mode: 0o700 });
      lock = lockArchive(dir);
    } catch (err) {
      throw archivePathError(dir, err) ?? err;
    }
    let opened: OpenedIndex | undefined;
    try {
      opened = openIndexForWriting(dir);
      const journal = new JournalAppender(journalFile(dir), opened.journalSize);
      return new ArchiveWriter(dir, opened.db, journal, lock, opts.groupCommitMessages ?? RELAY_LIMITS.groupCommitMessages, opened.packEnds);
    } catch (err) {
      opened?.db.close();
      lock.release();
      throw archivePathError(dir, err) ?? err;
    }
  }

  private prepare() {
    const db = this.db;
    return {
      hasBlob: db.prepare<[string], { x: number }>('SELECT 1 AS x FROM blobs WHERE hash = ?').pluck(),
      findGmail: db.prepare<[number, string], { hash: string; messageId: string | null }>(
        'SELECT m.blob_hash AS hash, m.message_id AS messageId FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.account_id = ? AND m.gm_msgid = ? LIMIT 1',
      ),
      findContent: db.prepare<[string, number, number, string | null], string>(
        `SELECT m.blob_hash FROM messages m JOIN folders f ON f.id = m.folder_id
         WHERE m.message_id = ? AND m.size = ? AND f.account_id = ? AND m.internaldate IS ? AND m.gone_run IS NOT NULL LIMIT 1`,
      ).pluck(),
    };
  }

  /**
   * Journals `ops` durably, then applies them to the index: the order of every commit. Used for
   * what must be durable at once (a new pack's existence before its first byte); groups go through
   * `seal`, in order with this (both run synchronously, so journal and index order agree).
   */
  private commitNow(ops: JournalOp[]): void {
    const end = this.journal.append(ops);
    applyBatch(this.db, ops, { file: JOURNAL_FILE_NO, offset: end });
  }

  private currentPack(): PackAppender {
    if (this.pack) return this.pack;
    if (this.reuse) {
      this.pack = new PackAppender(this.packsDir, this.reuse.id, this.reuse.end);
    } else {
      this.nextPackId += 1;
      // The journal knows a pack (with end 0) before it holds a byte: only then may a later open
      // cut an uncommitted tail off it. A pack file the journal never named is never cut.
      this.commitNow([{ op: 'pack', id: this.nextPackId, file: packFileName(this.nextPackId) }]);
      this.pack = new PackAppender(this.packsDir, this.nextPackId, 0);
    }
    this.reuse = null;
    return this.pack;
  }

  ensureAccount(host: string, port: number, user: string): number {
    const key = accountKey(host, port, user);
    let id = this.accountIds.get(key);
    if (id === undefined) {
      id = this.nextId.account++;
      this.accountIds.set(key, id);
      this.ops.push({ op: 'account', id, host, port, user, at: new Date().toISOString() });
    }
    return id;
  }

  /** The account's id if the archive already holds it (nothing is created). */
  findAccount(host: string, port: number, user: string): number | undefined {
    return this.accountIds.get(accountKey(host, port, user));
  }

  beginRun(accountId: number): number {
    const id = this.nextId.run++;
    this.ops.push({ op: 'run', id, account: accountId, at: new Date().toISOString() });
    return id;
  }

  async finishRun(runId: number, status: string, errorCode: string | null): Promise<void> {
    this.ops.push({ op: 'runEnd', id: runId, at: new Date().toISOString(), status, code: errorCode });
    await this.flush();
  }

  upsertFolder(accountId: number, runId: number, f: FolderInfo): number {
    const key = `${accountId}\0${f.rawName}`;
    let id = this.folderIds.get(key);
    if (id === undefined) {
      id = this.nextId.folder++;
      this.folderIds.set(key, id);
      this.folderAccount.set(id, accountId);
    }
    this.ops.push({ op: 'folder', id, account: accountId, raw: f.rawName, name: f.name, delim: f.delimiter, special: f.specialUse, run: runId, gone: null });
    return id;
  }

  checkpoint(folderId: number): Checkpoint | undefined {
    const r = this.db
      .prepare<[number], { uidvalidity: number; last_uid: number; highestmodseq: string | null; uidnext: number | null; messages: number | null }>(
        'SELECT uidvalidity, last_uid, highestmodseq, uidnext, messages FROM checkpoints WHERE folder_id = ?',
      )
      .get(folderId);
    return r && { uidvalidity: r.uidvalidity, lastUid: r.last_uid, highestModseq: r.highestmodseq, uidnext: r.uidnext, messages: r.messages };
  }

  /** New UIDVALIDITY: the cursor starts over; rows of the old generation stay (they are history). */
  async resetCheckpoint(folderId: number, uidvalidity: number): Promise<void> {
    this.ops.push({ op: 'cpReset', f: folderId, v: uidvalidity, at: new Date().toISOString() });
    await this.flush();
  }

  /** UIDs of this generation already stored above `above` (a crash after commit, before the cursor moved on). */
  storedUidsAbove(folderId: number, uidvalidity: number, above: number): Set<number> {
    return new Set(
      this.db
        .prepare<[number, number, number], number>('SELECT uid FROM messages WHERE folder_id = ? AND uidvalidity = ? AND uid > ?')
        .pluck()
        .all(folderId, uidvalidity, above),
    );
  }

  hasAnyMessages(accountId: number): boolean {
    return !!this.db.prepare('SELECT 1 FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.account_id = ? LIMIT 1').get(accountId);
  }

  /**
   * Stored content for an envelope, or undefined: same account, Message-ID, size and INTERNALDATE,
   * of a row the server no longer has where it was (an old UIDVALIDITY generation, the source of a
   * move). Never a row still present: two deliveries of one message (two aliases of equal length,
   * the same second) share all three yet differ in bytes, and both are on the server to be fetched.
   */
  findStoredContent(accountId: number, messageId: string | null, size: number, internalDate: Date | null): string | undefined {
    if (!messageId) return undefined;
    return this.stmts.findContent.get(messageId, size, accountId, internalDate?.toISOString() ?? null);
  }

  /**
   * Gmail: the stored content of this X-GM-MSGID in the account, or undefined. Gmail gives a message
   * one X-GM-MSGID in every folder (label) that shows it and never changes its bytes, so a label
   * folder's copy of a message already fetched from All Mail is recorded without downloading it.
   */
  findGmailContent(accountId: number, msgId: string): { hash: string; messageId: string | null } | undefined {
    return this.gmailStaged.get(`${accountId}\0${msgId}`) ?? this.stmts.findGmail.get(accountId, msgId);
  }

  private knows(hash: string): boolean {
    if (this.stagedBlobs.has(hash)) return true;
    for (const g of this.sealedGroups) if (g.blobs.has(hash)) return true;
    // The filter answers "surely not stored" without a query for almost every new message.
    if (!this.known.mayHave(hash)) return false;
    return this.stmts.hasBlob.get(hash) !== undefined;
  }

  private stage(folderId: number, runId: number, meta: MessageMeta, hash: string, newBytes: number, newMessages = 1): void {
    const gm = meta.gmail;
    this.ops.push({
      op: 'msg', f: folderId, v: meta.uidvalidity, u: meta.uid, h: hash, fl: meta.flags, d: meta.internalDate?.toISOString() ?? null,
      s: meta.size, mid: meta.messageId, ms: meta.modseq, r: runId,
      ...(gm ? { gm: gm.msgId, gt: gm.threadId, gl: gm.labels } : {}),
    });
    if (gm) {
      const account = this.folderAccount.get(folderId);
      if (account !== undefined) this.gmailStaged.set(`${account}\0${gm.msgId}`, { hash, messageId: meta.messageId });
    }
    this.stagedCount++;
    const c = this.runCounters.get(runId) ?? { messages: 0, bytes: 0 };
    c.messages += newMessages;
    c.bytes += newBytes;
    this.runCounters.set(runId, c);
    this.stagedBytes += newBytes;
  }

  private stageBlob(hash: string, packId: number, offset: number, length: number): void {
    this.ops.push({ op: 'blob', h: hash, p: packId, o: offset, l: length });
    this.stagedBlobs.add(hash);
    this.known.add(hash);
  }

  /** Stores a message held in memory (below the stream threshold). Returns whether its bytes were new. */
  addBuffer(folderId: number, runId: number, meta: MessageMeta, data: Buffer): boolean {
    const hash = crypto.createHash('sha256').update(data).digest('hex');
    let fresh = false;
    if (!this.knows(hash)) {
      const pack = this.currentPack();
      this.stageBlob(hash, pack.id, pack.append(data, hash), data.length);
      fresh = true;
    }
    this.stage(folderId, runId, { ...meta, size: data.length }, hash, fresh ? data.length : 0);
    return fresh;
  }

  /** Streams a large message straight into the pack; memory stays at one chunk. */
  async addStream(folderId: number, runId: number, meta: MessageMeta, chunks: AsyncIterable<Buffer>, messageId?: () => string | null): Promise<boolean> {
    const pack = this.currentPack();
    const s = pack.beginStream();
    try {
      for await (const chunk of chunks) s.write(chunk);
    } catch (err) {
      s.abort();
      throw err;
    }
    let fresh = false;
    const r = s.finish((hash) => (fresh = !this.knows(hash)));
    if (r.offset !== null) this.stageBlob(r.hash, pack.id, r.offset, r.length);
    this.stage(folderId, runId, { ...meta, size: r.length, messageId: messageId?.() ?? meta.messageId }, r.hash, fresh ? r.length : 0);
    return fresh;
  }

  /**
   * Records a membership whose content is already stored (recognised by envelope, or on Gmail by
   * X-GM-MSGID). On Gmail a folder is a label: another label of a stored message is not a new
   * message of the run (the run counts distinct messages, as the user sees them in Gmail).
   */
  addKnown(folderId: number, runId: number, meta: MessageMeta, hash: string): void {
    this.stage(folderId, runId, meta, hash, 0, meta.gmail ? 0 : 1);
  }

  /** Moves the folder's cursor to `uid` once the current group is durable. */
  advanceCursor(folderId: number, uidvalidity: number, uid: number): void {
    const c = this.cursors.get(folderId);
    if (!c || c.uidvalidity !== uidvalidity) this.cursors.set(folderId, { uidvalidity, lastUid: uid });
    else c.lastUid = Math.max(c.lastUid, uid);
  }

  /**
   * Seals the current group when it is big or old enough. Returns a promise only when the caller
   * must wait: a group is still syncing behind the one just sealed (bounded memory and disk lag).
   */
  maybeCommit(): Promise<void> | null {
    this.throwIfFailed();
    if (
      this.stagedCount >= this.groupMessages ||
      this.stagedBytes >= RELAY_LIMITS.groupCommitBytes ||
      (this.stagedCount > 0 && Date.now() - this.lastCommit >= RELAY_LIMITS.groupCommitMs)
    )
      this.seal();
    return this.inFlightCount > 1 ? this.waitBelow(2) : null;
  }

  private async waitBelow(n: number): Promise<void> {
    while (this.inFlightCount >= n) await this.inFlight;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * Seals the staged work as a group: pack fsync in the thread pool, then one journal record
   * (one write, one fsync) with every op of the group and the pack's new committed end, then the
   * index transaction applying the same ops.
   */
  private seal(): void {
    this.lastCommit = Date.now();
    if (this.ops.length === 0 && this.cursors.size === 0) return;
    const pack = this.pack;
    const now = new Date().toISOString();
    const ops = this.ops;
    // The cursor moves with (never before) the rows it covers: same record, after them.
    for (const [f, c] of this.cursors) ops.push({ op: 'cursor', f, v: c.uidvalidity, last: c.lastUid, at: now });
    for (const [id, c] of this.runCounters) ops.push({ op: 'runAdd', id, n: c.messages, b: c.bytes });
    if (pack && this.stagedBlobs.size > 0) ops.push({ op: 'packEnd', id: pack.id, end: pack.size });
    const group: Group = { pack, ops, blobs: this.stagedBlobs, closePack: null };
    this.ops = [];
    this.stagedCount = 0;
    this.stagedBlobs = new Set();
    this.cursors = new Map();
    this.runCounters = new Map();
    this.stagedBytes = 0;
    if (pack && pack.size >= RELAY_LIMITS.packMaxBytes) {
      group.closePack = pack;
      this.pack = null;
    }
    this.inFlightCount++;
    this.sealedGroups.add(group);
    this.inFlight = this.inFlight
      .then(async () => {
        if (this.failure) return; // after a failure nothing later may be applied: order is the invariant
        if (group.pack && group.blobs.size > 0) await group.pack.syncAsync();
        this.commitNow(group.ops);
        await group.closePack?.close();
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.inFlightCount--;
        this.sealedGroups.delete(group);
      });
  }

  /** Makes everything staged durable (pack fsync, journal, then index) and waits for it. */
  async flush(): Promise<void> {
    this.throwIfFailed();
    this.seal();
    await this.waitBelow(1);
  }

  /** Same as flush: kept as the name the rest of the code and the docs use for a group commit. */
  async commit(): Promise<void> {
    await this.flush();
  }

  /** Marks stored rows the server no longer has (or that belong to an old UIDVALIDITY) as gone in this run. */
  async markGone(folderId: number, uidvalidity: number, serverUids: Iterable<number>, runId: number): Promise<number> {
    await this.flush();
    const present = new Set(serverUids);
    const rows = this.db
      .prepare<[number], { uidvalidity: number; uid: number }>('SELECT uidvalidity, uid FROM messages WHERE folder_id = ? AND gone_run IS NULL ORDER BY id')
      .all(folderId)
      .filter((r) => r.uidvalidity !== uidvalidity || !present.has(r.uid))
      .map((r): [number, number] => [r.uidvalidity, r.uid]);
    if (rows.length === 0) return 0;
    this.ops.push({ op: 'gone', f: folderId, run: runId, rows });
    await this.flush();
    return rows.length;
  }

  /** Flag/keyword changes of stored messages (CONDSTORE changedSince or a full FLAGS sweep). Only changes are journaled. */
  async updateFlags(folderId: number, uidvalidity: number, updates: { uid: number; flags: string[]; modseq: string | null }[]): Promise<number> {
    if (!updates.length) return 0;
    await this.flush();
    const stored = new Map<number, string>();
    for (const r of this.db
      .prepare<[number, number], { uid: number; flags: string; keywords: string }>('SELECT uid, flags, keywords FROM messages WHERE folder_id = ? AND uidvalidity = ? AND gone_run IS NULL')
      .iterate(folderId, uidvalidity))
      stored.set(r.uid, `${r.flags}\0${r.keywords}`);
    let n = 0;
    for (const u of updates) {
      const now = stored.get(u.uid);
      if (now === undefined) continue;
      const fk = splitFlags(u.flags);
      if (now === `${fk.flags}\0${fk.keywords}`) continue;
      stored.set(u.uid, `${fk.flags}\0${fk.keywords}`);
      this.ops.push({ op: 'flags', f: folderId, v: uidvalidity, u: u.uid, fl: u.flags, ms: u.modseq });
      n++;
    }
    if (n > 0) await this.flush();
    return n;
  }

  /** Gmail: X-GM-LABELS of stored memberships that changed since they were stored. Only changes are journaled. */
  async updateLabels(folderId: number, uidvalidity: number, updates: { uid: number; labels: string[] }[]): Promise<number> {
    if (!updates.length) return 0;
    await this.flush();
    const stored = new Map<number, string | null>();
    for (const r of this.db
      .prepare<[number, number], { uid: number; gm_labels: string | null }>('SELECT uid, gm_labels FROM messages WHERE folder_id = ? AND uidvalidity = ? AND gone_run IS NULL')
      .iterate(folderId, uidvalidity))
      stored.set(r.uid, r.gm_labels);
    let n = 0;
    for (const u of updates) {
      if (!stored.has(u.uid)) continue;
      const gl = [...u.labels].sort();
      if (stored.get(u.uid) === JSON.stringify(gl)) continue;
      this.ops.push({ op: 'labels', f: folderId, v: uidvalidity, u: u.uid, gl });
      n++;
    }
    if (n > 0) await this.flush();
    return n;
  }

  /** The folder is fully backed up as of the EXAMINE that began it: record what lets the next run skip it. */
  async completeFolder(folderId: number, runId: number, state: { uidvalidity: number; uidnext: number | null; messages: number; highestModseq: string | null }): Promise<void> {
    this.ops.push({ op: 'complete', f: folderId, v: state.uidvalidity, next: state.uidnext, n: state.messages, hms: state.highestModseq, run: runId, at: new Date().toISOString() });
    await this.flush();
  }

  recordRunFolder(runId: number, folderId: number, state: 'unchanged' | 'synced' | 'skipped' | 'gone', info: { messages?: number | null; uidvalidity?: number | null; uidnext?: number | null } = {}): void {
    this.ops.push({ op: 'runFolder', run: runId, f: folderId, state, n: info.messages ?? null, v: info.uidvalidity ?? null, next: info.uidnext ?? null });
  }

  /**
   * Folders of the account not listed by the server any more: their rows are gone as of this run.
   * Staged, not flushed: the run's end (finishRun) commits them with the rest, so a run that
   * changed nothing costs one journal fsync, not three. What is staged cannot change the answer:
   * a folder created or revived in this run is in `seenFolderIds`.
   */
  async markMissingFolders(accountId: number, seenFolderIds: Set<number>, runId: number): Promise<number> {
    const ids = this.db.prepare<[number], number>('SELECT id FROM folders WHERE account_id = ? AND gone_run IS NULL').pluck().all(accountId);
    const count = this.db.prepare<[number], number>('SELECT COUNT(*) FROM messages WHERE folder_id = ? AND gone_run IS NULL').pluck();
    let n = 0;
    for (const id of ids) {
      if (seenFolderIds.has(id)) continue;
      n += count.get(id)!;
      this.ops.push({ op: 'folderGone', id, run: runId });
      this.recordRunFolder(runId, id, 'gone');
    }
    return n;
  }

  /** Commits what is staged, then releases the pack, the journal, the index and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      await this.inFlight;
      // Each step on its own: after a failure (a full disk) the files must still be closed and the
      // lock released, or every later backup in this process would find the archive locked.
      const steps = [() => this.pack?.close(), () => this.journal.close(), () => this.db.close(), () => this.lock.release()];
      let first: unknown = null;
      for (const step of steps) {
        try {
          await step();
        } catch (err) {
          first ??= err;
        }
      }
      if (first !== null) throw first;
    }
  }
}

function accountKey(host: string, port: number, user: string): string {
  return `${host}\0${port}\0${user}`;
}
