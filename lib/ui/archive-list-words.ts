/* The Archive page's words above and in an empty message list (counts and zone-free, passed in). */

const count = new Intl.NumberFormat('en-US');

/**
 * "186 messages" / "1,204 found": the real count when the relay knows it (a search's first page
 * counts its matches, up to 1,000: "1,000+ found"; a folder's count is the tree's, at the same
 * run), "100+" only when it does not.
 */
export function listSummaryText(l: { query: string; loaded: number; more: boolean; total?: number | undefined; totalAtLeast?: boolean | undefined; folderCount?: number | undefined }): string {
  const searching = l.query.trim() !== '';
  const known = searching ? l.total : (l.folderCount ?? l.total);
  const n = known ?? l.loaded;
  // The relay counts a search's matches up to ARCHIVE_BROWSE_LIMITS.countMax: "1,000+ found" beyond.
  const plus = (known === undefined && l.more) || (searching && l.totalAtLeast === true) ? '+' : '';
  if (searching) return n === 0 && !plus ? 'No messages match' : `${count.format(n)}${plus} found`;
  return `${count.format(n)}${plus} ${n === 1 && !plus ? 'message' : 'messages'}`;
}

/** What an empty list says: for a search, that nothing matches and what to try; for a folder, that it is empty. */
export function emptyListText(query: string, atRun?: number): { title: string; hints: string[] } {
  const q = query.trim();
  if (!q) return { title: atRun === undefined ? 'This folder holds no archived messages.' : `This folder held no messages at backup ${atRun}.`, hints: [] };
  const hints = ['Check the spelling, or use fewer words: every word must match.'];
  if (/\bfolder:/i.test(q)) hints.push('The folder: filter names a folder by its full name (as in the tree on the left).');
  if (/\b(before|after):/i.test(q)) hints.push('before: and after: take days as YYYY-MM-DD, in this browser\'s time zone.');
  if (atRun !== undefined) hints.push(`Only mail that was on the server at backup ${atRun} is searched: choose "Everything archived" for all of it.`);
  return { title: `No messages match ${q}`, hints };
}
