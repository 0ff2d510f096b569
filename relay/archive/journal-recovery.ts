import fs from 'node:fs';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError, MailkeepError } from '../../lib/protocol/error-codes.ts';
import { applyBatch, indexAsOps } from './journal-ops.ts';
import { chunked, JOURNAL_FILE_NO, journalFile, readJournalFile, writeJournalFile } from './journal.ts';
import { fsyncDir } from './pack-file.ts';
import { PACK_NAME, packFiles } from './archive-files.ts';
import { indexMissingError, isIndexCorruption, repairCommand } from './index-damage.ts';
import { journalPosition, openIndex, setJournalPosition, type Db } from './schema.ts';

/**
 * What a writer does before it writes anything (docs/archive-format.md, "Opening"): refuse an
 * archive whose index is missing or damaged (repair rebuilds it), give an index without a journal
 * its bootstrap journal, roll the index forward over journal records it has not applied yet, and
 * cut pack bytes past the end the journal durably recorded for each pack. Nothing else is cut.
 */

// Kept here for their importers; defined where readers can load them without zod.
export { PACK_NAME, packFiles, indexMissingError };

export function damagedError(dir: string, what: string, cause?: unknown): MailkeepError {
  return mailkeepError(
    'ARCHIVE_DAMAGED',
    `archive ${dir}: ${what}; nothing was changed. Rebuild the index from the journal and packs with: ${repairCommand(dir)}`,
    {},
    cause,
  );
}

/** index.sqlite and its WAL files are private, like the packs (older archives made them 0644). */
export function makeIndexPrivate(indexFile: string): void {
  for (const f of [indexFile, `${indexFile}-wal`, `${indexFile}-shm`])
    try {
      fs.chmodSync(f, 0o600);
    } catch {
      /* -wal / -shm exist only while open */
    }
}

/** Next free name `<file>.<tag>-<n>`, also free with `-wal` / `-shm` (never overwrites an earlier one). */
export function asideName(file: string, tag: string): string {
  for (let n = 1; ; n++) {
    const name = `${file}.${tag}-${n}`;
    if (!['', '-wal', '-shm'].some((suffix) => fs.existsSync(name + suffix))) return name;
  }
}

export interface OpenedIndex {
  db: Db;
  journalSize: number;
  /** Journal records the index had not applied yet (crash between journal fsync and index commit). */
  rolledForward: number;
  /** Bytes cut off a torn journal tail. */
  journalTailCut: number;
  /** Committed end of every pack the journal knows. */
  packEnds: Map<number, number>;
}

export function openIndexForWriting(dir: string): OpenedIndex {
  const indexFile = path.join(dir, 'index.sqlite');
  const jfile = journalFile(dir);
  const jsize = fs.existsSync(jfile) ? fs.statSync(jfile).size : -1;
  // A WAL without its database is what is left of an index too: a new one must not inherit it.
  const walHasData = fs.existsSync(`${indexFile}-wal`) && fs.statSync(`${indexFile}-wal`).size > 0;
  if (!fs.existsSync(indexFile) && (packFiles(dir).length > 0 || jsize > 0 || walHasData)) throw indexMissingError(dir);
  let db: Db | undefined;
  try {
    db = openIndex(indexFile);
    makeIndexPrivate(indexFile);
    // A damaged page must stop a writer before it writes (and before a backup fails halfway with
    // "database disk image is malformed"). quick_check reads every page once: milliseconds here.
    const check = db.pragma('quick_check(1)', { simple: true });
    if (check !== 'ok') throw damagedError(dir, `the index is damaged (${String(check)})`);
    const pos = journalPosition(db);
    let rolledForward = 0;
    let journalTailCut = 0;
    let journalSize: number;
    if (pos === null || jsize < 0) {
      journalSize = bootstrap(db, jfile, jsize >= 0);
    } else if (jsize < pos.offset) {
      throw damagedError(dir, `the journal is shorter (${jsize} bytes) than the index recorded (${pos.offset})`);
    } else {
      ({ rolledForward, journalTailCut, journalSize } = rollForward(dir, db, jfile, pos.offset, jsize));
    }
    return { db, journalSize, rolledForward, journalTailCut, packEnds: cutUncommittedPackTails(dir, db) };
  } catch (err) {
    db?.close();
    if (isIndexCorruption(err)) throw damagedError(dir, `the index is damaged (${(err as Error).message})`, err);
    throw err;
  }
}

/**
 * An index without a journal (version 1, or a journal someone removed): write every row as the
 * journal's first records, durably, before anything else. A journal file already there that the
 * index never recorded (a crash inside an earlier bootstrap) is kept aside, never deleted.
 */
function bootstrap(db: Db, jfile: string, journalExists: boolean): number {
  if (journalExists) fs.renameSync(jfile, asideName(jfile, 'superseded'));
  const size = writeJournalFile(jfile, chunked(indexAsOps(db), RELAY_LIMITS.journalBootstrapOpsPerRecord));
  db.transaction(() => setJournalPosition(db, { file: JOURNAL_FILE_NO, offset: size }))();
  return size;
}

/**
 * Applies the journal records past the index's position (the index transaction of the last group
 * was lost: killed between the journal fsync and the commit, or `synchronous = NORMAL` lost it to
 * power loss). A torn tail is the record of a group that never committed: it is cut. Damage with
 * valid records after it is not a tail: the writer refuses and repair reports what was lost.
 */
function rollForward(dir: string, db: Db, jfile: string, from: number, size: number): { rolledForward: number; journalTailCut: number; journalSize: number } {
  let rolledForward = 0;
  if (from === size) return { rolledForward, journalTailCut: 0, journalSize: size };
  for (const item of readJournalFile(jfile, from)) {
    if (item.kind === 'record') {
      applyBatch(db, item.ops, { file: JOURNAL_FILE_NO, offset: item.end });
      rolledForward++;
      continue;
    }
    if (item.resumedAt !== null) throw damagedError(dir, `the journal is damaged at byte ${item.at} (${item.reason})`);
    const keep = item.at;
    fs.truncateSync(jfile, keep);
    const fd = fs.openSync(jfile, 'r+');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return { rolledForward, journalTailCut: size - keep, journalSize: keep };
  }
  return { rolledForward, journalTailCut: 0, journalSize: size };
}

/**
 * Cuts bytes past each pack's journal-recorded end: they belong to a group whose journal record
 * never became durable, so no committed fact points at them. A pack the journal does not know is
 * left alone (repair adopts its records).
 */
function cutUncommittedPackTails(dir: string, db: Db): Map<number, number> {
  const ends = new Map<number, number>();
  for (const r of db.prepare<[], { id: number; end_offset: number }>('SELECT id, end_offset FROM packs').all()) ends.set(r.id, r.end_offset);
  const packsDir = path.join(dir, 'packs');
  let cut = false;
  for (const { id, file } of packFiles(dir)) {
    const end = ends.get(id);
    const full = path.join(packsDir, file);
    if (end !== undefined && fs.statSync(full).size > end) {
      fs.truncateSync(full, end);
      cut = true;
    }
  }
  if (cut) fsyncDir(packsDir);
  return ends;
}
