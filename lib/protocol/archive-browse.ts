import { z } from '../zod.ts';
import { ARCHIVE_BROWSE_LIMITS } from '../limits.ts';
import { RequestId, SafeId } from './ids.ts';
import { IanaTimeZone } from './time-zone.ts';

/**
 * The Archive page's requests (issue 15): what an account's archive holds, browsed by folder or
 * searched, one message shown, and the backup runs for the point-in-time switch. Read-only: putting
 * mail back or downloading it are restore and download jobs (restore-params.ts, download-params.ts),
 * which take the same message ids.
 *
 * Every answer that lists messages is a page: `limit` rows at most, and `nextCursor` (opaque, the
 * relay's own) to ask for the next one. The relay answers each request within its deadline
 * (ARCHIVE_BROWSE_LIMITS.relayDeadlineMs) or with CONNECTION_TIMEOUT, never a request that hangs.
 */

/**
 * One archived message as search and browse name it (relay/search MessageRef): `<first 16 hex
 * digits of the blob's SHA-256>-<folder id>`, e.g. `3f2a9c0d1e2b4a5c-3`: content in a folder, stable
 * across `mailkeep repair` and `reindex`. What Copy link, restore and download name. The wire
 * accepts any short id of this alphabet; the relay resolves it (restore-select.ts) or says NOT_FOUND.
 */
export const ArchiveMessageId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'an archive message id');
export type ArchiveMessageId = z.infer<typeof ArchiveMessageId>;

/** A page's continuation, as the relay gave it: opaque to the extension. */
export const ArchiveCursor = z.string().min(1).max(512);

/** The account as it was at this backup run (archive runs.id); absent: everything ever archived. */
const atRun = z.number().int().positive().optional();
const limit = z.number().int().min(1).max(ARCHIVE_BROWSE_LIMITS.pageMax).default(ARCHIVE_BROWSE_LIMITS.pageDefault);

const request = <M extends string, P extends z.ZodType>(method: M, params: P) =>
  z.strictObject({ type: z.literal('request'), id: RequestId, method: z.literal(method), params });

/** The account's backup runs, newest first: the choices of the point-in-time switch. */
export const ArchiveRuns = request('archive.runs', z.strictObject({ accountId: SafeId }));
/** The account's archived folders with their message counts (at `atRun`, else as of now, deleted mail included). */
export const ArchiveFolders = request('archive.folders', z.strictObject({ accountId: SafeId, atRun }));
/** One folder's messages, newest first, one page. */
export const ArchiveMessages = request(
  'archive.messages',
  z.strictObject({ accountId: SafeId, folder: z.string().min(1).max(1024), atRun, cursor: ArchiveCursor.optional(), limit }),
);
/**
 * The query language of docs/search.md (words, "phrases", from:, to:, subject:, folder:,
 * has:attachment, filename:, before:/after:, larger:, is:deleted-on-server, OR, -). A query that
 * cannot be parsed is refused with SEARCH_QUERY_INVALID and `details.position` (0-based, in UTF-16
 * units of the query as sent: send it untrimmed for the position to match the search box).
 * `timeZone`: the page's IANA zone, in which before:2024-03-01 begins (default: the relay's).
 */
export const ArchiveSearch = request(
  'archive.search',
  z.strictObject({
    accountId: SafeId,
    query: z.string().max(ARCHIVE_BROWSE_LIMITS.queryMaxChars),
    atRun,
    cursor: ArchiveCursor.optional(),
    limit,
    // Where before:/after: days begin (the page's zone, as it shows dates); absent: the relay's.
    timeZone: IanaTimeZone.optional(),
  }),
);
/** One message for the preview: headers, text, the HTML (rendered by the page in a sandbox), attachments. */
export const ArchiveShow = request('archive.show', z.strictObject({ accountId: SafeId, id: ArchiveMessageId }));

export const ArchiveRequest = z.discriminatedUnion('method', [ArchiveRuns, ArchiveFolders, ArchiveMessages, ArchiveSearch, ArchiveShow]);

/** A page's archive request as it passes through the service worker: the method and its params (no frame id). */
export const ArchiveCall = z.discriminatedUnion('method', [
  ArchiveRuns.pick({ method: true, params: true }),
  ArchiveFolders.pick({ method: true, params: true }),
  ArchiveMessages.pick({ method: true, params: true }),
  ArchiveSearch.pick({ method: true, params: true }),
  ArchiveShow.pick({ method: true, params: true }),
]);
export type ArchiveCall = z.infer<typeof ArchiveCall>;
export type ArchiveRequest = z.infer<typeof ArchiveRequest>;
export type ArchiveMethod = ArchiveRequest['method'];
export const ARCHIVE_METHODS = ArchiveRequest.options.map((o) => o.shape.method.value);

const text = (max: number) => z.string().max(max);
const L = ARCHIVE_BROWSE_LIMITS;
const date = z.string().max(64).nullable();

/** A message in a list or a search result: what the list's row shows. */
export const ArchiveHit = z.strictObject({
  id: ArchiveMessageId,
  /** The relay's account id. */
  account: SafeId,
  folder: text(L.folderNameChars),
  /** The Date header (ISO, UTC); INTERNALDATE when that is missing or unreadable. */
  date,
  from: text(L.hitFromChars),
  to: text(L.hitToChars),
  subject: text(L.hitSubjectChars),
  size: z.number().int().nonnegative(),
  /** IMAP flags and keywords as archived (\Seen, \Flagged, $Forwarded...). */
  flags: z.array(text(L.flagChars)).max(L.flagsMax),
  /** In the archive but no longer on the server (gone in a later backup run). */
  goneOnServer: z.boolean(),
  hasAttachment: z.boolean(),
  /** Its MIME structure could not be read: found by its headers only. */
  unparsed: z.boolean().optional(),
  /** Search only: the matching text with its words between \u0002 and \u0003 (never HTML). */
  snippet: text(L.snippetChars).optional(),
});
export type ArchiveHit = z.infer<typeof ArchiveHit>;

/** Where highlighted words begin and end in a snippet (plain text, so it cannot carry markup). */
export const SNIPPET_MARK_START = '\u0002';
export const SNIPPET_MARK_END = '\u0003';

const page = z.strictObject({
  hits: z.array(ArchiveHit).max(ARCHIVE_BROWSE_LIMITS.pageMax),
  nextCursor: ArchiveCursor.optional(),
  /** How many match in all, when the relay counted them. */
  total: z.number().int().nonnegative().optional(),
  /** The count stopped at ARCHIVE_BROWSE_LIMITS.countMax: at least `total` match. */
  totalAtLeast: z.literal(true).optional(),
});

export const ArchiveRun = z.strictObject({
  id: z.number().int().positive(),
  startedAt: text(64),
  finishedAt: date,
  status: text(64).nullable(),
  newMessages: z.number().int().nonnegative(),
});
export type ArchiveRun = z.infer<typeof ArchiveRun>;

export const ArchiveFolder = z.strictObject({
  name: text(L.folderNameChars),
  delimiter: text(4).nullable(),
  specialUse: text(64).nullable(),
  messages: z.number().int().nonnegative(),
  /** Of those, how many are gone from the server. */
  goneOnServer: z.number().int().nonnegative(),
  /** Of those, how many the search index has not reached yet (they are listed once it has). */
  notIndexed: z.number().int().nonnegative().optional(),
});
export type ArchiveFolder = z.infer<typeof ArchiveFolder>;

export const ArchiveAttachment = z.strictObject({ filename: text(L.attachmentNameChars), size: z.number().int().nonnegative(), contentType: text(L.contentTypeChars) });

export const ArchiveMessageView = z.strictObject({
  id: ArchiveMessageId,
  account: SafeId,
  folder: text(L.folderNameChars),
  /** The header fields in order, decoded (encoded words, charsets). */
  headers: z
    .array(z.strictObject({ name: text(ARCHIVE_BROWSE_LIMITS.previewHeaderNameChars), value: text(ARCHIVE_BROWSE_LIMITS.previewHeaderValueChars) }))
    .max(ARCHIVE_BROWSE_LIMITS.previewHeadersMax),
  text: text(ARCHIVE_BROWSE_LIMITS.previewTextMaxChars),
  /** The HTML part as archived: the page shows it only in a sandboxed frame that blocks scripts and remote loads. */
  html: text(ARCHIVE_BROWSE_LIMITS.previewTextMaxChars).optional(),
  /** The text or HTML was longer than the preview carries (download the message for all of it). */
  truncated: z.boolean(),
  attachments: z.array(ArchiveAttachment).max(ARCHIVE_BROWSE_LIMITS.previewAttachmentsMax),
  size: z.number().int().nonnegative(),
  flags: z.array(text(L.flagChars)).max(L.flagsMax),
  date,
  goneOnServer: z.boolean(),
  /** Why the MIME structure could not be read (what is shown is what could be). */
  parseError: text(ARCHIVE_BROWSE_LIMITS.previewParseErrorChars).optional(),
});
export type ArchiveMessageView = z.infer<typeof ArchiveMessageView>;

/** Result payloads of the archive.* methods (merged into relay-frames.ts ResultByMethod). */
export const ArchiveResultByMethod = {
  'archive.runs': z.strictObject({ runs: z.array(ArchiveRun).max(ARCHIVE_BROWSE_LIMITS.runsMax) }),
  'archive.folders': z.strictObject({ folders: z.array(ArchiveFolder).max(ARCHIVE_BROWSE_LIMITS.foldersMax) }),
  'archive.messages': page,
  'archive.search': page,
  'archive.show': ArchiveMessageView,
} as const satisfies Record<ArchiveMethod, z.ZodType>;
export type ArchiveResultOf<M extends ArchiveMethod> = z.infer<(typeof ArchiveResultByMethod)[M]>;

/** How many message ids one restore or download job may name (a selection, not a folder). */
export const ArchiveSelection = z.array(ArchiveMessageId).min(1).max(ARCHIVE_BROWSE_LIMITS.selectionMax);
