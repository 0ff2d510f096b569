/**
 * Archives for search tests and the search bench, written through the real ArchiveWriter (packs,
 * journal, index) without an IMAP server: folders of raw messages, runs, and messages gone from the
 * server. Whole backups against Dovecot are in the Dovecot tests.
 */
import { ArchiveWriter } from '../../relay/archive/archive-writer.ts';
import { messageIdOf } from '../../relay/archive/message-id.ts';

export interface FolderMessages {
  folder: string;
  /** Raw name as a server would list it (modified UTF-7); default: the name. */
  rawName?: string;
  /** Its special use as the server marks it (RFC 6154, e.g. \\Sent); default: none. */
  specialUse?: string;
  messages: { raw: Buffer; flags?: string[]; internalDate?: Date }[];
}

export interface Account {
  host?: string;
  port?: number;
  user?: string;
}

/** One backup run of `account` holding `folders` (UIDs from 1 in each). Returns the run and folder ids. */
export async function writeRun(
  dir: string,
  folders: FolderMessages[],
  opts: Account & { gone?: { folder: string; uids: number[] }[]; uidvalidity?: number } = {},
): Promise<{ runId: number; folderIds: Record<string, number> }> {
  const w = ArchiveWriter.open(dir);
  try {
    const acc = w.ensureAccount(opts.host ?? 'imap.example.org', opts.port ?? 993, opts.user ?? 'alice');
    const runId = w.beginRun(acc);
    const folderIds: Record<string, number> = {};
    const v = opts.uidvalidity ?? 1;
    for (const f of folders) {
      const fid = w.upsertFolder(acc, runId, { rawName: f.rawName ?? f.folder, name: f.folder, delimiter: '/', specialUse: f.specialUse ?? null });
      folderIds[f.folder] = fid;
      const cp = w.checkpoint(fid);
      if (!cp || cp.uidvalidity !== v) await w.resetCheckpoint(fid, v);
      const start = (w.checkpoint(fid)?.lastUid ?? 0) + 1;
      for (let i = 0; i < f.messages.length; i++) {
        const m = f.messages[i]!;
        const uid = start + i;
        w.addBuffer(fid, runId, { uid, uidvalidity: v, flags: m.flags ?? [], internalDate: m.internalDate ?? new Date(Date.UTC(2024, 0, 1)), size: m.raw.length, messageId: messageIdOf(m.raw), modseq: null }, m.raw);
        w.advanceCursor(fid, v, uid);
        const wait = w.maybeCommit();
        if (wait) await wait;
      }
    }
    await w.commit();
    for (const g of opts.gone ?? []) {
      const fid = folderIds[g.folder] ?? w['db'].prepare<[string], number>('SELECT id FROM folders WHERE name = ?').pluck().get(g.folder)!;
      const present = w['db'].prepare<[number], number>('SELECT uid FROM messages WHERE folder_id = ? AND gone_run IS NULL').pluck().all(fid);
      await w.markGone(fid, v, present.filter((u) => !g.uids.includes(u)), runId);
    }
    await w.finishRun(runId, 'completed', null);
    return { runId, folderIds };
  } finally {
    await w.close();
  }
}

let serial = 0;

/** A minimal RFC 5322 message. */
export function mail(o: { from?: string; to?: string; cc?: string; subject?: string; date?: string; body?: string; headers?: string; contentType?: string }): Buffer {
  const lines = [
    `From: ${o.from ?? 'Alice <alice@example.org>'}`,
    `To: ${o.to ?? 'Bob <bob@example.net>'}`,
    ...(o.cc ? [`Cc: ${o.cc}`] : []),
    `Subject: ${o.subject ?? 'hello'}`,
    `Date: ${o.date ?? 'Mon, 01 Jan 2024 10:00:00 +0000'}`,
    `Message-ID: <m${++serial}@example.org>`,
    'MIME-Version: 1.0',
    ...(o.headers ? [o.headers] : []),
    `Content-Type: ${o.contentType ?? 'text/plain; charset=utf-8'}`,
    '',
    o.body ?? 'hello',
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}
