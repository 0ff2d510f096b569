import fs from 'node:fs';
import path from 'node:path';
import { SEARCH_LIMITS } from '../../lib/limits.ts';
import type { Db } from '../archive/schema.ts';
import { PackSource } from './pack-source.ts';
import type { ParsedMessage } from './parse-message.ts';
import { clearSearchDb, metaGet, metaSet, openSearchDb } from './search-db.ts';
import { searchSession } from './search-session.ts';
import { clip, indexText } from './search-text.ts';
import type { IndexProgress, IndexReport } from './types.ts';

/**
 * Brings the search index up to the archive: every membership row of the archive index that the
 * search index does not hold yet is taken in, its content parsed once per distinct blob. Safe beside
 * a running backup: the archive index is only read, in short read transactions, and a row the
 * backup commits meanwhile is taken by the next call. Safe to kill at any moment: each batch is one
 * transaction with the mark it reaches, and a killed call's batch is simply done again.
 */

export interface UpdateOptions {
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
  /**
   * Look at every archive row, not only those above the mark: finds rows a killed or interrupted
   * run left behind below it and rows of an archive whose index was rebuilt (repair) with other row
   * ids. The relay does this at start; after a backup's groups the mark is enough.
   */
  full?: boolean;
  /** Set by the relay's background indexer while a backup runs: small batches, and pauses. */
  pacer?: Pacer;
  /** Use the kept search connection (search-session.ts) instead of opening one: a one-shot
   * `mailkeep search` then opens the archive and its search index once, not twice. */
  shared?: boolean;
}

export interface Pacer {
  /** A backup is running: work in small slices. */
  busy(): boolean;
  /**
   * Called before each batch (its archive query, and the previous batch's commit, are work too) and
   * before each message's parse: resolves at once, or after a rest when the slice is used up
   * (relay/search/index-pacer.ts). A batch of memberships only (content already indexed) pauses too.
   */
  pause(): Promise<void>;
}

interface Row {
  id: number;
  folder_id: number;
  uidvalidity: number;
  uid: number;
  blob_hash: string;
  internaldate: string | null;
}

/** The doc id is the date key: (seconds << 16) | n, n picking a free slot among same-second messages. */
const SLOTS = 65536;
const MAX_SECONDS = 2 ** 34 - 1; // year 2514: with 16 bits of slots the key stays below 2^53

function statements(db: Db) {
  return {
    pending: db.prepare<[number, number], Row>(
      `SELECT m.id, m.folder_id, m.uidvalidity, m.uid, m.blob_hash, m.internaldate FROM arc.messages m
       WHERE m.id > ? AND NOT EXISTS (
         SELECT 1 FROM members x JOIN docs d ON d.id = x.doc
         WHERE x.folder_id = m.folder_id AND x.uidvalidity = m.uidvalidity AND x.uid = m.uid AND d.hash = m.blob_hash)
       ORDER BY m.id LIMIT ?`,
    ),
    countAbove: db.prepare<[number], number>('SELECT COUNT(*) FROM arc.messages WHERE id > ?').pluck(),
    docByHash: db.prepare<[string], number>('SELECT id FROM docs WHERE hash = ?').pluck(),
    locate: db.prepare<[string], { file: string; offset: number; length: number }>(
      'SELECT p.file, b.offset, b.length FROM arc.blobs b JOIN arc.packs p ON p.id = b.pack_id WHERE b.hash = ?',
    ),
    slotMax: db.prepare<[number, number], number | null>('SELECT MAX(id) FROM docs WHERE id BETWEEN ? AND ?').pluck(),
    insertDoc: db.prepare('INSERT INTO docs (id, hash, date, size, attach, unparsed) VALUES (@id, @hash, @date, @size, @attach, @unparsed)'),
    insertText: db.prepare(
      'INSERT INTO texts (id, subject, sender, recipients, cc, body, filenames) VALUES (@id, @subject, @sender, @recipients, @cc, @body, @filenames)',
    ),
    insertFts: db.prepare(
      'INSERT INTO fts (rowid, subject, sender, recipients, cc, body, filenames) VALUES (@id, @subject, @sender, @recipients, @cc, @body, @filenames)',
    ),
    member: db.prepare('INSERT OR REPLACE INTO members (folder_id, uidvalidity, uid, doc) VALUES (?, ?, ?, ?)'),
    maxId: db.prepare<[], number | null>('SELECT MAX(id) FROM arc.messages').pluck(),
    countMembers: db.prepare<[], number>('SELECT COUNT(*) FROM members').pluck(),
  };
}

type Doc = {
  hash: string;
  date: number | null;
  size: number;
  attach: number;
  unparsed: string | null;
  subject: string;
  sender: string;
  recipients: string;
  cc: string;
  body: string;
  filenames: string;
};

function docOf(hash: string, size: number, p: ParsedMessage, internalDate: string | null): Doc {
  const fallback = internalDate ? Date.parse(internalDate) : NaN;
  const names = p.attachments
    .map((a) => a.filename)
    .filter((n) => n)
    .slice(0, SEARCH_LIMITS.filenamesMax)
    .map((n) => clip(n, SEARCH_LIMITS.filenameChars));
  return {
    hash,
    date: p.date ?? (Number.isFinite(fallback) ? fallback : null),
    size,
    attach: p.attachments.some((a) => !a.related) ? 1 : 0,
    unparsed: p.error,
    subject: indexText(p.subject),
    sender: indexText(p.from),
    recipients: indexText(p.to),
    cc: indexText(p.cc),
    body: indexText(p.text),
    filenames: indexText(names.join('\n')),
  };
}

function unreadableDoc(hash: string, reason: string, internalDate: string | null): Doc {
  const fallback = internalDate ? Date.parse(internalDate) : NaN;
  return { hash, date: Number.isFinite(fallback) ? fallback : null, size: 0, attach: 0, unparsed: reason, subject: '', sender: '', recipients: '', cc: '', body: '', filenames: '' };
}

export async function updateSearchIndex(archiveDir: string, opts: UpdateOptions = {}): Promise<IndexReport> {
  if (opts.shared) return await update(searchSession(archiveDir).db, archiveDir, opts);
  const db = openSearchDb(archiveDir);
  try {
    return await update(db, archiveDir, opts);
  } finally {
    db.close();
  }
}

/** `mailkeep reindex`: empties the search index and builds it again from the whole archive. */
export async function rebuildSearchIndex(archiveDir: string, opts: Omit<UpdateOptions, 'full'> = {}): Promise<IndexReport> {
  const db = openSearchDb(archiveDir);
  try {
    clearSearchDb(db);
    return await update(db, archiveDir, { ...opts, full: true });
  } finally {
    db.close();
  }
}

async function update(db: Db, archiveDir: string, opts: UpdateOptions): Promise<IndexReport> {
  const started = performance.now();
  const st = statements(db);
  const packs = new PackSource(archiveDir);
  const report: IndexReport = { indexed: 0, unparsed: 0, memberships: 0, complete: false, durationMs: 0 };
  try {
    const mark = Number(metaGet(db, 'mark') ?? 0);
    // A full pass reads every archive row (about 0.3 s per 100,000, in one go). It is needed only
    // when something below the mark may be missing: the archive index was replaced (repair) since
    // the last full pass, or the counts of rows and members differ (a killed run, a reindex).
    const ino = String(fs.statSync(path.join(archiveDir, 'index.sqlite'), { throwIfNoEntry: false })?.ino ?? 0);
    const full =
      opts.full === true &&
      !(metaGet(db, 'archive_ino') === ino && mark >= (st.maxId.get() ?? 0) && st.countMembers.get() === st.countAbove.get(0));
    let cursor = full ? 0 : mark;
    const total = full ? st.countAbove.get(0)! : st.countAbove.get(mark)!;
    let seen = 0;
    opts.onProgress?.({ indexed: 0, total });
    for (;;) {
      await opts.pacer?.pause();
      if (opts.signal?.aborted) return report;
      const batch = opts.pacer?.busy() ? Math.max(1, Math.floor(SEARCH_LIMITS.batchMessages / 10)) : SEARCH_LIMITS.batchMessages;
      const rows = st.pending.all(cursor, batch);
      if (rows.length === 0) break;
      // Parse each new content once; memberships of content already indexed only need their row.
      // Stopped (signal) before a row's content was parsed: the batch ends before that row, so the
      // mark never passes a row left out.
      const parsed = new Map<string, Doc>();
      let upto = 0;
      for (const r of rows) {
        if (!parsed.has(r.blob_hash) && st.docByHash.get(r.blob_hash) === undefined) {
          if (opts.signal?.aborted) break;
          await opts.pacer?.pause();
          parsed.set(r.blob_hash, await readDoc(st, packs, r));
        }
        upto++;
      }
      const take = rows.slice(0, upto);
      db.transaction(() => {
        for (const r of take) {
          let doc = st.docByHash.get(r.blob_hash);
          if (doc === undefined) {
            const d = parsed.get(r.blob_hash);
            if (!d) continue; // indexed by another indexer meanwhile: docByHash found it above
            doc = insertDoc(st, d);
            report.indexed++;
            if (d.unparsed !== null) report.unparsed++;
          }
          st.member.run(r.folder_id, r.uidvalidity, r.uid, doc);
          report.memberships++;
        }
        const last = take[take.length - 1];
        if (last && last.id > mark) metaSet(db, 'mark', String(Math.max(last.id, Number(metaGet(db, 'mark') ?? 0))));
      }).immediate();
      seen += take.length;
      opts.onProgress?.({ indexed: Math.min(seen, total), total });
      if (take.length < rows.length) return report;
      cursor = rows[rows.length - 1]!.id;
    }
    // Everything below the archive's highest row is in: the mark says so even when the last rows
    // were taken by the full pass.
    const max = st.maxId.get() ?? 0;
    if (max > Number(metaGet(db, 'mark') ?? 0)) metaSet(db, 'mark', String(max));
    if (opts.full) metaSet(db, 'archive_ino', ino);
    report.complete = true;
    return report;
  } finally {
    packs.close();
    report.durationMs = Math.round(performance.now() - started);
  }
}

async function readDoc(st: ReturnType<typeof statements>, packs: PackSource, r: Row): Promise<Doc> {
  const loc = st.locate.get(r.blob_hash);
  if (!loc) return unreadableDoc(r.blob_hash, 'the message is not in the archive’s packs (run mailkeep verify)', r.internaldate);
  let source;
  try {
    source = packs.open(loc);
  } catch (err) {
    return unreadableDoc(r.blob_hash, `the message cannot be read from ${loc.file}: ${err instanceof Error ? err.message : String(err)}`, r.internaldate);
  }
  // Loaded on first use: a search whose index is up to date (mailkeep search) does not load the MIME
  // parser and its charset tables.
  const { parseMessage } = await import('./parse-message.ts');
  const parsed = await parseMessage(source, { textChars: SEARCH_LIMITS.bodyTextChars, attachmentSizes: false });
  return docOf(r.blob_hash, loc.length, parsed, r.internaldate);
}

function insertDoc(st: ReturnType<typeof statements>, d: Doc): number {
  const put = (id: number): number => {
    const text = { id, subject: d.subject, sender: d.sender, recipients: d.recipients, cc: d.cc, body: d.body, filenames: d.filenames };
    st.insertDoc.run({ id, hash: d.hash, date: d.date, size: d.size, attach: d.attach, unparsed: d.unparsed });
    st.insertText.run(text);
    st.insertFts.run(text);
    return id;
  };
  let sec = d.date === null ? -1 : Math.min(MAX_SECONDS, Math.max(0, Math.floor(d.date / 1000)));
  for (;;) {
    const base = sec * SLOTS;
    const max = st.slotMax.get(base, base + SLOTS - 1);
    if (max === null || max === undefined) return put(base);
    if (max < base + SLOTS - 1) return put(max + 1);
    // 65,536 messages in one second: the next slot down (order within that second is kept).
    sec -= 1;
  }
}
