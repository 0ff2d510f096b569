import fs from 'node:fs';
import path from 'node:path';
import { ARCHIVE_BROWSE_LIMITS } from '../../lib/limits.ts';
import { ArchiveResultByMethod, type ArchiveMethod, type ArchiveRequest, type ArchiveResultOf } from '../../lib/protocol/archive-browse.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { archiveDirOf } from '../jobs/data-dirs.ts';
// Dependency-free (no SQLite): the door still loads the search module only on first use.
import { clip } from '../search/search-text.ts';

/**
 * The archive.* requests of the Archive page (lib/protocol/archive-browse.ts), answered from the
 * account's archive by the search module (relay/search: the index and its query language). This
 * file owns what the door promises: an account without an archive is NOT_FOUND, every answer comes
 * within ARCHIVE_BROWSE_LIMITS.relayDeadlineMs, and every answer fits the wire schema (checked here,
 * so a field the search module adds or misses is our error, never a malformed frame).
 */

/**
 * What the search module gives (relay/search, its types.ts); loaded on first use so the door starts
 * without SQLite. Its records carry more than the wire (the archive's USER@HOST:PORT, folder ids):
 * answers are built field by field below, so nothing leaks onto the wire by accident.
 */
export interface ArchiveBackend {
  searchArchive(archiveDir: string, query: string, opts: { account?: string; limit?: number; cursor?: string; atRun?: number; count?: boolean | number; timeZone?: string }): MaybePromise<BackendPage>;
  listFolders(archiveDir: string, account: string | undefined, opts: { atRun?: number }): MaybePromise<BackendFolder[]>;
  listMessages(archiveDir: string, account: string | undefined, folder: string, opts: { cursor?: string; limit?: number; atRun?: number }): MaybePromise<BackendPage>;
  showMessage(archiveDir: string, id: string): MaybePromise<BackendShown>;
  listRuns(archiveDir: string): MaybePromise<ArchiveResultOf<'archive.runs'>['runs']>;
}
type MaybePromise<T> = T | Promise<T>;
type WireHit = ArchiveResultOf<'archive.search'>['hits'][number];
type BackendHit = Omit<WireHit, 'account'> & { account?: string };
interface BackendPage { hits: BackendHit[]; nextCursor?: string; total?: number; totalAtLeast?: true }
type BackendFolder = Omit<ArchiveResultOf<'archive.folders'>['folders'][number], 'notIndexed'> & { notIndexed?: number };
type BackendShown = Omit<ArchiveResultOf<'archive.show'>, 'account' | 'id'> & { id?: string; account?: string };

export type ArchiveCommands = (req: ArchiveRequest) => Promise<unknown>;

export function createArchiveCommands(dataDir: string, loadBackend: () => Promise<ArchiveBackend>, deadlineMs: number = ARCHIVE_BROWSE_LIMITS.relayDeadlineMs): ArchiveCommands {
  return async (req) => {
    const dir = archiveDirOf(dataDir, req.params.accountId);
    // No archive yet (never backed up, or a removed account's id): say so rather than an empty list.
    if (!fs.existsSync(path.join(dir, 'index.sqlite'))) throw mailkeepError('NOT_FOUND', `account ${req.params.accountId} has no archive yet (no backup has run)`);
    const backend = await loadBackend();
    const answer = withDeadline(answerOf(backend, dir, req), deadlineMs, req.method);
    return checked(req.method, await answer);
  };
}

async function answerOf(b: ArchiveBackend, dir: string, req: ArchiveRequest): Promise<unknown> {
  const account = req.params.accountId;
  const at = (n: number | undefined) => (n === undefined ? {} : { atRun: n });
  const past = 'atRun' in req.params && req.params.atRun !== undefined;
  // Text longer than the wire's fields is cut here (a spammer's 5,000-character subject): one
  // such message must be listed, not fail the whole page's answer.
  const hitOf = (h: BackendHit): WireHit => ({
    id: h.id, account, folder: clip(h.folder, L.folderNameChars), date: h.date,
    from: clip(h.from, L.hitFromChars), to: clip(h.to, L.hitToChars), subject: clip(h.subject, L.hitSubjectChars), size: h.size, flags: flagsOf(h.flags),
    goneOnServer: goneAt(past, h.goneOnServer), hasAttachment: h.hasAttachment,
    ...(h.unparsed ? { unparsed: true } : {}),
    ...(h.snippet !== undefined ? { snippet: clip(h.snippet, L.snippetChars) } : {}),
  });
  const pageOf = (p: BackendPage) => ({ hits: p.hits.map(hitOf), ...(p.nextCursor ? { nextCursor: p.nextCursor } : {}), ...(p.total !== undefined ? { total: p.total } : {}), ...(p.totalAtLeast ? { totalAtLeast: true as const } : {}) });
  switch (req.method) {
    case 'archive.runs':
      return { runs: await b.listRuns(dir) };
    case 'archive.folders': {
      const folders = await b.listFolders(dir, undefined, at(req.params.atRun));
      return {
        folders: folders.map((f) => ({ name: clip(f.name, L.folderNameChars), delimiter: f.delimiter, specialUse: f.specialUse, messages: f.messages, goneOnServer: past ? 0 : f.goneOnServer, ...(f.notIndexed !== undefined ? { notIndexed: f.notIndexed } : {}) })),
      };
    }
    case 'archive.messages': {
      const p = req.params;
      return pageOf(await b.listMessages(dir, undefined, p.folder, { limit: p.limit, ...(p.cursor ? { cursor: p.cursor } : {}), ...at(p.atRun) }));
    }
    case 'archive.search': {
      const p = req.params;
      // The first page says how many match in all ("1,204 found"); later pages need not count again.
      return pageOf(
        await b.searchArchive(dir, p.query, { limit: p.limit, ...(p.cursor ? { cursor: p.cursor } : { count: L.countMax }), ...at(p.atRun), ...(p.timeZone ? { timeZone: p.timeZone } : {}) }),
      );
    }
    case 'archive.show': {
      const m = await b.showMessage(dir, req.params.id);
      return previewOf({
        id: req.params.id, account, folder: m.folder, headers: m.headers, text: m.text, ...(m.html !== undefined ? { html: m.html } : {}),
        truncated: m.truncated, attachments: m.attachments.map((a) => ({ filename: a.filename, size: a.size, contentType: a.contentType })),
        size: m.size, flags: m.flags, date: m.date, goneOnServer: m.goneOnServer, ...(m.parseError ? { parseError: m.parseError } : {}),
      });
    }
  }
}

/**
 * "Deleted on server" at a past run (the point-in-time view) means gone from the server at that run.
 * That view lists exactly what the server held at the run, so none of it was gone then: the mark,
 * which the search module computes as of now, is not carried (docs/search.md, Archive page).
 */
export function goneAt(pastRun: boolean, goneNow: boolean): boolean {
  return pastRun ? false : goneNow;
}

/**
 * The preview carries at most previewTextMaxChars of text and of HTML, and says when it cut: a
 * multi-MB newsletter must not make a frame the socket refuses (the .eml download has all of it).
 */
export function previewOf(m: Omit<ArchiveResultOf<'archive.show'>, 'truncated'> & { truncated?: boolean }): ArchiveResultOf<'archive.show'> {
  const max = L.previewTextMaxChars;
  const cut = m.text.length > max || (m.html?.length ?? 0) > max;
  return {
    ...m,
    folder: clip(m.folder, L.folderNameChars),
    text: clip(m.text, max),
    ...(m.html !== undefined ? { html: clip(m.html, max) } : {}),
    headers: m.headers.slice(0, L.previewHeadersMax).map((h) => ({ name: clip(h.name, L.previewHeaderNameChars), value: clip(h.value, L.previewHeaderValueChars) })),
    attachments: m.attachments
      .slice(0, L.previewAttachmentsMax)
      .map((a) => ({ filename: clip(a.filename, L.attachmentNameChars), size: a.size, contentType: clip(a.contentType, L.contentTypeChars) })),
    flags: flagsOf(m.flags),
    ...(m.parseError !== undefined ? { parseError: clip(m.parseError, L.previewParseErrorChars) } : {}),
    truncated: cut || (m.truncated ?? false),
  };
}

const L = ARCHIVE_BROWSE_LIMITS;

const flagsOf = (flags: string[]): string[] => flags.slice(0, L.flagsMax).map((f) => clip(f, L.flagChars));

function checked<M extends ArchiveMethod>(method: M, value: unknown): ArchiveResultOf<M> {
  const parsed = ArchiveResultByMethod[method].safeParse(value);
  if (!parsed.success) throw new Error(`${method}: the archive's answer does not fit the protocol: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`);
  return parsed.data as ArchiveResultOf<M>;
}

/** A stuck disk or a runaway query must not hold the page's request forever. */
async function withDeadline<T>(work: Promise<T>, ms: number, method: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(mailkeepError('CONNECTION_TIMEOUT', `${method} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The relay's backend: the archive's runs (archive-runs.ts) and the search module (relay/search:
 * folders, lists, search, preview), loaded on first use like the job engines. A relay account's
 * archive holds that one account, named to the search module as its USER@HOST:PORT.
 *
 * The relay's background indexer (relay/search/background-indexer.ts) follows every backup. A
 * request about an archive that changed since the index last caught up (a backup just ended, its
 * last pass still running) waits for the indexer at most indexCatchUpWaitMs, then answers with
 * what is indexed (folders count the rest as notIndexed, and the page asks again).
 */
export async function loadArchiveBackend(): Promise<ArchiveBackend> {
  const search = await import('../search/index.ts');
  const { searchIndexer } = await import('../search/background-indexer.ts');
  const { listRuns, archivedAccountOf } = await import('./archive-runs.ts');
  const caughtUp = (dir: string) => indexCatchUp(dir, searchIndexer());
  return {
    listRuns,
    listFolders: async (dir, _account, opts) => (await caughtUp(dir), search.listFolders(dir, archivedAccountOf(dir), opts)),
    listMessages: async (dir, _account, folder, opts) => (await caughtUp(dir), search.listMessages(dir, archivedAccountOf(dir), folder, opts)),
    searchArchive: async (dir, query, opts) => (await caughtUp(dir), search.searchArchive(dir, query, { ...opts, account: archivedAccountOf(dir) })),
    showMessage: (dir, id) => search.showMessage(dir, id, { textChars: ARCHIVE_BROWSE_LIMITS.previewTextMaxChars }),
  };
}

const seenStamps = new Map<string, string>();

/** What changes whenever a backup commits to the archive index (the file or its WAL). */
function archiveStamp(dir: string): string {
  const st = (f: string) => fs.statSync(path.join(dir, f), { throwIfNoEntry: false });
  const a = st('index.sqlite');
  const w = st('index.sqlite-wal');
  return `${a?.mtimeMs ?? 0}:${a?.size ?? 0}:${w?.mtimeMs ?? 0}:${w?.size ?? 0}`;
}

/** The part of the background indexer a request needs: queue an archive, and know when it is done. */
export interface IndexerLike {
  schedule(archiveDir: string, full: boolean): void;
  idle(): Promise<void>;
}

/**
 * When the archive changed since the last look, asks the indexer to catch up (it runs one archive
 * at a time; a queued archive is not queued twice), and waits for it at most indexCatchUpWaitMs.
 */
export async function indexCatchUp(dir: string, indexer: IndexerLike): Promise<void> {
  const stamp = archiveStamp(dir);
  if (seenStamps.get(dir) === stamp) return;
  seenStamps.set(dir, stamp);
  indexer.schedule(dir, false);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([indexer.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ARCHIVE_BROWSE_LIMITS.indexCatchUpWaitMs)))]);
  clearTimeout(timer);
}
