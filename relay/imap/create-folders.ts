import type { ImapFlow, ListResponse } from 'imapflow';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { classifyImapError, describeImapError, isConnectionCode } from './classify-error.ts';
import { fallbackName, pathKey } from '../jobs/folder-map.ts';

export interface FolderCreateResult {
  /** Paths a CREATE made, confirmed by LIST. */
  created: string[];
  /** Paths that do not list as selectable folders afterwards, with why. */
  failed: { path: string; reason: string }[];
  /** Paths the server refused, created under their fallbackName instead (an emoji on Courier, a "." on Dovecot Maildir). */
  renamed: Map<string, string>;
}

/**
 * CREATEs folders (parents before children) and then LISTs them back: a folder only counts when the
 * server lists it as selectable. This covers both a CREATE refused because the folder already exists
 * (Cyrus "NO Mailbox already exists", Courier "NO Cannot create this folder": listed, so fine) and a
 * CREATE answered OK that left nothing usable (not listed: failed, with the server's words).
 *
 * A name the server refuses is tried once more as folder-map.ts fallbackName (emoji and "." replaced:
 * Courier cannot store an emoji in modified UTF-7, Dovecot's Maildir refuses "."); the caller
 * appends there, and the next run's mapping finds it by that name.
 *
 * Names go out as the session writes them: restore and migrate open the destination without
 * ENABLE UTF8=ACCEPT (session.ts utf8Names: false), so imapflow sends modified UTF-7 and no folder
 * is created that a client without UTF-8 cannot list (Courier stores a UTF-8 name raw, and then
 * drops every such client's LIST).
 */
export async function createFolders(client: ImapFlow, paths: string[], delimiter: string): Promise<FolderCreateResult> {
  const depth = (p: string): number => (delimiter ? p.split(delimiter).length : 1);
  const order = [...new Set(paths)].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
  const refused = new Map<string, string>();
  const made = new Set<string>();
  const renamed = new Map<string, string>();
  const create = async (p: string): Promise<boolean> => {
    try {
      const r = await client.mailboxCreate(p);
      if (r?.created !== false) made.add(p);
      return true;
    } catch (err) {
      if (!client.usable || isConnectionCode(classifyImapError(err))) throw err;
      refused.set(p, describeImapError(err));
      return false;
    }
  };
  for (const p of order) {
    if (await create(p)) continue;
    const alt = fallbackName(p, delimiter);
    if (alt !== p && (await create(alt))) renamed.set(p, alt);
  }
  if (!order.length) return { created: [], failed: [], renamed };
  const listed = new Set<string>();
  for (const l of await listWithoutUtf8(client)) if (!l.flags.has('\\Noselect') && !l.flags.has('\\NonExistent')) listed.add(pathKey(l.path, delimiter));
  const out: FolderCreateResult = { created: [], failed: [], renamed };
  for (const p of order) {
    const q = renamed.get(p) ?? p;
    if (listed.has(pathKey(q, delimiter))) {
      if (made.has(q)) out.created.push(q);
      continue;
    }
    renamed.delete(p);
    const why = refused.get(p);
    out.failed.push({ path: p, reason: why ? `CREATE ${p} refused: ${why}` : `CREATE ${p} answered OK but the server does not list it as a folder` });
  }
  return out;
}

/**
 * LIST on a session without UTF-8. A server that offers UTF8=ACCEPT and closes the connection on
 * this LIST holds a folder name stored raw in UTF-8 that it cannot give a client without UTF-8
 * (Courier, after a folder was created by a client with UTF8=ACCEPT enabled, such as Mailkeep
 * before this check): every such client loses the connection there. Said so, instead of a bare
 * "connection closed".
 */
export async function listWithoutUtf8(client: ImapFlow): Promise<ListResponse[]> {
  try {
    return await client.list();
  } catch (err) {
    if (client.usable || !client.capabilities.has('UTF8=ACCEPT')) throw err;
    throw mailkeepError(
      'CONNECTION_LOST',
      'the server closed the connection on LIST without UTF-8: one of its folder names is stored in raw UTF-8 that clients without UTF-8 cannot list (created by a UTF-8 client); rename that folder in webmail or a UTF-8 mail client, then retry',
      {},
      err,
    );
  }
}
