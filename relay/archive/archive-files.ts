import fs from 'node:fs';
import path from 'node:path';

// Where an archive keeps its journal and packs (docs/archive-format.md). Apart from journal.ts and
// journal-recovery.ts (which re-export these) because those load zod for the journal's records,
// and a reader such as `mailkeep search` only needs to know whether the files are there.

/** Only one journal file is written today; the number leaves room for rotation. */
export const JOURNAL_FILE_NO = 1;

export function journalDir(archive: string): string {
  return path.join(archive, 'journal');
}

export function journalFile(archive: string, no = JOURNAL_FILE_NO): string {
  return path.join(journalDir(archive), `journal-${String(no).padStart(8, '0')}.mkj`);
}

export const PACK_NAME = /^pack-(\d{8})\.mkp$/;

export function packFiles(dir: string): { id: number; file: string }[] {
  const packs = path.join(dir, 'packs');
  if (!fs.existsSync(packs)) return [];
  return fs
    .readdirSync(packs)
    .map((f) => ({ m: PACK_NAME.exec(f), f }))
    .filter((x) => x.m)
    .map((x) => ({ id: Number(x.m![1]), file: x.f }))
    .sort((a, b) => a.id - b.id);
}
