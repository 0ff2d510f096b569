import type { DownloadStatus } from '../../lib/protocol/status-ids.ts';
import { runDownload } from '../jobs/download/run-download.ts';
import { parseOptions, required, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { EXIT, jobExitCode } from '../server/exit-codes.ts';
import { idsOption } from './restore-ids.ts';
import { localTimeZone } from '../../lib/clock.ts';
import { dataDirOf, stateCommand } from './state-command-io.ts';
import { formatBytes } from '../../lib/format.ts';
import { jobOutput } from './job-output.ts';
import { parseDateOption, parseSource } from './restore-command.ts';

/** The specification's Download table, as the CLI prints it (the CLI's "link" is the file). */
const STATUS_NAMES: Record<DownloadStatus, string> = {
  on_queue: 'On Queue',
  running: 'Running',
  retrying: 'Retrying',
  failed: 'Failed',
  cancelled: 'Cancelled',
  completed_link: 'Completed',
  expired: 'Expired',
};

export const EXPORT_HELP = `Usage: mailkeep export --archive DIR [--source USER@HOST[:PORT]] --format mbox|eml-zip --out FILE
                       [--force] [--folder F] [--since DATE] [--until DATE] [--ids ID,...|-] [--json]
       mailkeep export --account NAME [--data-dir DIR] --format mbox|eml-zip --out FILE [...]

Writes archived mail into one zip file that mail programs can import:
  mbox      one mboxrd file per folder ("Projekte/2024.mbox"), for Thunderbird, Apple Mail, mutt
  eml-zip   one .eml file per message, in the folder tree, named by the day it arrived (local time)
            and its subject ("Projekte/2024/2024-05-14 Hotel booking LX-4471.eml"), made safe for
            Windows, macOS and Linux, at most 100 bytes, " (2)" for a second one of the same name
Each message is exported byte for byte as the server sent it, checked against its SHA-256, in the
folder it was last seen in (mail deleted from the server since is included). Large archives work
(zip64 past 4 GB); memory does not grow with the archive. The file appears only when complete:
on a full disk or any other failure nothing is left behind.

  --account NAME     a stored account of the relay (mailkeep account list): its archive in the data dir
  --data-dir DIR     with --account: the relay's data dir (default: the installed relay's)
  --archive DIR      archive written by mailkeep backup
  --source USER@HOST which archived account (add :PORT if several match; may be omitted when the
                     archive holds one account)
  --format F         mbox or eml-zip
  --out FILE         the zip to write; refused (nothing written) when it lies inside the archive
                     directory (also through a symlink or ..), is a directory, or already exists
  --force            replace an existing FILE (only once the new one is complete; never inside the archive)
  --folder F         only this archived folder (its full name, e.g. "Projekte/2024")
  --since DATE       only messages whose INTERNALDATE is at or after DATE (YYYY-MM-DD or ISO 8601)
  --until DATE       only messages before DATE; a plain YYYY-MM-DD includes that whole day (UTC)
  --ids ID,...       exactly these messages, as mailkeep search prints them; "-" reads them from
                     stdin, one per line (as for mailkeep restore --ids -). Not with --folder/--since/--until
  --json             print JSON events; the last line is the result object

Exit codes:
  0  Completed (the file is written)
  2  bad usage
  3  Cancelled
  6  Failed (disk full, damaged archive blob, no such archive or account, --out refused:
     OUTPUT_INSIDE_ARCHIVE, OUTPUT_EXISTS, OUTPUT_IS_DIRECTORY)`;

export async function exportCommand(argv: string[], io: Io): Promise<number> {
  const o = parseOptions(argv, {
    archive: 'string', source: 'string', format: 'string', out: 'string', folder: 'string', since: 'string', until: 'string', json: 'boolean', force: 'boolean',
    account: 'string', 'data-dir': 'string', ids: 'string',
  });
  const format = required(o, 'format');
  if (format !== 'mbox' && format !== 'eml-zip') throw new UsageError('--format must be mbox or eml-zip');
  if (typeof o.account === 'string' && (o.archive !== undefined || o.source !== undefined)) throw new UsageError('--account takes the archive from the relay\'s stored account; drop --archive and --source');
  if (o.account === undefined && o['data-dir'] !== undefined) throw new UsageError('--data-dir goes with --account');
  if (o.ids !== undefined && (o.folder !== undefined || o.since !== undefined || o.until !== undefined)) throw new UsageError('--ids names exact messages; it cannot be combined with --folder, --since or --until');
  const ids = typeof o.ids === 'string' ? await idsOption(o.ids, io.in ?? process.stdin, io.signal, io.err) : undefined;
  // A stored account: its archive in the relay's data dir (export reads it; no password needed).
  const archiveDir = typeof o.account === 'string' ? await storedArchiveDir(dataDirOf(o), o.account, io) : required(o, 'archive');
  if (archiveDir === null) return EXIT.error;
  const json = o.json === true;
  const output = jobOutput(io, json, STATUS_NAMES, 'exported', { retryLine: (d) => `Retrying (attempt ${d.attempt} failed: ${d.message})` });
  const result = await runDownload(
    {
      archiveDir,
      ...(typeof o.source === 'string' ? { source: parseSource(o.source) } : {}),
      format,
      out: required(o, 'out'),
      force: o.force === true,
      // An eml-zip's file names carry the day each message arrived, as the person's calendar says.
      timeZone: localTimeZone(),
      scope: {
        ...(typeof o.folder === 'string' ? { folder: o.folder } : {}),
        ...(o.since !== undefined ? { since: parseDateOption(o.since, 'since') } : {}),
        ...(o.until !== undefined ? { until: parseDateOption(o.until, 'until', true) } : {}),
        ...(ids ? { ids } : {}),
      },
    },
    output.hooks,
  );
  output.end();
  if (json) output.writeResult(result);
  else if (result.status === 'completed_link')
    io.out.write(`Completed: ${result.messages} message(s) from ${result.folders} folder(s), ${formatBytes(result.fileBytes)} written to ${result.file} in ${(result.durationMs / 1000).toFixed(1)} s\n`);
  else io.out.write(`${STATUS_NAMES[result.status]}\n`);
  if (result.errorCode && result.message) io.err.write(`error ${result.errorCode}: ${result.message}\n`);
  return jobExitCode(result);
}

/** The archive directory of a stored account (through the running relay, else the data dir); null after printing why not. */
async function storedArchiveDir(dataDir: string, ref: string, io: Io): Promise<string | null> {
  const { withStateApi, findAccount } = await import('./state-api.ts');
  const { archiveDirOf } = await import('../jobs/data-dirs.ts');
  let dir: string | null = null;
  const code = await stateCommand(io, async () => {
    dir = await withStateApi(dataDir, async (api) => archiveDirOf(dataDir, findAccount((await api.snapshot()).accounts, ref).account.id));
    return EXIT.ok;
  });
  return code === EXIT.ok ? dir : null;
}
