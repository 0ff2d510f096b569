import { errorCodeOf, MailkeepError } from '../../lib/protocol/error-codes.ts';
import { updateSearchIndex } from '../search/index-update.ts';
import { searchArchive } from '../search/search.ts';
import type { SearchHit } from '../search/types.ts';
import { localTimeZone, offsetMs } from '../search/zone-date.ts';
import { EXIT } from '../server/exit-codes.ts';
import { parseOptions, UsageError, type OptionSpec } from './args.ts';
import { archiveDirOption } from './archive-dir-option.ts';
import { displayWidth, fitColumns } from './display-width.ts';
import { errorLine } from './error-line.ts';
import type { Io } from './io.ts';

export const SEARCH_HELP = `Usage: mailkeep search [--account NAME | --archive DIR] QUERY [--json] [--limit N]
                       [--cursor C] [--at-run N] [--source USER@HOST[:PORT]] [--data-dir DIR]

Finds archived messages, newest first, one line each: date, from, subject, folder, id (for
"mailkeep show"). Messages archived since the last search are indexed first (the search index is
search.sqlite beside the archive; "mailkeep reindex" rebuilds it).

QUERY (docs/search.md):
  words "exact phrase"        in any header or the body; word* matches the beginning of words
  from: to: cc: subject:      in that header (to: also matches Cc); body: in the body only
  filename:report.pdf         an attachment's file name     has:attachment
  folder:INBOX                a folder (in: works too)
  after:2024-03-01 before:2024-04   dates (YYYY-MM-DD, YYYY-MM or YYYY), from midnight where you are
  larger:5M smaller:100K      message size
  is:deleted-on-server        archived, but no longer in that folder on the server
  is:unread is:read is:flagged is:answered
  a b                         both (AND is the default)      a OR b     -a (or NOT a): without a
  ( )                         grouping

  --account NAME     a stored account of the relay (mailkeep account list): its archive; without
                     --account and --archive, the only archive the relay keeps
  --archive DIR      an archive directory (e.g. one copied elsewhere, or made by backup --archive)
  --data-dir DIR     the relay's data dir for --account (default: $MAILKEEP_DATA_DIR or ~/.mailkeep)
  --source ACCOUNT   only this archived account (USER@HOST or USER@HOST:PORT)
  --limit N          hits to print (default 50, at most 500)
  --cursor C         the next page: the cursor a previous --json search gave (nextCursor)
  --at-run N         the account as it was at backup run N (see mailkeep archive-info)
  --json             one JSON object: { hits, nextCursor }

Exit codes: 0 searched (also when nothing matched: "no messages match" goes to standard error),
1 the archive cannot be read or the account is unknown, 2 bad usage or a query that cannot be read
(SEARCH_QUERY_INVALID, with the position marked)`;

/**
 * Options and the words between them: the query may be given as one quoted argument or as several
 * (mailkeep search from:anna contract); everything after "--" is query, so a query may begin
 * with "--".
 */
export function splitArgs(argv: string[], spec: OptionSpec): { opts: Record<string, string | boolean | undefined>; words: string[] } {
  const options: string[] = [];
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      options.push(a);
      const name = a.slice(2).split('=')[0]!;
      if (spec[name] === 'string' && !a.includes('=') && i + 1 < argv.length) options.push(argv[++i]!);
      continue;
    }
    words.push(a);
  }
  return { opts: parseOptions(options, spec), words };
}

/** A SEARCH_QUERY_INVALID error with the query below it and a caret at the position. */
export function queryErrorText(err: MailkeepError, query: string): string {
  const pos = typeof err.details.position === 'number' ? err.details.position : null;
  // The caret goes under the character at `pos` (a UTF-16 index) in terminal columns: wide
  // characters before it take two.
  const caret = pos === null ? '' : `  ${query}\n  ${' '.repeat(displayWidth(query.slice(0, Math.min(pos, query.length))))}^\n`;
  return `${errorLine(err.code, err.message)}${caret}`;
}

/** YYYY-MM-DD HH:MM in `timeZone`. */
export function localDate(iso: string | null, timeZone: string): string {
  if (!iso) return '(no date)        ';
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return '(no date)        ';
  return new Date(ms + offsetMs(ms, timeZone)).toISOString().slice(0, 16).replace('T', ' ');
}

function fit(s: string, width: number): string {
  return fitColumns(s.replace(/\s+/g, ' ').trim(), width);
}

export function hitLine(h: SearchHit, timeZone: string): string {
  const gone = h.goneOnServer ? ' (deleted on server)' : '';
  return `${localDate(h.date, timeZone)}  ${fit(h.from || '(no sender)', 28)}  ${fit(h.subject || '(no subject)', 50)}  ${h.folder}${gone}  ${h.id}\n`;
}

/**
 * The options of the next page's command: the archive named as this one named it, and the same
 * account, run and page size (the cursor holds only a position: without them the next page would
 * be of another search).
 */
function nextPageOptions(o: Record<string, string | boolean | undefined>, dir: string): string {
  // Quoted only where a shell would split or expand the value ("--limit 2", not '--limit "2"').
  const word = (v: string): string => (/^[\w@%+=:,./-]+$/.test(v) ? v : JSON.stringify(v));
  const opt = (name: string): string => (typeof o[name] === 'string' ? ` --${name} ${word(o[name])}` : '');
  // The archive named as this command named it: by account, by path, or (neither) the data dir's only one.
  const archive = typeof o.account === 'string' ? `${opt('account')}${opt('data-dir')}` : typeof o.archive === 'string' ? ` --archive ${word(dir)}` : opt('data-dir');
  return `${archive}${opt('source')}${opt('at-run')}${opt('limit')}`.trim();
}

export async function searchCommand(argv: string[], io: Io): Promise<number> {
  const { opts: o, words } = splitArgs(argv, { archive: 'string', account: 'string', 'data-dir': 'string', source: 'string', limit: 'string', cursor: 'string', 'at-run': 'string', json: 'boolean' });
  const query = words.join(' ');
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError('--limit must be a positive whole number');
  const atRun = o['at-run'] === undefined ? undefined : Number(o['at-run']);
  if (atRun !== undefined && !(Number.isInteger(atRun) && atRun > 0)) throw new UsageError('--at-run must be a run number (see mailkeep archive-info)');
  const timeZone = localTimeZone();
  let dir = '';
  try {
    dir = archiveDirOption(o, io.env);
    await updateSearchIndex(dir, {
      shared: true,
      signal: io.signal,
      onProgress: (p) => {
        if (p.total > 0 && p.indexed === 0 && !o.json) io.err.write(`indexing ${p.total} message(s) archived since the last search…\n`);
      },
    });
    const page = searchArchive(dir, query, {
      timeZone,
      ...(typeof o.source === 'string' ? { account: o.source } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(typeof o.cursor === 'string' ? { cursor: o.cursor } : {}),
      ...(atRun !== undefined ? { atRun } : {}),
      // The lines printed have no snippet; --json keeps them.
      ...(o.json ? {} : { snippets: false }),
    });
    if (o.json) io.out.write(`${JSON.stringify({ kind: 'search', ...page })}\n`);
    else {
      // At a past run the list is what the server held then: nothing in it was deleted then (as the
      // Archive page shows it: archive-commands.ts goneAt).
      for (const h of page.hits) io.out.write(hitLine(atRun === undefined ? h : { ...h, goneOnServer: false }, timeZone));
      if (page.hits.length === 0) io.err.write(`no messages match ${JSON.stringify(query)}${query.trim() ? ' (check the spelling, or try fewer words)' : ''}\n`);
      if (page.nextCursor) io.err.write(`more: mailkeep search ${nextPageOptions(o, dir)} --cursor ${page.nextCursor} ${JSON.stringify(query)}\n`);
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = errorCodeOf(err);
    if (o.json) io.out.write(`${JSON.stringify({ kind: 'search', errorCode: code, ...(err instanceof MailkeepError && err.details.position !== undefined ? { position: err.details.position } : {}) })}\n`);
    if (code === 'SEARCH_QUERY_INVALID') {
      io.err.write(queryErrorText(err as MailkeepError, query));
      return EXIT.usage;
    }
    io.err.write(errorLine(code, err instanceof Error ? err.message : String(err)));
    return code === 'INVALID_INPUT' ? EXIT.usage : EXIT.error;
  }
}
