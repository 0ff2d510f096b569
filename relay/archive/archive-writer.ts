import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { lockArchive, type HeldLock } from '../lock/lock-file.ts';
import { KnownHashes } from './known-hashes.ts';
import { PackAppender, packFileName } from './pack-file.ts';
import { openIndex, type Db } from './schema.ts';

/**
 * The one writer of an archive (it holds the lock). Messages are staged, then made durable in
 * groups: pack fsync, then one SQLite transaction with the blob rows, the membership rows and the
 * folder cursors that cover them (I2, I3). A crash loses at most the uncommitted group, which the
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
}

interface Staged extends MessageMeta {
  folderId: number;
  runId: number;
  hash: string;
}

interface BlobRef {
  packId: number;
  offset: number;
  length: number;
}

interface Group {
  pack: PackAppender | null;
  packRows: number[];
  staged: Staged[];
  blobs: Map<string, BlobRef>;
  cursors: Map<number, { uidvalidity: number; lastUid: number }>;
  counters: Map<number, { messages: number; bytes: number }>;
  /** A pack that reached its size limit: closed once this group is durable. */
  closePack: PackAppender | null;
}

export function splitFlags(flags: Iterable<string>): { flags: string; keywords: string } {
  const sys: string[] = [];
  const kw: string[] = [];
  for (const f of flags) {
    // \Recent belongs to one session (RFC 3501 §2.3.2): it cannot be restored and must not count as a change.
    if (f.toLowerCase() === '\\recent') continue;
    (f.startsWith('\\') ? sys : kw).push(f);
  }
  return { flags: JSON.stringify(sys.sort()), keywords: JSON.stringify(kw.sort()) };
}

export class ArchiveWriter {
  private pack: PackAppender | null = null;
  private packRowPending = new Set<number>();
  private staged: Staged[] = [];
  private stagedBlobs = new Map<string, BlobRef>();
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

  private constructor(
    readonly dir: string,
    readonly db: Db,
    private readonly lock: HeldLock,
    private readonly groupMessages: number,
  ) {
    this.packsDir = path.join(dir, 'packs');
    this.stmts = this.prepare();
    this.known = new KnownHashes(() => this.db.prepare<[], string>('SELECT hash FROM blobs').pluck().iterate());
  }

  /** `groupCommitMessages` tunes the group size (smaller: less refetched after a crash; larger: fewer fsyncs). */
  static open(dir: string, opts: { groupCommitMessages?: number } = {}): ArchiveWriter {
    fs.mkdirSync(path.join(dir, 'packs'), { recursive: true, mode: 0o700 });
    const lock = lockArchive(dir);
    let db: Db | undefined;
    try {
      db = openIndex(path.join(dir, 'index.sqlite'));
      const w = new ArchiveWriter(dir, db, lock, opts.groupCommitMessages ?? RELAY_LIMITS.groupCommitMessages);
      w.sweep();
      return w;
    } catch (err) {
      db?.close();
      lock.release();
      throw err;
    }
  }

  private prepare() {
    const db = this.db;
    return {
      hasBlob: db.prepare<[string], { x: number }>('SELECT 1 AS x FROM blobs WHERE hash = ?').pluck(),
      insPack: db.prepare('INSERT OR IGNORE INTO packs (id, file) VALUES (?, ?)'),
      insBlob: db.prepare('INSERT OR IGNORE INTO blobs (hash, pack_id, offset, length) VALUES (?, ?, ?, ?)'),
      insMsg: db.prepare(
        `INSERT OR IGNORE INTO messages (folder_id, uidvalidity, uid, blob_hash, flags, keywords, internaldate, size, message_id, modseq, added_run)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      advance: db.prepare(
        `UPDATE checkpoints SET last_uid = MAX(last_uid, ?), updated_at = ? WHERE folder_id = ? AND uidvalidity = ?`,
      ),
      runAdd: db.prepare('UPDATE runs SET new_messages = new_messages + ?, new_bytes = new_bytes + ? WHERE id = ?'),
      findContent: db.prepare<[string, number, number, string | null], string>(
        `SELECT m.blob_hash FROM messages m JOIN folders f ON f.id = m.folder_id
         WHERE m.message_id = ? AND m.size = ? AND f.account_id = ? AND m.internaldate IS ? LIMIT 1`,
      ),
    };
  }

  /** Cuts pack tails no index row covers and removes packs nothing committed points into. */
  private sweep(): void {
    const ends = new Map<number, number>();
    for (const r of this.db
      .prepare<[], { pack_id: number; e: number }>('SELECT pack_id, MAX(offset + length) AS e FROM blobs GROUP BY pack_id')
      .all())
      ends.set(r.pack_id, r.e);
    let maxId = 0;
    for (const f of fs.readdirSync(this.packsDir)) {
      const m = /^pack-(\d{8})\.mkp$/.exec(f);
      const full = path.join(this.packsDir, f);
      if (!m) {
        if (f.endsWith('.tmp')) fs.rmSync(full, { force: true });
        continue;
      }
      const id = Number(m[1]);
      const end = ends.get(id);
      if (end === undefined) fs.rmSync(full, { force: true });
      else {
        if (fs.statSync(full).size > end) fs.truncateSync(full, end);
        maxId = Math.max(maxId, id);
      }
    }
    for (const id of ends.keys()) maxId = Math.max(maxId, id);
    this.nextPackId = maxId;
    this.reuseEnd = maxId > 0 ? (ends.get(maxId) ?? 0) : 0;
  }
  private nextPackId = 0;
  private reuseEnd = 0;

  private currentPack(): PackAppender {
    if (this.pack) return this.pack;
    if (this.nextPackId > 0 && this.reuseEnd > 0 && this.reuseEnd < RELAY_LIMITS.packMaxBytes) {
      this.pack = new PackAppender(this.packsDir, this.nextPackId, this.reuseEnd);
    } else {
      this.nextPackId += 1;
      this.pack = new PackAppender(this.packsDir, this.nextPackId, 0);
      this.packRowPending.add(this.nextPackId);
    }
    this.reuseEnd = 0;
    return this.pack;
  }

  ensureAccount(host: string, port: number, user: string): number {
    this.db
      .prepare('INSERT OR IGNORE INTO accounts (host, port, user, created_at) VALUES (?, ?, ?, ?)')
      .run(host, port, user, new Date().toISOString());
    return this.db.prepare<[string, number, string], number>('SELECT id FROM accounts WHERE host = ? AND port = ? AND user = ?').pluck().get(host, port, user)!;
  }

  /** The account's id if the archive already holds it (nothing is created). */
  findAccount(host: string, port: number, user: string): number | undefined {
    return this.db.prepare<[string, number, string], number>('SELECT id FROM accounts WHERE host = ? AND port = ? AND user = ?').pluck().get(host, port, user);
  }

  beginRun(accountId: number): number {
    return Number(
      this.db.prepare('INSERT INTO runs (account_id, started_at) VALUES (?, ?)').run(accountId, new Date().toISOString()).lastInsertRowid,
    );
  }

  async finishRun(runId: number, status: string, errorCode: string | null): Promise<void> {
    await this.flush();
    this.db.prepare('UPDATE runs SET finished_at = ?, status = ?, error_code = ? WHERE id = ?').run(new Date().toISOString(), status, errorCode, runId);
  }

  upsertFolder(accountId: number, runId: number, f: FolderInfo): number {
    this.db
      .prepare(
        `INSERT INTO folders (account_id, raw_name, name, delimiter, special_use, added_run) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, raw_name) DO UPDATE SET name = excluded.name, delimiter = excluded.delimiter,
           special_use = excluded.special_use, gone_run = NULL`,
      )
      .run(accountId, f.rawName, f.name, f.delimiter, f.specialUse, runId);
    return this.db.prepare<[number, string], number>('SELECT id FROM folders WHERE account_id = ? AND raw_name = ?').pluck().get(accountId, f.rawName)!;
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
    await this.flush();
    this.db
      .prepare(
        `INSERT INTO checkpoints (folder_id, uidvalidity, last_uid, updated_at) VALUES (?, ?, 0, ?)
         ON CONFLICT (folder_id) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = 0, highestmodseq = NULL,
           uidnext = NULL, messages = NULL, complete_run = NULL, updated_at = excluded.updated_at`,
      )
      .run(folderId, uidvalidity, new Date().toISOString());
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

  /** Stored content for an envelope, or undefined: same account, Message-ID, size and INTERNALDATE. */
  findStoredContent(accountId: number, messageId: string | null, size: number, internalDate: Date | null): string | undefined {
    if (!messageId) return undefined;
    return this.stmts.findContent.pluck().get(messageId, size, accountId, internalDate?.toISOString() ?? null) as string | undefined;
  }

  private knows(hash: string): boolean {
    if (this.stagedBlobs.has(hash)) return true;
    for (const g of this.sealedGroups) if (g.blobs.has(hash)) return true;
    // The filter answers "surely not stored" without a query for almost every new message.
    if (!this.known.mayHave(hash)) return false;
    return this.stmts.hasBlob.get(hash) !== undefined;
  }

  private stage(folderId: number, runId: number, meta: MessageMeta, hash: string, newBytes: number): void {
    this.staged.push({ ...meta, folderId, runId, hash });
    const c = this.runCounters.get(runId) ?? { messages: 0, bytes: 0 };
    c.messages += 1;
    c.bytes += newBytes;
    this.runCounters.set(runId, c);
    this.stagedBytes += newBytes;
  }

  /** Stores a message held in memory (below the stream threshold). Returns whether its bytes were new. */
  addBuffer(folderId: number, runId: number, meta: MessageMeta, data: Buffer): boolean {
    const hash = crypto.createHash('sha256').update(data).digest('hex');
    let fresh = false;
    if (!this.knows(hash)) {
      const pack = this.currentPack();
      const offset = pack.append(data, hash);
      this.stagedBlobs.set(hash, { packId: pack.id, offset, length: data.length });
      this.known.add(hash);
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
    if (r.offset !== null) {
      this.stagedBlobs.set(r.hash, { packId: pack.id, offset: r.offset, length: r.length });
      this.known.add(r.hash);
    }
    this.stage(folderId, runId, { ...meta, size: r.length, messageId: messageId?.() ?? meta.messageId }, r.hash, fresh ? r.length : 0);
    return fresh;
  }

  /** Records a membership whose content is already stored (recognised by envelope). */
  addKnown(folderId: number, runId: number, meta: MessageMeta, hash: string): void {
    this.stage(folderId, runId, meta, hash, 0);
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
      this.staged.length >= this.groupMessages ||
      this.stagedBytes >= RELAY_LIMITS.groupCommitBytes ||
      (this.staged.length > 0 && Date.now() - this.lastCommit >= RELAY_LIMITS.groupCommitMs)
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

  /** Seals the staged work as a group: fsync in the thread pool, then the index transaction. */
  private seal(): void {
    this.lastCommit = Date.now();
    if (this.staged.length === 0 && this.cursors.size === 0 && this.stagedBlobs.size === 0) return;
    const pack = this.pack;
    const group: Group = {
      pack,
      packRows: [...this.packRowPending],
      staged: this.staged,
      blobs: this.stagedBlobs,
      cursors: this.cursors,
      counters: this.runCounters,
      closePack: null,
    };
    this.packRowPending = new Set();
    this.staged = [];
    this.stagedBlobs = new Map();
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
        if (group.pack) await group.pack.syncAsync();
        this.apply(group);
        group.closePack?.close();
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.inFlightCount--;
        this.sealedGroups.delete(group);
      });
  }

  /** The index half of a group commit: one transaction, after the pack bytes are durable. */
  private apply(g: Group): void {
    const now = new Date().toISOString();
    const s = this.stmts;
    this.db.transaction(() => {
      for (const id of g.packRows) s.insPack.run(id, packFileName(id));
      for (const [hash, b] of g.blobs) s.insBlob.run(hash, b.packId, b.offset, b.length);
      // Most messages share one of a few flag sets: split and serialise each set once.
      const flagCache = new Map<string, { flags: string; keywords: string }>();
      for (const m of g.staged) {
        const key = m.flags.join(' ');
        let fk = flagCache.get(key);
        if (!fk) flagCache.set(key, (fk = splitFlags(m.flags)));
        s.insMsg.run(m.folderId, m.uidvalidity, m.uid, m.hash, fk.flags, fk.keywords, m.internalDate?.toISOString() ?? null, m.size, m.messageId, m.modseq, m.runId);
      }
      for (const [folderId, c] of g.cursors) s.advance.run(c.lastUid, now, folderId, c.uidvalidity);
      for (const [runId, c] of g.counters) s.runAdd.run(c.messages, c.bytes, runId);
    })();
  }

  /** Makes everything staged durable (pack fsync, then index) and waits for it. */
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
      .prepare<[number], { id: number; uidvalidity: number; uid: number }>('SELECT id, uidvalidity, uid FROM messages WHERE folder_id = ? AND gone_run IS NULL')
      .all(folderId);
    const upd = this.db.prepare('UPDATE messages SET gone_run = ? WHERE id = ?');
    let n = 0;
    this.db.transaction(() => {
      for (const r of rows)
        if (r.uidvalidity !== uidvalidity || !present.has(r.uid)) {
          upd.run(runId, r.id);
          n++;
        }
    })();
    return n;
  }

  /** Flag/keyword changes of stored messages (CONDSTORE changedSince or a full FLAGS sweep). */
  async updateFlags(folderId: number, uidvalidity: number, updates: { uid: number; flags: string[]; modseq: string | null }[]): Promise<number> {
    if (!updates.length) return 0;
    await this.flush();
    const upd = this.db.prepare(
      `UPDATE messages SET flags = ?, keywords = ?, modseq = COALESCE(?, modseq)
       WHERE folder_id = ? AND uidvalidity = ? AND uid = ? AND gone_run IS NULL AND (flags <> ? OR keywords <> ?)`,
    );
    let n = 0;
    this.db.transaction(() => {
      for (const u of updates) {
        const fk = splitFlags(u.flags);
        n += upd.run(fk.flags, fk.keywords, u.modseq, folderId, uidvalidity, u.uid, fk.flags, fk.keywords).changes;
      }
    })();
    return n;
  }

  /** The folder is fully backed up as of the EXAMINE that began it: record what lets the next run skip it. */
  async completeFolder(folderId: number, runId: number, state: { uidvalidity: number; uidnext: number | null; messages: number; highestModseq: string | null }): Promise<void> {
    await this.flush();
    this.db
      .prepare(
        `UPDATE checkpoints SET uidnext = ?, messages = ?, highestmodseq = ?, complete_run = ?, updated_at = ? WHERE folder_id = ? AND uidvalidity = ?`,
      )
      .run(state.uidnext, state.messages, state.highestModseq, runId, new Date().toISOString(), folderId, state.uidvalidity);
  }

  recordRunFolder(runId: number, folderId: number, state: 'unchanged' | 'synced' | 'skipped' | 'gone', info: { messages?: number | null; uidvalidity?: number | null; uidnext?: number | null } = {}): void {
    this.db
      .prepare('INSERT OR REPLACE INTO run_folders (run_id, folder_id, state, messages, uidvalidity, uidnext) VALUES (?, ?, ?, ?, ?, ?)')
      .run(runId, folderId, state, info.messages ?? null, info.uidvalidity ?? null, info.uidnext ?? null);
  }

  /** Folders of the account not listed by the server any more: their rows are gone as of this run. */
  async markMissingFolders(accountId: number, seenFolderIds: Set<number>, runId: number): Promise<number> {
    await this.flush();
    const ids = this.db.prepare<[number], number>('SELECT id FROM folders WHERE account_id = ? AND gone_run IS NULL').pluck().all(accountId);
    let n = 0;
    this.db.transaction(() => {
      for (const id of ids) {
        if (seenFolderIds.has(id)) continue;
        this.db.prepare('UPDATE folders SET gone_run = ? WHERE id = ?').run(runId, id);
        n += this.db.prepare('UPDATE messages SET gone_run = ? WHERE folder_id = ? AND gone_run IS NULL').run(runId, id).changes;
        this.recordRunFolder(runId, id, 'gone');
      }
    })();
    return n;
  }

  /** Commits what is staged, then releases the pack, the index and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      await this.inFlight;
      this.pack?.close();
      this.db.close();
      this.lock.release();
    }
  }
}
