import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { lockArchive, type ArchiveLock } from './lock.ts';
import { PackAppender, packFileName } from './pack-file.ts';
import { openIndex, type Db } from './schema.ts';

/**
 * The one writer of an archive (it holds the lock). Messages are staged, then made durable in
 * groups: pack fsync, then one SQLite transaction with the blob rows, the membership rows and the
 * folder cursors that cover them (I2, I3). A crash loses at most the uncommitted group, which the
 * next run fetches again because no cursor moved past it.
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
  hash: string;
}

interface BlobRef {
  packId: number;
  offset: number;
  length: number;
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
  readonly packsDir: string;
  private stmts: ReturnType<ArchiveWriter['prepare']>;

  private constructor(
    readonly dir: string,
    readonly db: Db,
    private readonly lock: ArchiveLock,
    private readonly groupMessages: number,
  ) {
    this.packsDir = path.join(dir, 'packs');
    this.stmts = this.prepare();
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
         VALUES (@folderId, @uidvalidity, @uid, @hash, @flags, @keywords, @internalDate, @size, @messageId, @modseq, @run)`,
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

  beginRun(accountId: number): number {
    return Number(
      this.db.prepare('INSERT INTO runs (account_id, started_at) VALUES (?, ?)').run(accountId, new Date().toISOString()).lastInsertRowid,
    );
  }

  finishRun(runId: number, status: string, errorCode: string | null): void {
    this.commit();
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
  resetCheckpoint(folderId: number, uidvalidity: number): void {
    this.commit();
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
    return this.stagedBlobs.has(hash) || this.stmts.hasBlob.get(hash) !== undefined;
  }

  private stage(folderId: number, runId: number, meta: MessageMeta, hash: string, newBytes: number): void {
    this.staged.push({ ...meta, folderId, hash });
    const c = this.runCounters.get(runId) ?? { messages: 0, bytes: 0 };
    c.messages += 1;
    c.bytes += newBytes;
    this.runCounters.set(runId, c);
    this.stagedBytes += newBytes;
    this.currentRun = runId;
  }
  private currentRun = 0;

  /** Stores a message held in memory (below the stream threshold). Returns whether its bytes were new. */
  addBuffer(folderId: number, runId: number, meta: MessageMeta, data: Buffer): boolean {
    const hash = crypto.createHash('sha256').update(data).digest('hex');
    let fresh = false;
    if (!this.knows(hash)) {
      const pack = this.currentPack();
      const offset = pack.append(data, hash);
      this.stagedBlobs.set(hash, { packId: pack.id, offset, length: data.length });
      fresh = true;
    }
    this.stage(folderId, runId, { ...meta, size: data.length }, hash, fresh ? data.length : 0);
    return fresh;
  }

  /** Streams a large message straight into the pack; memory stays at one chunk. */
  async addStream(folderId: number, runId: number, meta: MessageMeta, chunks: AsyncIterable<Buffer>): Promise<boolean> {
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
    if (r.offset !== null) this.stagedBlobs.set(r.hash, { packId: pack.id, offset: r.offset, length: r.length });
    this.stage(folderId, runId, { ...meta, size: r.length }, r.hash, fresh ? r.length : 0);
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

  maybeCommit(): void {
    if (
      this.staged.length >= this.groupMessages ||
      this.stagedBytes >= RELAY_LIMITS.groupCommitBytes ||
      (this.staged.length > 0 && Date.now() - this.lastCommit >= RELAY_LIMITS.groupCommitMs)
    )
      this.commit();
  }

  /** Group commit: pack data durable first, then the index rows and cursors in one transaction. */
  commit(): void {
    this.lastCommit = Date.now();
    if (this.staged.length === 0 && this.cursors.size === 0 && this.stagedBlobs.size === 0) return;
    this.pack?.sync();
    const now = new Date().toISOString();
    const s = this.stmts;
    this.db.transaction(() => {
      for (const id of this.packRowPending) s.insPack.run(id, packFileName(id));
      for (const [hash, b] of this.stagedBlobs) s.insBlob.run(hash, b.packId, b.offset, b.length);
      for (const m of this.staged) {
        const fk = splitFlags(m.flags);
        s.insMsg.run({
          folderId: m.folderId,
          uidvalidity: m.uidvalidity,
          uid: m.uid,
          hash: m.hash,
          flags: fk.flags,
          keywords: fk.keywords,
          internalDate: m.internalDate?.toISOString() ?? null,
          size: m.size,
          messageId: m.messageId,
          modseq: m.modseq,
          run: this.currentRun,
        });
      }
      for (const [folderId, c] of this.cursors) s.advance.run(c.lastUid, now, folderId, c.uidvalidity);
      for (const [runId, c] of this.runCounters) s.runAdd.run(c.messages, c.bytes, runId);
    })();
    this.packRowPending.clear();
    this.staged = [];
    this.stagedBlobs.clear();
    this.cursors.clear();
    this.runCounters.clear();
    this.stagedBytes = 0;
    if (this.pack && this.pack.size >= RELAY_LIMITS.packMaxBytes) {
      this.pack.close();
      this.pack = null;
    }
  }

  /** Marks stored rows the server no longer has (or that belong to an old UIDVALIDITY) as gone in this run. */
  markGone(folderId: number, uidvalidity: number, serverUids: Iterable<number>, runId: number): number {
    this.commit();
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
  updateFlags(folderId: number, uidvalidity: number, updates: { uid: number; flags: string[]; modseq: string | null }[]): number {
    if (!updates.length) return 0;
    this.commit();
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
  completeFolder(folderId: number, runId: number, state: { uidvalidity: number; uidnext: number | null; messages: number; highestModseq: string | null }): void {
    this.commit();
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
  markMissingFolders(accountId: number, seenFolderIds: Set<number>, runId: number): number {
    this.commit();
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

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.commit();
    } finally {
      this.pack?.close();
      this.db.close();
      this.lock.release();
    }
  }

  /** Drops staged (not yet durable) work, e.g. after the connection broke mid-group; the next group refetches it. */
  discardStaged(): void {
    // Bytes already appended to the pack stay beyond the committed end and are cut on the next open;
    // committing them is still correct, so keep blobs and rows but forget nothing durable-critical.
    this.commit();
  }
}

export function assertArchiveDir(dir: string): void {
  if (!fs.existsSync(path.join(dir, 'index.sqlite'))) throw mailkeepError('NOT_FOUND', `no Mailkeep archive at ${dir}`);
}
