import type { DownloadStatus } from '../../lib/protocol/status-ids.ts';
import { runDownload } from '../jobs/download/run-download.ts';
import { parseOptions, required, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { jobExitCode } from '../server/exit-codes.ts';
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
                       [--force] [--folder F] [--since DATE] [--until DATE] [--json]

Writes archived mail into one zip file that mail programs can import:
  mbox      one mboxrd file per folder ("Projekte/2024.mbox"), for Thunderbird, Apple Mail, mutt
  eml-zip   one .eml file per message, in the folder tree ("Projekte/2024/000001.eml")
Each message is exported byte for byte as the server sent it, checked against its SHA-256, in the
folder it was last seen in (mail deleted from the server since is included). Large archives work
(zip64 past 4 GB); memory does not grow with the archive. The file appears only when complete:
on a full disk or any other failure nothing is left behind.

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
  --json             print JSON events; the last line is the result object

Exit codes:
  0  Completed (the file is written)
  2  bad usage
  3  Cancelled
  6  Failed (disk full, damaged archive blob, no such archive or account, --out refused:
     OUTPUT_INSIDE_ARCHIVE, OUTPUT_EXISTS, OUTPUT_IS_DIRECTORY)`;

export async function exportCommand(argv: string[], io: Io): Promise<number> {
  const o = parseOptions(argv, { archive: 'string', source: 'string', format: 'string', out: 'string', folder: 'string', since: 'string', until: 'string', json: 'boolean', force: 'boolean' });
  const format = required(o, 'format');
  if (format !== 'mbox' && format !== 'eml-zip') throw new UsageError('--format must be mbox or eml-zip');
  const json = o.json === true;
  const output = jobOutput(io, json, STATUS_NAMES, 'exported', { retryLine: (d) => `Retrying (attempt ${d.attempt} failed: ${d.message})` });
  const result = await runDownload(
    {
      archiveDir: required(o, 'archive'),
      ...(typeof o.source === 'string' ? { source: parseSource(o.source) } : {}),
      format,
      out: required(o, 'out'),
      force: o.force === true,
      scope: {
        ...(typeof o.folder === 'string' ? { folder: o.folder } : {}),
        ...(o.since !== undefined ? { since: parseDateOption(o.since, 'since') } : {}),
        ...(o.until !== undefined ? { until: parseDateOption(o.until, 'until', true) } : {}),
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
