/** What the server holds, hashed the way the archive names blobs, for byte-exact comparisons. */
import crypto from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { openArchiveForReading } from '../../relay/archive/archive-reader.ts';

export const sha256 = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

export interface ServerMessage {
  uid: number;
  hash: string;
  flags: string[];
  internalDate: string;
}

/** folder (decoded path) -> messages, read with EXAMINE and BODY.PEEK[] like the backup. */
export async function serverState(client: ImapFlow): Promise<Map<string, ServerMessage[]>> {
  const out = new Map<string, ServerMessage[]>();
  for (const f of await client.list()) {
    if (f.flags.has('\\Noselect') || f.flags.has('\\NonExistent')) continue;
    const box = await client.mailboxOpen(f.path, { readOnly: true });
    const msgs: ServerMessage[] = [];
    if (box.exists > 0)
      for await (const m of client.fetch('1:*', { uid: true, source: true, flags: true, internalDate: true }, { uid: true }))
        msgs.push({ uid: m.uid, hash: sha256(m.source!), flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), internalDate: new Date(m.internalDate!).toISOString() });
    out.set(f.path, msgs);
  }
  return out;
}

/** folder (decoded name) -> present (not gone) messages in the archive for one account. */
export function archiveState(dir: string): Map<string, ServerMessage[]> {
  const db = openArchiveForReading(dir);
  try {
    const rows = db
      .prepare<[], { name: string; uid: number; blob_hash: string; flags: string; keywords: string; internaldate: string }>(
        'SELECT f.name, m.uid, m.blob_hash, m.flags, m.keywords, m.internaldate FROM messages m JOIN folders f ON f.id = m.folder_id WHERE m.gone_run IS NULL ORDER BY f.name, m.uid',
      )
      .all();
    const out = new Map<string, ServerMessage[]>();
    for (const r of rows) {
      const list = out.get(r.name) ?? [];
      list.push({ uid: r.uid, hash: r.blob_hash, flags: [...JSON.parse(r.flags), ...JSON.parse(r.keywords)].sort(), internalDate: r.internaldate });
      out.set(r.name, list);
    }
    return out;
  } finally {
    db.close();
  }
}

export function countRows(dir: string, sql: string): number {
  const db = openArchiveForReading(dir);
  try {
    return db.prepare<[], number>(sql).pluck().get() ?? 0;
  } finally {
    db.close();
  }
}
