import { MailkeepError, mailkeepError } from '../../lib/protocol/error-codes.ts';

/**
 * SQLite's own words for a damaged index file: a page overwritten or cut short (SQLITE_CORRUPT and
 * its extended codes) or a file that is not a database at all (SQLITE_NOTADB). Every reader of the
 * index turns them into ARCHIVE_DAMAGED with the way out, instead of an UNKNOWN raw message.
 */
const CORRUPT_CODES = /^SQLITE_(CORRUPT|NOTADB)/;
const CORRUPT_TEXT = /database disk image is malformed|file is not a database/i;

export function isIndexCorruption(err: unknown): boolean {
  if (err instanceof MailkeepError) return false;
  const e = err as { code?: unknown; message?: unknown } | null;
  return (typeof e?.code === 'string' && CORRUPT_CODES.test(e.code)) || (typeof e?.message === 'string' && CORRUPT_TEXT.test(e.message));
}

/** The command that rebuilds an index from the packs (and the journal beside them). */
export function repairCommand(dir: string): string {
  return `mailkeep repair --archive ${/^[\w./@:+-]+$/.test(dir) ? dir : JSON.stringify(dir)}`;
}

export function indexDamagedError(dir: string, cause: unknown): MailkeepError {
  const what = cause instanceof Error ? cause.message : String(cause);
  return mailkeepError(
    'ARCHIVE_DAMAGED',
    `the archive's index is damaged (${what}): run "${repairCommand(dir)}" to rebuild it from the packs, which this damage does not touch`,
    { archive: dir },
    cause,
  );
}

/** `err` as ARCHIVE_DAMAGED when it is index corruption, else unchanged. */
export function asIndexError(err: unknown, dir: string): unknown {
  return isIndexCorruption(err) ? indexDamagedError(dir, err) : err;
}

export function indexMissingError(dir: string): MailkeepError {
  return mailkeepError(
    'ARCHIVE_INDEX_MISSING',
    `archive ${dir} holds mail but its index (index.sqlite) is missing; nothing was changed. Rebuild the index with: ${repairCommand(dir)}`,
  );
}
