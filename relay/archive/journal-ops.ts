import { z } from '../../lib/zod.ts';
import { setJournalPosition, type Db } from './schema.ts';

/**
 * The journal's vocabulary: every fact the index holds, as an operation. The live writer and
 * `repair` apply them through the one function below, so a rebuilt index equals the live one. Ids
 * (account, run, folder, pack, and message rows of a bootstrap) are chosen by the writer and carried
 * in the ops, so a replay reproduces them. Short field names: one `msg` op per archived message.
 */
const int = z.number().int();
const str = z.string();
const optStr = z.string().nullable();
const optInt = int.nullable();

export const JournalOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('account'), id: int, host: str, port: int, user: str, at: str }),
  /** A run starts; a bootstrap also carries its end and counters. */
  z.object({
    op: z.literal('run'), id: int, account: int, at: str,
    end: optStr.optional(), status: optStr.optional(), code: optStr.optional(), n: int.optional(), b: int.optional(),
  }),
  z.object({ op: z.literal('runEnd'), id: int, at: str, status: str, code: optStr }),
  z.object({ op: z.literal('runAdd'), id: int, n: int, b: int }),
  /** Insert, or update a folder listed again (its added_run stays). */
  z.object({ op: z.literal('folder'), id: int, account: int, raw: str, name: str, delim: optStr, special: optStr, run: int, gone: optInt.optional() }),
  /** The server stopped listing the folder: it and its present rows are gone as of `run`. */
  z.object({ op: z.literal('folderGone'), id: int, run: int }),
  z.object({ op: z.literal('cpReset'), f: int, v: int, at: str }),
  /** A whole checkpoint row (bootstrap). */
  z.object({ op: z.literal('cp'), f: int, v: int, last: int, hms: optStr, next: optInt, n: optInt, complete: optInt, at: str }),
  z.object({ op: z.literal('cursor'), f: int, v: int, last: int, at: str }),
  z.object({ op: z.literal('complete'), f: int, v: int, next: optInt, n: int, hms: optStr, run: int, at: str }),
  z.object({ op: z.literal('runFolder'), run: int, f: int, state: z.enum(['unchanged', 'synced', 'skipped', 'gone']), n: optInt, v: optInt, next: optInt }),
  /** A pack exists (written durably, with end 0, before its first byte). */
  z.object({ op: z.literal('pack'), id: int, file: str }),
  /** Everything in the pack before `end` is committed: only bytes past it may ever be cut. */
  z.object({ op: z.literal('packEnd'), id: int, end: int }),
  z.object({ op: z.literal('blob'), h: str, p: int, o: int, l: int }),
  /**
   * A membership: folder, UIDVALIDITY, UID, blob, flags and keywords as listed, INTERNALDATE, size,
   * Message-ID, MODSEQ, run; on Gmail also X-GM-MSGID (`gm`), X-GM-THRID (`gt`) and X-GM-LABELS (`gl`).
   */
  z.object({
    op: z.literal('msg'), f: int, v: int, u: int, h: str, fl: z.array(str), d: optStr, s: int, mid: optStr, ms: optStr, r: int,
    id: int.optional(), g: optInt.optional(),
    gm: optStr.optional(), gt: optStr.optional(), gl: z.array(str).nullable().optional(),
  }),
  /** Rows the server no longer has, as [uidvalidity, uid] pairs. */
  z.object({ op: z.literal('gone'), f: int, run: int, rows: z.array(z.tuple([int, int])) }),
  z.object({ op: z.literal('flags'), f: int, v: int, u: int, fl: z.array(str), ms: optStr }),
  /** Gmail: the X-GM-LABELS of a stored membership changed (labels added or removed since). */
  z.object({ op: z.literal('labels'), f: int, v: int, u: int, gl: z.array(str) }),
]);
export type JournalOp = z.infer<typeof JournalOp>;
/** One journal record: the ops of one group commit, applied in one transaction. */
export const JournalBatch = z.array(JournalOp);

export function splitFlags(flags: Iterable<string>): { flags: string; keywords: string } {
  const sys: string[] = [];
  const kw: string[] = [];
  for (const f of flags) {
    // \Recent belongs to one session (RFC 3501 §2.3.2): it cannot be restored and must not count as a change.
    if (f.toLowerCase() === '\\recent') continue;
    (f.startsWith('\\') ? sys : kw).push(f);
  }
  return { flags: JSON.stringify(sys.sort()), keywords: JSON.stringify(kw.sort()) };
}

function statements(db: Db) {
  const p = (sql: string) => db.prepare(sql);
  return {
    account: p('INSERT OR IGNORE INTO accounts (id, host, port, user, created_at) VALUES (?, ?, ?, ?, ?)'),
    run: p(`INSERT OR REPLACE INTO runs (id, account_id, started_at, finished_at, status, error_code, new_messages, new_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    runEnd: p('UPDATE runs SET finished_at = ?, status = ?, error_code = ? WHERE id = ?'),
    runAdd: p('UPDATE runs SET new_messages = new_messages + ?, new_bytes = new_bytes + ? WHERE id = ?'),
    folder: p(`INSERT INTO folders (id, account_id, raw_name, name, delimiter, special_use, added_run, gone_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET name = excluded.name, delimiter = excluded.delimiter, special_use = excluded.special_use, gone_run = excluded.gone_run`),
    folderGone: p('UPDATE folders SET gone_run = ? WHERE id = ?'),
    folderRowsGone: p('UPDATE messages SET gone_run = ? WHERE folder_id = ? AND gone_run IS NULL'),
    cpReset: p(`INSERT INTO checkpoints (folder_id, uidvalidity, last_uid, updated_at) VALUES (?, ?, 0, ?)
      ON CONFLICT (folder_id) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = 0, highestmodseq = NULL,
        uidnext = NULL, messages = NULL, complete_run = NULL, updated_at = excluded.updated_at`),
    cp: p(`INSERT OR REPLACE INTO checkpoints (folder_id, uidvalidity, last_uid, highestmodseq, uidnext, messages, complete_run, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    cursor: p('UPDATE checkpoints SET last_uid = MAX(last_uid, ?), updated_at = ? WHERE folder_id = ? AND uidvalidity = ?'),
    complete: p('UPDATE checkpoints SET uidnext = ?, messages = ?, highestmodseq = ?, complete_run = ?, updated_at = ? WHERE folder_id = ? AND uidvalidity = ?'),
    runFolder: p('INSERT OR REPLACE INTO run_folders (run_id, folder_id, state, messages, uidvalidity, uidnext) VALUES (?, ?, ?, ?, ?, ?)'),
    pack: p('INSERT OR IGNORE INTO packs (id, file, end_offset) VALUES (?, ?, 0)'),
    packEnd: p('UPDATE packs SET end_offset = MAX(end_offset, ?) WHERE id = ?'),
    blob: p('INSERT OR IGNORE INTO blobs (hash, pack_id, offset, length) VALUES (?, ?, ?, ?)'),
    msg: p(`INSERT OR IGNORE INTO messages (id, folder_id, uidvalidity, uid, blob_hash, flags, keywords, internaldate, size, message_id, modseq, added_run, gone_run, gm_msgid, gm_thrid, gm_labels)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    labels: p('UPDATE messages SET gm_labels = ? WHERE folder_id = ? AND uidvalidity = ? AND uid = ?'),
    gone: p('UPDATE messages SET gone_run = ? WHERE folder_id = ? AND uidvalidity = ? AND uid = ? AND gone_run IS NULL'),
    flags: p('UPDATE messages SET flags = ?, keywords = ?, modseq = COALESCE(?, modseq) WHERE folder_id = ? AND uidvalidity = ? AND uid = ?'),
  };
}

const cache = new WeakMap<Db, ReturnType<typeof statements>>();

/**
 * Applies one journal batch to the index in one transaction, together with the journal position
 * it reaches: the index never holds a fact the journal lacks, and a replay from that position
 * reproduces exactly what the live writer did.
 */
export function applyBatch(db: Db, ops: readonly JournalOp[], pos: { file: number; offset: number }): void {
  let s = cache.get(db);
  if (!s) cache.set(db, (s = statements(db)));
  const st = s;
  // Most messages share one of a few flag sets: split and serialise each set once.
  const flagCache = new Map<string, { flags: string; keywords: string }>();
  const split = (fl: string[]) => {
    const key = fl.join(' ');
    let fk = flagCache.get(key);
    if (!fk) flagCache.set(key, (fk = splitFlags(fl)));
    return fk;
  };
  db.transaction(() => {
    for (const o of ops) {
      switch (o.op) {
        case 'account': st.account.run(o.id, o.host, o.port, o.user, o.at); break;
        case 'run': st.run.run(o.id, o.account, o.at, o.end ?? null, o.status ?? null, o.code ?? null, o.n ?? 0, o.b ?? 0); break;
        case 'runEnd': st.runEnd.run(o.at, o.status, o.code, o.id); break;
        case 'runAdd': st.runAdd.run(o.n, o.b, o.id); break;
        case 'folder': st.folder.run(o.id, o.account, o.raw, o.name, o.delim, o.special, o.run, o.gone ?? null); break;
        case 'folderGone':
          st.folderGone.run(o.run, o.id);
          st.folderRowsGone.run(o.run, o.id);
          break;
        case 'cpReset': st.cpReset.run(o.f, o.v, o.at); break;
        case 'cp': st.cp.run(o.f, o.v, o.last, o.hms, o.next, o.n, o.complete, o.at); break;
        case 'cursor': st.cursor.run(o.last, o.at, o.f, o.v); break;
        case 'complete': st.complete.run(o.next, o.n, o.hms, o.run, o.at, o.f, o.v); break;
        case 'runFolder': st.runFolder.run(o.run, o.f, o.state, o.n, o.v, o.next); break;
        case 'pack': st.pack.run(o.id, o.file); break;
        case 'packEnd': st.packEnd.run(o.end, o.id); break;
        case 'blob': st.blob.run(o.h, o.p, o.o, o.l); break;
        case 'msg': {
          const fk = split(o.fl);
          st.msg.run(o.id ?? null, o.f, o.v, o.u, o.h, fk.flags, fk.keywords, o.d, o.s, o.mid, o.ms, o.r, o.g ?? null, o.gm ?? null, o.gt ?? null, o.gl ? JSON.stringify(o.gl) : null);
          break;
        }
        case 'labels': st.labels.run(JSON.stringify(o.gl), o.f, o.v, o.u); break;
        case 'gone': for (const [v, u] of o.rows) st.gone.run(o.run, o.f, v, u); break;
        case 'flags': {
          const fk = split(o.fl);
          st.flags.run(fk.flags, fk.keywords, o.ms, o.f, o.v, o.u);
          break;
        }
      }
    }
    setJournalPosition(db, pos);
  })();
}

/** Every row of a (version 1) index as ops, in an order that satisfies the foreign keys: the journal's bootstrap. */
export function* indexAsOps(db: Db): Generator<JournalOp> {
  type R = Record<string, never>;
  const all = <T>(sql: string) => db.prepare(sql).iterate() as IterableIterator<T>;
  for (const r of all<R & { id: number; host: string; port: number; user: string; created_at: string }>('SELECT * FROM accounts ORDER BY id'))
    yield { op: 'account', id: r.id, host: r.host, port: r.port, user: r.user, at: r.created_at };
  for (const r of all<{ id: number; account_id: number; started_at: string; finished_at: string | null; status: string | null; error_code: string | null; new_messages: number; new_bytes: number }>('SELECT * FROM runs ORDER BY id'))
    yield { op: 'run', id: r.id, account: r.account_id, at: r.started_at, end: r.finished_at, status: r.status, code: r.error_code, n: r.new_messages, b: r.new_bytes };
  for (const r of all<{ id: number; account_id: number; raw_name: string; name: string; delimiter: string | null; special_use: string | null; added_run: number; gone_run: number | null }>('SELECT * FROM folders ORDER BY id'))
    yield { op: 'folder', id: r.id, account: r.account_id, raw: r.raw_name, name: r.name, delim: r.delimiter, special: r.special_use, run: r.added_run, gone: r.gone_run };
  for (const r of all<{ folder_id: number; uidvalidity: number; last_uid: number; highestmodseq: string | null; uidnext: number | null; messages: number | null; complete_run: number | null; updated_at: string }>('SELECT * FROM checkpoints ORDER BY folder_id'))
    yield { op: 'cp', f: r.folder_id, v: r.uidvalidity, last: r.last_uid, hms: r.highestmodseq, next: r.uidnext, n: r.messages, complete: r.complete_run, at: r.updated_at };
  for (const r of all<{ id: number; file: string; end_offset: number }>('SELECT * FROM packs ORDER BY id')) {
    yield { op: 'pack', id: r.id, file: r.file };
    yield { op: 'packEnd', id: r.id, end: r.end_offset };
  }
  for (const r of all<{ hash: string; pack_id: number; offset: number; length: number }>('SELECT * FROM blobs ORDER BY pack_id, offset'))
    yield { op: 'blob', h: r.hash, p: r.pack_id, o: r.offset, l: r.length };
  for (const r of all<{ id: number; folder_id: number; uidvalidity: number; uid: number; blob_hash: string; flags: string; keywords: string; internaldate: string | null; size: number; message_id: string | null; modseq: string | null; added_run: number; gone_run: number | null; gm_msgid?: string | null; gm_thrid?: string | null; gm_labels?: string | null }>('SELECT * FROM messages ORDER BY id'))
    yield {
      op: 'msg', id: r.id, f: r.folder_id, v: r.uidvalidity, u: r.uid, h: r.blob_hash,
      fl: [...(JSON.parse(r.flags) as string[]), ...(JSON.parse(r.keywords) as string[])],
      d: r.internaldate, s: r.size, mid: r.message_id, ms: r.modseq, r: r.added_run, g: r.gone_run,
      // Gmail fields only where there are some: a non-Gmail journal stays as it was.
      ...(r.gm_msgid ? { gm: r.gm_msgid, gt: r.gm_thrid ?? null, gl: r.gm_labels ? (JSON.parse(r.gm_labels) as string[]) : null } : {}),
    };
  for (const r of all<{ run_id: number; folder_id: number; state: 'unchanged' | 'synced' | 'skipped' | 'gone'; messages: number | null; uidvalidity: number | null; uidnext: number | null }>('SELECT * FROM run_folders ORDER BY run_id, folder_id'))
    yield { op: 'runFolder', run: r.run_id, f: r.folder_id, state: r.state, n: r.messages, v: r.uidvalidity, next: r.uidnext };
}
