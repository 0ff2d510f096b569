import type { ImapFlow, ListResponse } from 'imapflow';
import { SessionDeadline } from '../../imap/session.ts';
import { sessionLimit } from '../../imap/provider-limits.ts';
import type { ArchiveWriter } from '../../archive/archive-writer.ts';
import { openFolder } from './backup-server.ts';

/**
 * The bytes this run will download, before any body is fetched: per folder, the RFC822.SIZE of
 * every message above the folder's checkpoint (a cheap `UID FETCH 1:* (UID RFC822.SIZE)`; the whole
 * folder on a first backup or a new UIDVALIDITY). An upper bound: messages recognised as stored
 * (by Message-ID, or stored above the cursor before a crash) are not downloaded again. Null when a
 * folder cannot be measured (the bar then shows bytes without a total); a limit signal or a lost
 * session is thrown, as from any other command.
 */
export async function runBytesTotal(
  client: ImapFlow,
  writer: ArchiveWriter,
  accountId: number,
  runId: number,
  folders: ListResponse[],
  deadlineMs: number,
): Promise<number | null> {
  let total = 0;
  for (const f of folders) {
    const rawName = f.pathAsListed ?? f.path;
    try {
      const box = await openFolder(client, deadlineMs, rawName, f.path);
      if (box.exists === 0) continue;
      const folderId = writer.upsertFolder(accountId, runId, { rawName, name: f.path, delimiter: f.delimiter ?? null, specialUse: f.specialUse ?? null });
      const cp = writer.checkpoint(folderId);
      const above = cp && cp.uidvalidity === box.uidvalidity ? cp.lastUid : 0;
      const dl = new SessionDeadline(client);
      dl.arm(deadlineMs, 'CONNECTION_TIMEOUT', `sizes in ${f.path}`);
      try {
        for await (const m of client.fetch(`${above + 1}:*`, { uid: true, size: true }, { uid: true })) {
          if (m.uid > above && typeof m.size === 'number') total += m.size;
          dl.arm(deadlineMs, 'CONNECTION_TIMEOUT', `sizes in ${f.path}`);
        }
      } catch (err) {
        throw dl.expired ?? err;
      } finally {
        dl.clear();
      }
    } catch (err) {
      if (sessionLimit(client) || !client.usable) throw err;
      return null; // a folder refused here is skipped (and named) by the pass itself
    }
  }
  return total;
}
