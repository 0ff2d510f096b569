import type { ListResponse } from 'imapflow';
import { SessionDeadline } from '../../imap/session.ts';
import { backupFolder, isGmailLabel, type SessionContext } from './backup-folder.ts';
import { runBytesTotal } from './size-total.ts';

/**
 * One pass over an account on one connection: LIST (with STATUS in the same round trip where the
 * server has LIST-STATUS), every selectable folder, then folders the server no longer lists.
 */
export async function backupAccount(ctx: SessionContext): Promise<void> {
  const condstore = ctx.client.capabilities.has('CONDSTORE') || ctx.client.enabled.has('CONDSTORE');
  const client = ctx.client;
  const listed = await new SessionDeadline(client).run(ctx.deadlines.messageBaseMs, 'CONNECTION_TIMEOUT', 'LIST', () =>
    client.list({ statusQuery: { messages: true, uidNext: true, uidValidity: true, ...(condstore ? { highestModseq: true } : {}) } }),
  );
  // Gmail mode: All Mail (found by its \All flag, whatever its localized name) comes first, so each
  // label folder after it finds its messages stored already (backup-folder.ts knownContent).
  ctx.gmail = client.capabilities.has('X-GM-EXT-1');
  const rank = (f: ListResponse): number => (ctx.gmail && f.specialUse === '\\All' ? 0 : 1);
  const folders = listed
    .filter((f: ListResponse) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'))
    .sort((a, b) => rank(a) - rank(b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // The run's total for the progress bar: the folders after the current one count by STATUS
  // MESSAGES on a first run (all of it is fetched); an incremental run fetches only new mail, which
  // STATUS cannot bound tightly, so its total is known only once the last folder was searched.
  // In Gmail mode a label folder adds no messages: its messages are All Mail's (counted there).
  const counts = folders.map((f) => (isGmailLabel(ctx, f.specialUse) ? 0 : f.status?.messages));
  ctx.pendingAfter = (index) => {
    let sum = 0;
    for (const n of counts.slice(index)) {
      if (n === undefined || ctx.matchStored) return null;
      sum += n;
    }
    return sum;
  };
  // The bytes to download, before downloading (issue 14 part 3): for the bar's "3.1 of 15.2 GB"
  // and the forecast under the daily budget. On a first backup, and on the run after a pause (a
  // first backup spread over days is several runs); not on every incremental run of a Gmail account.
  // In Gmail mode only All Mail, Spam and Trash are downloaded (a label folder's messages are found
  // stored already): counting the label folders too made the total and the forecast several times too large.
  const downloaded = folders.filter((f) => !isGmailLabel(ctx, f.specialUse));
  if (!ctx.matchStored || ctx.resumesPause) ctx.bytesTotal = await runBytesTotal(client, ctx.writer, ctx.accountId, ctx.runId, downloaded, ctx.deadlines.messageBaseMs);
  for (const [i, f] of folders.entries()) {
    ctx.signal?.throwIfAborted();
    await backupFolder(ctx, f, i + 1, folders.length);
  }
  // Only after a complete listing and pass: a folder missing from it really is gone from the server.
  // (Disappeared messages are counted by content at the end of the run: see run-backup.ts.)
  await ctx.writer.markMissingFolders(ctx.accountId, ctx.seenFolders, ctx.runId);
}
