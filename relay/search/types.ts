/**
 * What relay/search answers (docs/search.md). The relay's archive.* requests (lib/protocol/
 * archive-browse.ts) carry these, with the account named by the relay's account id instead of the
 * archive's USER@HOST:PORT.
 */

/**
 * A message of the archive as search and browse name it: `<first 16 hex digits of the blob's
 * SHA-256>-<folder id>`, e.g. `3f2a9c0d1e2b4a5c-3`. The blob hash is the content itself and the
 * folder id is chosen by the writer and carried in the journal, so the id survives `mailkeep repair`
 * (which replays the journal) and `mailkeep reindex` (which only rebuilds the search index). One id
 * per content per folder: a folder that lists the same message twice (the old and the new
 * generation after a UIDVALIDITY change) shows it once.
 */
export type MessageRef = string;

export interface SearchHit {
  id: MessageRef;
  /** The archived account, as USER@HOST:PORT. */
  account: string;
  /** Folder name, decoded (e.g. Entwürfe). */
  folder: string;
  /** The message's Date header (ISO 8601, UTC); its INTERNALDATE when the header is missing or unreadable. */
  date: string | null;
  /** INTERNALDATE (ISO 8601), when the server gave one. */
  internalDate: string | null;
  /** Decoded From, To and Subject (encoded words and charsets decoded). */
  from: string;
  to: string;
  subject: string;
  size: number;
  /** IMAP system flags and keywords as archived (\Seen, \Flagged, $Forwarded...). */
  flags: string[];
  /** The folder on the server no longer holds this message (as of the account's latest backup run). */
  goneOnServer: boolean;
  hasAttachment: boolean;
  /**
   * Search only: a short stretch of the matching text (a header's when the body does not match),
   * plain text, with each matching word between SNIPPET_MARK_START and SNIPPET_MARK_END.
   */
  snippet?: string;
  /** The message could not be parsed as MIME: it is indexed by its headers only. */
  unparsed?: boolean;
}

export interface SearchPage {
  hits: SearchHit[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
  /** How many (content, folder) pairs match in all: only when `count` was asked (it costs a full scan). */
  total?: number;
  /** The count stopped at `count`'s cap: at least `total` match. */
  totalAtLeast?: true;
}

export interface SearchOptions {
  /** USER@HOST[:PORT] of one archived account; default: every account of the archive. */
  account?: string;
  /** Hits per page (default SEARCH_LIMITS.pageDefault, at most SEARCH_LIMITS.pageMax). */
  limit?: number;
  cursor?: string;
  /** The account as it was at this backup run (runs.id): only messages its folders held then. */
  atRun?: number;
  /** IANA time zone in which before:/after: dates begin (default: this process's zone). */
  timeZone?: string;
  /** The clock (ms) older_than:/newer_than: count back from (default: Date.now()). */
  now?: number;
  /** Also count the matches (`total`): true counts all; a number counts up to it (`totalAtLeast`
   * beyond): counting 50,000 matches of a frequent word costs 100 ms, the first 1,000 a few. */
  count?: boolean | number;
  /** false: hits without `snippet` (`mailkeep search` prints lines that have none; making them is
   * a third of a one-shot query). Default true. */
  snippets?: boolean;
}

export interface FolderCount {
  id: number;
  account: string;
  name: string;
  rawName: string;
  delimiter: string | null;
  specialUse: string | null;
  /** Messages (distinct content) archived in the folder (at `atRun`: held then). */
  messages: number;
  /** Of those, how many the server no longer holds there. */
  goneOnServer: number;
  /** Of those, how many are not in the search index yet (listMessages shows indexed ones). */
  notIndexed: number;
}

export interface ShownMessage {
  id: MessageRef;
  account: string;
  folder: string;
  /** Header fields in order, values decoded (encoded words, charsets); at most `maxHeaders`. */
  headers: { name: string; value: string }[];
  /** The text/plain body (or the text of the HTML when there is no plain part), at most `maxTextChars`. */
  text: string;
  /** The HTML body as archived (untrusted: render it sandboxed, no scripts, no remote loads), at most `maxTextChars`. */
  html?: string;
  /** Text or HTML was cut at `maxTextChars`. */
  truncated: boolean;
  attachments: { filename: string; size: number; contentType: string }[];
  /** Size of the raw message in bytes. */
  size: number;
  flags: string[];
  date: string | null;
  goneOnServer: boolean;
  /** Why the MIME structure could not be read (the headers and text shown are what could be). */
  parseError?: string;
}

export interface IndexProgress {
  indexed: number;
  total: number;
}

export interface IndexReport {
  /** Messages (distinct content) added to the search index by this call. */
  indexed: number;
  /** Of those, indexed by their headers only because their MIME structure could not be parsed. */
  unparsed: number;
  /** Folder memberships added. */
  memberships: number;
  /** Everything in the archive is now in the index (false when stopped by the signal). */
  complete: boolean;
  durationMs: number;
}
