import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import { repairArchive, type RepairReport } from '../archive/repair.ts';
import { parseOptions, required, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { EXIT } from '../server/exit-codes.ts';

export const REPAIR_HELP = `Usage: mailkeep repair --archive DIR [--json]

Rebuilds the archive's index (index.sqlite) from its journal and packs, e.g. after the index was
deleted or damaged. The old index is kept: as index.sqlite.damaged-<n> when it was damaged (or
unreadable), as index.sqlite.replaced-<n> when it was sound; no pack byte is changed.
Messages found in the packs that the journal does not name are kept, added and listed. Damage
in the journal is reported with what it cost. Takes the archive lock (no backup may run).

  --archive DIR   archive directory
  --json          print the report as one JSON object

Exit codes:
  0  the index was rebuilt and nothing was found lost
  1  ARCHIVE_DAMAGED: the index was rebuilt, but journal damage or damaged or missing messages
     cost something (listed); or the index could not be rebuilt (archive missing, locked, unreadable)
  2  bad usage`;

function describe(r: RepairReport): string {
  const lines = [
    `Repaired: index rebuilt from ${r.journalRecords} journal record(s) (${r.opsReplayed} op(s)) and ${r.packs} pack(s): ${r.blobs} message(s) stored, ${r.messages} folder membership(s)`,
    `  ${r.blobsInPacks} blob(s) found in packs where the journal says; ${r.blobsMissing} missing`,
  ];
  if (r.previousIndexKeptAs)
    lines.push(
      r.previousIndexSound
        ? `  the previous index was sound (it passed SQLite's quick_check) and was replaced anyway; it is kept as ${r.previousIndexKeptAs}`
        : `  the previous index was damaged or unreadable; it is kept as ${r.previousIndexKeptAs}`,
    );
  if (r.previousJournalKeptAs) lines.push(`  the journal was rewritten from the rebuilt index; the damaged one is kept as journal/${r.previousJournalKeptAs}`);
  if (r.journalRewrittenFromIndex)
    lines.push(`  the journal had lost records the index still held: rewritten from the index (the old journal is kept as ${r.journalRewrittenFromIndex})`);
  for (const p of r.packEndsRaised)
    lines.push(`  ${p.pack}: whole messages past the journal's recorded end (${p.from}) kept and adopted, committed end now ${p.to}`);
  if (r.packsAdopted.length) lines.push(`  pack(s) the journal never named, kept and adopted: ${r.packsAdopted.join(', ')}`);
  if (r.blobsAdopted.length) {
    lines.push(`  ${r.blobsAdopted.length} blob(s) in packs that the journal does not name: kept and added to the index (no folder membership):`);
    for (const b of r.blobsAdopted) lines.push(`    ${b.hash} ${b.pack} @${b.offset} (${b.length} bytes)`);
  }
  for (const d of r.journalDamage)
    lines.push(`  journal bytes ${d.from}-${d.to} are damaged (${d.reason}): the facts recorded there (memberships, flags, runs) are lost; blobs they named are listed above`);
  for (const b of r.batchesRejected) lines.push(`  journal record at byte ${b.at} could not be applied: ${b.reason}`);
  if (r.journalTailCut) lines.push(`  cut an unfinished journal record at the end (${r.journalTailCut} bytes, a commit that never completed)`);
  for (const d of r.recordsDamaged) lines.push(`  ARCHIVE_CORRUPT: pack record at ${d.pack} @${d.offset} does not match its hash (not adopted)`);
  return `${lines.join('\n')}\n`;
}

export async function repairCommand(argv: string[], io: Io): Promise<number> {
  const o = parseOptions(argv, { archive: 'string', json: 'boolean' });
  const dir = required(o, 'archive');
  let report: RepairReport;
  try {
    report = await repairArchive(dir);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    io.err.write(`error ${errorCodeOf(err)}: ${err instanceof Error ? err.message : String(err)}\n`);
    if (o.json) io.out.write(`${JSON.stringify({ kind: 'repair', ok: false, errorCode: errorCodeOf(err) })}\n`);
    return EXIT.error;
  }
  // The index is rebuilt either way; but when mail or facts about it were found lost, that is not a
  // success the user may stop reading at: exit 1 and ARCHIVE_DAMAGED, like verify.
  const lost = report.blobsMissing > 0 || report.journalDamage.length > 0 || report.batchesRejected.length > 0 || report.recordsDamaged.length > 0;
  const errorCode = lost ? 'ARCHIVE_DAMAGED' : null;
  if (o.json) io.out.write(`${JSON.stringify({ kind: 'repair', ok: !lost, errorCode, ...report })}\n`);
  else {
    io.out.write(describe(report));
    if (lost) io.err.write(`error ARCHIVE_DAMAGED: the index was rebuilt, but part of the archive could not be recovered (listed above); run mailkeep verify --archive ${dir} for every message concerned\n`);
  }
  return lost ? EXIT.error : EXIT.ok;
}
