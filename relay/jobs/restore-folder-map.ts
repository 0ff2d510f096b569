/**
 * Folder names between servers: the archive keeps each name decoded (Unicode) with the source
 * server's hierarchy delimiter. A destination may use another delimiter ("/" vs "."), so names are
 * mapped segment by segment, never passed through (imap-lab.md §6.7: creating "a/b" on a "."
 * server is refused). imapflow does the modified UTF-7 encoding of what we hand it.
 */

/** Stand-in for a destination delimiter that occurs inside one source segment ("a.b" onto a "." server). */
const DELIMITER_STAND_IN = '_';

export function destinationPath(source: string, sourceDelimiter: string | null, destDelimiter: string, into?: string): string {
  let segments = sourceDelimiter ? source.split(sourceDelimiter) : [source];
  // INBOX is case-insensitive (RFC 3501) and a server's own: keep its canonical spelling.
  if (segments.length === 1 && segments[0]!.toUpperCase() === 'INBOX') segments = ['INBOX'];
  const clean = (s: string): string => (destDelimiter ? s.split(destDelimiter).join(DELIMITER_STAND_IN) : s);
  const mapped = segments.map(clean);
  return (into ? [clean(into), ...mapped] : mapped).join(destDelimiter);
}

/** Comparison key of a destination path (INBOX and its children are case-insensitive at the top). */
export function pathKey(p: string, delimiter: string): string {
  const [head, ...rest] = delimiter ? p.split(delimiter) : [p];
  return [head!.toUpperCase() === 'INBOX' ? 'INBOX' : head, ...rest].join(delimiter);
}
