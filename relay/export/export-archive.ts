import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { openArchiveForReading } from '../archive/archive-reader.ts';
import type { Db } from '../archive/schema.ts';
import { resolveSourceAccount, selectCandidates, type RestoreCandidate } from '../jobs/restore-select.ts';
import type { RestoreScope } from '../jobs/restore/restore-types.ts';
import type { BackupProgress } from '../jobs/backup/types.ts';
import { fromLine, gmailHeaders, MboxrdEscaper, takeoutLabel } from './mboxrd.ts';
import { groupByMessage } from '../jobs/gmail-labels.ts';
import { checkOutPath, publishOutput } from './out-path.ts';
import { BufferedOutput, openOutputFile, type OpenOutput, type OutputFile } from './output-file.ts';
import { ZipWriter } from './zip-writer.ts';
import { emlEntryName, subjectOf } from './eml-entry-name.ts';

/** `eml`: one message's bytes as they were archived, no zip (the Archive page's Download of one). */
export type ExportFormat = 'mbox' | 'eml-zip' | 'eml';

export interface ExportOptions {
  archiveDir: string;
  /** Which archived account; optional when the archive holds one. */
  source?: { user: string; host: string; port?: number };
  format: ExportFormat;
  /**
   * The finished file. Written as a temporary file beside it, then put in place: never half there.
   * Refused before anything is written when it lies inside the archive, is a directory, or exists
   * (unless `force`): see out-path.ts.
   */
  out: string;
  /** Replace an existing file at `out` (never one inside the archive). */
  force?: boolean;
  scope?: Pick<RestoreScope, 'folder' | 'since' | 'until' | 'ids'>;
  /** The zone of the day in an eml-zip's file names (the person's; default UTC). */
  timeZone?: string;
  /** Tests: zip64 records for every entry, to check the structure without writing 4 GB. */
  forceZip64?: boolean;
  /** Tests: a disk that fills up. */
  openOutput?: OpenOutput;
}

/** Same shape as every job's progress (the CLI's printer and the relay's events read it alike). */
export type ExportProgress = BackupProgress;

export interface ExportSummary {
  file: string;
  /** Size of the finished file. */
  fileBytes: number;
  messages: number;
  /** Message bytes exported (before mbox escaping and zip headers). */
  bytes: number;
  folders: number;
}

/**
 * Writes the archive's messages (the account, one folder, or a date range; each message in the
 * folder it was last seen in, as Restore chooses them) into a zip: one mboxrd file per folder
 * ("Projekte/2024.mbox"), or one .eml per message in the folder tree, named by day and subject
 * ("Projekte/2024/2024-05-14 Hotel booking.eml", eml-entry-name.ts).
 *
 * Streamed: blobs are read in fixed chunks, hashed on the way (a blob that does not match its
 * SHA-256 fails the export: design.md I4) and written through a fixed buffer; memory does not
 * depend on message or archive size. Atomic: a temporary file in the same directory, fsynced, then
 * renamed; on any failure (disk full, a damaged blob, cancel) the temporary files are removed and
 * the error is rethrown (ENOSPC as DISK_FULL).
 */
export async function exportArchive(
  opts: ExportOptions,
  hooks: { signal?: AbortSignal; onProgress?: (p: ExportProgress) => void } = {},
): Promise<ExportSummary> {
  // First of all, before the archive is even opened: an export must never destroy anything.
  const target = checkOutPath(opts.out, opts.archiveDir, opts.force === true);
  const db = openArchiveForReading(opts.archiveDir);
  const packs = new PackReader(db, opts.archiveDir);
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${crypto.randomBytes(6).toString('hex')}.partial`);
  const cdTmp = `${tmp}.cd`;
  const openOutput = opts.openOutput ?? openOutputFile;
  let file: OutputFile | null = null;
  let zip: ZipWriter | null = null;
  try {
    // Checked first: otherwise the temp file's ENOENT (".x.zip.1a2b.partial") is all the user sees.
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw mailkeepError('NOT_FOUND', `the output directory ${dir} does not exist (create it, or choose another --out)`);
    const accountId = resolveSourceAccount(db, opts.source);
    const candidates = selectCandidates(db, accountId, opts.scope ?? {});
    const byFolder = new Map<string, RestoreCandidate[]>();
    // A Gmail archive as mbox is exported as Takeout does: each message once, with its labels.
    const gmail = opts.format === 'mbox' && candidates.some((c) => c.gmMsgId) ? gmailExport(db, accountId, candidates, opts.scope ?? {}) : null;
    if (gmail) byFolder.set(GMAIL_MBOX_NAME, gmail.messages);
    else
      for (const c of candidates) {
        const list = byFolder.get(c.folder);
        if (list) list.push(c);
        else byFolder.set(c.folder, [c]);
      }
    file = await openOutput(tmp);
    const out = new BufferedOutput(file);
    if (opts.format === 'eml') {
      // One message, byte for byte: a zip of one would make the person unpack it to open it.
      if (candidates.length !== 1) throw mailkeepError('INVALID_INPUT', `an .eml download is one message; this selection holds ${candidates.length} (download them as a zip)`);
      const only = candidates[0]!;
      hooks.onProgress?.({ folder: only.folder, folderIndex: 1, folderCount: 1, done: 0, total: 1, messages: 0, bytes: 0 });
      await packs.stream(only.hash, (chunk) => out.write(chunk));
      await out.flush();
      await file.sync();
      await file.close();
      file = null;
      await publishOutput(tmp, target, opts.force === true);
      await syncDir(dir);
      hooks.onProgress?.({ folder: only.folder, folderIndex: 1, folderCount: 1, done: 1, total: 1, messages: 1, bytes: only.size });
      return { file: opts.out, fileBytes: out.offset, messages: 1, bytes: only.size, folders: 1 };
    }
    zip = await ZipWriter.create(out, cdTmp, openOutput, { forceZip64: opts.forceZip64 });
    let messages = 0;
    let bytes = 0;
    let folderIndex = 0;
    const names = new Set<string>();
    for (const [folder, list] of byFolder) {
      folderIndex++;
      const base = uniqueName(folderPath(folder, list[0]!.delimiter), names);
      const report = (done: number): void =>
        hooks.onProgress?.({ folder, folderIndex, folderCount: byFolder.size, done, total: list.length, messages, bytes });
      report(0);
      if (opts.format === 'mbox') {
        const newest = list.reduce<Date | null>((d, c) => (c.internalDate && (!d || c.internalDate > d) ? c.internalDate : d), null);
        await zip.add(`${base}.mbox`, newest ?? new Date(), async (write) => {
          for (const [i, c] of list.entries()) {
            hooks.signal?.throwIfAborted();
            await write(fromLine(c.internalDate));
            const esc = new MboxrdEscaper();
            const extra = gmail?.headers.get(c);
            if (extra) for (const b of esc.push(extra)) await write(b);
            await packs.stream(c.hash, async (chunk) => {
              for (const b of esc.push(chunk)) await write(b);
            });
            for (const b of esc.end()) await write(b);
            messages++;
            bytes += c.size;
            report(i + 1);
          }
        });
      } else {
        const taken = new Set<string>();
        for (const [i, c] of list.entries()) {
          hooks.signal?.throwIfAborted();
          // Named by day and subject (eml-entry-name.ts): a person can tell the files apart.
          const name = emlEntryName({ subject: subjectOf(await packs.head(c.hash, RELAY_LIMITS.emlNameHeadBytes)), internalDate: c.internalDate }, taken, opts.timeZone);
          await zip.add(`${base}/${name}`, c.internalDate ?? new Date(), (write) => packs.stream(c.hash, write));
          messages++;
          bytes += c.size;
          report(i + 1);
        }
      }
    }
    await zip.finish();
    await file.sync();
    await file.close();
    file = null;
    await publishOutput(tmp, target, opts.force === true);
    await syncDir(dir);
    return { file: opts.out, fileBytes: out.offset, messages, bytes, folders: byFolder.size };
  } catch (err) {
    await zip?.abort();
    await file?.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    if ((err as NodeJS.ErrnoException)?.code === 'ENOSPC') throw mailkeepError('DISK_FULL', `the disk is full while writing ${path.basename(opts.out)}; nothing was left behind`, {}, err);
    throw err;
  } finally {
    await packs.close();
    db.close();
  }
}

/** Takeout's file name for a whole Gmail account. */
const GMAIL_MBOX_NAME = 'All mail Including Spam and Trash';

/**
 * A Gmail archive's messages once each (grouped by X-GM-MSGID, the All Mail copy where there is
 * one) and, per message, the X-GM-THRID / X-Gmail-Labels lines: its labels are every folder of the
 * account that holds it, not only those the scope selected.
 */
function gmailExport(db: Db, accountId: number, candidates: RestoreCandidate[], scope: NonNullable<ExportOptions['scope']>): { messages: RestoreCandidate[]; headers: Map<RestoreCandidate, Buffer> } {
  const uses = new Map(db.prepare<[number], { name: string; special_use: string | null }>('SELECT name, special_use FROM folders WHERE account_id = ?').all(accountId).map((r) => [r.name, r.special_use]));
  const specialOf = (folder: string): string | null => uses.get(folder) ?? null;
  const everywhere = scope.folder || scope.since || scope.until ? selectCandidates(db, accountId, {}) : candidates;
  const labels = new Map<string, string[]>();
  for (const g of groupByMessage(everywhere, specialOf, { preferAllMail: true })) {
    const all = [g.primary, ...g.others];
    const names = [...new Set(all.map((c) => takeoutLabel(c.folder, specialOf(c.folder))).filter((l): l is string => l !== null))];
    labels.set(g.key, names.length ? names : ['Archived']);
  }
  const messages: RestoreCandidate[] = [];
  const headers = new Map<RestoreCandidate, Buffer>();
  for (const g of groupByMessage(candidates, specialOf, { preferAllMail: true })) {
    messages.push(g.primary);
    headers.set(g.primary, gmailHeaders(labels.get(g.key) ?? ['Archived'], g.primary.gmThrId ?? null));
  }
  messages.sort((a, b) => (a.internalDate?.getTime() ?? 0) - (b.internalDate?.getTime() ?? 0));
  return { messages, headers };
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    /* some filesystems refuse fsync on a directory; the rename itself is done */
  } finally {
    await fh.close();
  }
}

/** Characters Windows, macOS or zip tools refuse or misread in a path segment. */
function cleanSegment(s: string): string {
  const t = s.replace(/[\u0000-\u001f<>:"\\|?*]/g, '_').replace(/[. ]+$/, (m) => '_'.repeat(m.length));
  return t === '' || t === '.' || t === '..' ? '_' : t;
}

function folderPath(folder: string, delimiter: string | null): string {
  return (delimiter ? folder.split(delimiter) : [folder]).map(cleanSegment).join('/');
}

function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base} (${n})`;
  used.add(name.toLowerCase());
  return name;
}

/** Streams blobs out of the packs in fixed chunks, checking each against its SHA-256 (I4). */
class PackReader {
  private readonly handles = new Map<number, fs.promises.FileHandle>();
  private readonly locate;
  private readonly packFile;
  private readonly chunk = Buffer.allocUnsafe(RELAY_LIMITS.exportReadChunkBytes);

  constructor(
    db: Db,
    private readonly archiveDir: string,
  ) {
    this.locate = db.prepare<[string], { pack_id: number; offset: number; length: number }>('SELECT pack_id, offset, length FROM blobs WHERE hash = ?');
    this.packFile = db.prepare<[number], string>('SELECT file FROM packs WHERE id = ?').pluck();
  }

  /** The blob's first `max` bytes (its header block, for a file name), unchecked: stream() checks the whole. */
  async head(hash: string, max: number): Promise<Buffer> {
    const loc = this.locate.get(hash);
    if (!loc) return Buffer.alloc(0);
    const fh = await this.handle(loc.pack_id);
    const buf = Buffer.alloc(Math.min(max, loc.length));
    const { bytesRead } = await fh.read(buf, 0, buf.length, loc.offset);
    return buf.subarray(0, bytesRead);
  }

  /** Calls `sink` with consecutive chunks; the chunk buffer is reused after `sink` resolves. */
  async stream(hash: string, sink: (chunk: Buffer) => Promise<void>): Promise<void> {
    const loc = this.locate.get(hash);
    if (!loc) throw mailkeepError('ARCHIVE_CORRUPT', `blob ${hash.slice(0, 16)}… is not in the archive index (run mailkeep verify)`, { hash });
    const fh = await this.handle(loc.pack_id);
    const h = crypto.createHash('sha256');
    let at = 0;
    while (at < loc.length) {
      const want = Math.min(this.chunk.length, loc.length - at);
      const { bytesRead } = await fh.read(this.chunk, 0, want, loc.offset + at);
      if (bytesRead <= 0) throw mailkeepError('ARCHIVE_CORRUPT', `blob ${hash.slice(0, 16)}… is truncated (run mailkeep verify)`, { hash });
      const part = this.chunk.subarray(0, bytesRead);
      h.update(part);
      await sink(part);
      at += bytesRead;
    }
    if (h.digest('hex') !== hash) throw mailkeepError('ARCHIVE_CORRUPT', `blob ${hash.slice(0, 16)}… does not match its SHA-256 (run mailkeep verify)`, { hash });
  }

  private async handle(packId: number): Promise<fs.promises.FileHandle> {
    let fh = this.handles.get(packId);
    if (fh) return fh;
    const file = this.packFile.get(packId);
    if (!file) throw mailkeepError('ARCHIVE_CORRUPT', `pack ${packId} is not in the archive index`);
    fh = await fs.promises.open(path.join(this.archiveDir, 'packs', file), 'r');
    this.handles.set(packId, fh);
    return fh;
  }

  async close(): Promise<void> {
    for (const fh of this.handles.values()) await fh.close().catch(() => undefined);
    this.handles.clear();
  }
}
