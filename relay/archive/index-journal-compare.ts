import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { applyBatch } from './journal-ops.ts';
import { JOURNAL_FILE_NO, JOURNAL_HEADER_BYTES, journalFile, readJournalFile } from './journal.ts';
import { openIndex, setJournalPosition, type Db } from './schema.ts';

/**
 * verify's check of the journal (docs/archive-format.md, "Verify"): every record's framing and CRC,
 * and the index against the journal. The journal up to the index's recorded position is replayed,
 * with the same applyBatch the writer and repair use, into a scratch index in os.tmpdir() (never in
 * the archive, which may be read-only; on disk, so memory does not grow with the archive), and the
 * two are compared table by table in key order, one row of each at a time. Records past that
 * position are a writer's work the index has not applied yet (a running backup, or a crash the next
 * writer rolls forward): they are checked for damage but are no mismatch.
 */

/** Each table's unique key, the order both sides are walked in. */
const TABLE_KEYS: Readonly<Record<string, readonly string[]>> = {
  accounts: ['id'],
  runs: ['id'],
  folders: ['id'],
  checkpoints: ['folder_id'],
  packs: ['id'],
  blobs: ['hash'],
  messages: ['folder_id', 'uidvalidity', 'uid'],
  run_folders: ['run_id', 'folder_id'],
  meta: ['key'],
};

type Row = Record<string, unknown>;

export interface JournalDamage {
  /** Byte range of the journal that is no valid record. */
  from: number;
  to: number;
  reason: string;
  /** What the damaged bytes still show (their ops when the payload parses despite the CRC), or null. */
  held: string | null;
  /** true: before the index's position (facts the index has and repair would lose); false: after it. */
  applied: boolean;
}

export interface RowMismatch {
  table: string;
  key: Row;
  /** The row as index.sqlite holds it, or null when only the journal has it. */
  index: Row | null;
  /** The row as the journal replays it, or null when no journal record holds it. */
  journal: Row | null;
  /** What `mailkeep repair` (which rebuilds from the journal) would do to this row. */
  repair: string;
}

export interface JournalCheck {
  /** null when there is no journal file. */
  file: string | null;
  bytes: number;
  records: number;
  /** The journal position the index snapshot records (byte offset), or null when it records none. */
  indexPosition: number | null;
  /** Records past the index's position: applied by the running writer, or rolled forward by the next one. */
  ahead: { records: number; bytes: number };
  /** Bytes at the end that form no whole record: a group commit that never completed (the next writer cuts them). */
  tornTail: { offset: number; bytes: number } | null;
  damage: JournalDamage[];
  /** Whether the index was compared with a replay of the journal. */
  compared: boolean;
  /** Rows that differ (the first RELAY_LIMITS.verifyMismatchRowsListed) and their total count. */
  mismatches: RowMismatch[];
  mismatchCount: number;
  /** Pack ids named by journal records past the index's position (a writer's newer packs). */
  packsAhead: Set<number>;
  /** Facts that are no damage (a version-1 archive without a journal, a missing position). */
  notes: string[];
}

const keyCmp = (a: unknown, b: unknown): number => {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b)); // SQLite's BINARY order
  return String(a).localeCompare(String(b));
};

/** Summarises the ops a damaged record's payload still shows (its bytes may parse though its CRC fails). */
function heldBy(file: string, at: number, to: number): string | null {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(JOURNAL_HEADER_BYTES);
    if (fs.readSync(fd, head, 0, JOURNAL_HEADER_BYTES, at) < JOURNAL_HEADER_BYTES) return null;
    const len = head.readUInt32BE(4);
    if (len > Math.min(RELAY_LIMITS.journalReadWindowBytes, to - at)) return null;
    const payload = Buffer.alloc(len);
    fs.readSync(fd, payload, 0, len, at + JOURNAL_HEADER_BYTES);
    const ops = JSON.parse(payload.toString('utf8')) as { op?: unknown }[];
    if (!Array.isArray(ops)) return null;
    const counts = new Map<string, number>();
    for (const o of ops) counts.set(String(o?.op), (counts.get(String(o?.op)) ?? 0) + 1);
    return `${ops.length} op(s): ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}`;
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads the whole journal once: framing and CRC of every record; when `db` is given (a sound
 * index, inside its read snapshot), replays the records up to the snapshot's journal position into
 * a scratch index and compares every table with it.
 */
export function checkJournal(dir: string, db: Db | null, indexPosition: { file: number; offset: number } | null, opts: { signal?: AbortSignal } = {}): JournalCheck {
  const file = journalFile(dir);
  const check: JournalCheck = {
    file: null,
    bytes: 0,
    records: 0,
    indexPosition: indexPosition?.offset ?? null,
    ahead: { records: 0, bytes: 0 },
    tornTail: null,
    damage: [],
    compared: false,
    mismatches: [],
    mismatchCount: 0,
    packsAhead: new Set(),
    notes: [],
  };
  if (!fs.existsSync(file)) return check;
  check.file = file;
  check.bytes = fs.statSync(file).size;
  const upTo = indexPosition?.offset ?? null;
  let scratch: { db: Db; dir: string } | null = null;
  if (db && upTo !== null) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailkeep-verify-'));
    const sdb = openIndex(path.join(tmp, 'replay.sqlite'));
    // A scratch copy: no durability needed; orphans (after journal damage) are kept, as repair does.
    sdb.pragma('journal_mode = OFF');
    sdb.pragma('synchronous = OFF');
    sdb.pragma('foreign_keys = OFF');
    scratch = { db: sdb, dir: tmp };
  }
  try {
    let lastEnd = 0;
    for (const item of readJournalFile(file)) {
      opts.signal?.throwIfAborted();
      if (item.kind === 'record') {
        check.records++;
        lastEnd = item.end;
        if (upTo !== null && item.end <= upTo) {
          if (scratch) applyBatch(scratch.db, item.ops, { file: JOURNAL_FILE_NO, offset: item.end });
        } else {
          check.ahead.records++;
          check.ahead.bytes += item.end - Math.max(item.at, upTo ?? 0);
          for (const o of item.ops) if (o.op === 'pack') check.packsAhead.add(o.id);
        }
        continue;
      }
      const applied = upTo !== null && item.at < upTo;
      if (item.resumedAt === null && !applied) {
        check.tornTail = { offset: item.at, bytes: check.bytes - item.at };
        break;
      }
      const to = item.resumedAt ?? check.bytes;
      check.damage.push({ from: item.at, to, reason: item.reason, held: heldBy(file, item.at, to), applied });
    }
    if (upTo !== null && lastEnd < upTo && !check.damage.some((d) => d.applied))
      // The index applied records the journal no longer holds (it was cut or replaced).
      check.damage.push({ from: lastEnd, to: upTo, reason: `the journal ends at byte ${check.bytes}, before the index's position ${upTo}`, held: null, applied: true });
    if (scratch && db && indexPosition) {
      // The position is where the index stands, not a fact to compare (an empty journal applies no
      // record that would set it; journal damage is reported above).
      const sdb = scratch.db;
      sdb.transaction(() => setJournalPosition(sdb, indexPosition))();
      compareIndexes(db, scratch.db, check);
      check.compared = true;
    }
  } finally {
    if (scratch) {
      scratch.db.close();
      fs.rmSync(scratch.dir, { recursive: true, force: true });
    }
  }
  return check;
}

/** What repair does to a row, seen from both sides. */
function repairOf(table: string, index: Row | null, journal: Row | null): string {
  if (!index) return 'repair restores this row from the journal';
  if (!journal) {
    if (table === 'blobs') return 'no journal record names this blob: repair adopts it again only if its pack record is sound (see the pack checks); otherwise it is dropped';
    if (table === 'packs') return 'no journal record names this pack: repair adopts the pack file, if present, with every sound record in it';
    return 'no journal record holds this row: repair drops it';
  }
  const cols = Object.keys(journal).filter((c) => JSON.stringify(index[c]) !== JSON.stringify(journal[c]));
  return `repair sets ${cols.join(', ')} to the journal's value`;
}

function compareIndexes(live: Db, replay: Db, check: JournalCheck): void {
  const liveTables = new Set(live.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all());
  for (const [table, key] of Object.entries(TABLE_KEYS)) {
    // Columns both have: an index of an older version (read, never upgraded) lacks the newer ones.
    const liveCols = new Set(live.prepare<[], string>(`SELECT name FROM pragma_table_info('${table}')`).pluck().all());
    const cols = replay.prepare<[], string>(`SELECT name FROM pragma_table_info('${table}')`).pluck().all().filter((c) => !liveTables.has(table) || liveCols.has(c));
    const sql = `SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM "${table}" ORDER BY ${key.map((c) => `"${c}"`).join(', ')}`;
    const a = liveTables.has(table) ? live.prepare<[], Row>(sql).iterate() : [][Symbol.iterator]();
    const b = replay.prepare<[], Row>(sql).iterate();
    let x = a.next();
    let y = b.next();
    const differ = (index: Row | null, journal: Row | null): void => {
      check.mismatchCount++;
      if (check.mismatches.length >= RELAY_LIMITS.verifyMismatchRowsListed) return;
      const src = (index ?? journal)!;
      check.mismatches.push({ table, key: Object.fromEntries(key.map((k) => [k, src[k]])), index, journal, repair: repairOf(table, index, journal) });
    };
    while (!x.done || !y.done) {
      let c = 0;
      if (x.done) c = 1;
      else if (y.done) c = -1;
      else for (const k of key) if ((c = keyCmp(x.value[k], y.value[k])) !== 0) break;
      if (c < 0) {
        differ(x.value as Row, null);
        x = a.next();
      } else if (c > 0) {
        differ(null, y.value as Row);
        y = b.next();
      } else {
        if (JSON.stringify(x.value) !== JSON.stringify(y.value)) differ(x.value as Row, y.value as Row);
        x = a.next();
        y = b.next();
      }
    }
  }
}
