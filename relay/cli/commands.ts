import { LIMITS } from '../../lib/limits.ts';
import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import type { BackupStatus } from '../../lib/protocol/status-ids.ts';
import { archiveInfo, openArchiveForReading } from '../archive/archive-reader.ts';
import { REPAIR_EFFECT, verifyArchive, type VerifyReport } from '../archive/verify.ts';
import { parseAccountOptions, parseRunTuning, positiveInt } from './account-options.ts';
import { parseOptions, required, UsageError } from './args.ts';
import { EXIT, EXIT_HELP, jobExitCode } from '../server/exit-codes.ts';
import { errorLine } from './error-line.ts';
import { formatRetryIn } from './format-retry-in.ts';
import { formatBytes } from '../../lib/format.ts';
import type { Io } from './io.ts';
import { jobOutput } from './job-output.ts';

/** The specification's status names, as the CLI prints them. */
const STATUS_NAMES: Record<BackupStatus, string> = {
  preparing: 'Preparing Backup',
  running: 'Running',
  retrying: 'Retrying',
  connection_error: 'Connection Error',
  authentication_error: 'Authentication Error',
  partially_completed: 'Partially Completed',
  completed: 'Completed',
  deactivated: 'Deactivated',
};

// In its own file so the helpers these commands use (job-output.ts) need not import this one.
export type { Io } from './io.ts';

export const BACKUP_HELP = `Usage: mailkeep backup --archive DIR --host H --port P --security tls|starttls|none
                       --user U --password-env VAR [--ca FILE] [--json]
                       [--max-attempts N] [--retry-delay-ms MS] [--timeout-ms MS] [--commit-every N]

Backs up every selectable folder of an IMAP account into the archive, read-only (EXAMINE,
BODY.PEEK[]). Incremental: only new messages are fetched, flag changes are picked up, and
messages gone from the server stay in the archive. Safe to interrupt: it resumes.

  --archive DIR        archive directory (created if missing; many accounts may share one)
  --host H --port P    IMAP server
  --security MODE      tls (implicit TLS, usually 993), starttls (143, upgrade required), none
  --user U             login name
  --password-env VAR   name of the environment variable holding the password (never a flag)
  --ca FILE            extra trusted CA certificate (PEM) for a self-signed server
  --json               print JSON events; the last line is the result object
  --max-attempts N     connection attempts before Connection Error (default 3)
  --retry-delay-ms MS  first retry delay, doubled each retry (default 2000)
  --timeout-ms MS      deadline for connecting, for the server's greeting and for socket
                       inactivity, each (defaults ${LIMITS.imapConnectTimeoutMs}, ${LIMITS.imapGreetingTimeoutMs} and ${LIMITS.imapSocketTimeoutMs})
  --commit-every N     messages per group commit (default 2000): what an interrupted run refetches

${EXIT_HELP}`;

export const VERIFY_HELP = `Usage: mailkeep verify --archive DIR [--json]

Checks everything restore, export and repair depend on: the index's own integrity (SQLite
integrity_check, references, memberships without a blob), every index row against its pack
record, every pack record up to the pack's committed end against the index, every stored
message's SHA-256, the journal's framing (CRC of every record), and the index against a replay of
the journal (row by row, in a scratch index in the system's temp directory). Damage is reported as
ARCHIVE_DAMAGED with its kind (hash_mismatch, missing, truncated, header_mismatch, misplaced_row,
unindexed, dangling_row, broken_reference, unreadable_region, pack_short, index_damaged,
journal_damaged, journal_missing, index_journal_mismatch), the folders and UIDs it hits, and what
"mailkeep repair --archive DIR" does about it. Bytes past a pack's committed end, a torn last
journal record and journal records the index has not applied yet (an interrupted or running
backup) are notes, not damage. Safe beside a running backup; works on a read-only archive.

Exit codes:
  0  nothing damaged
  1  damage found (listed), or the archive cannot be read
  2  bad usage`;

export const INFO_HELP = `Usage: mailkeep archive-info --archive DIR [--json]

Lists the archive's accounts, folders (messages on the server at the last run / stored in total),
runs (snapshots) and what disappeared from the server in each run.

Exit codes: 0 ok, 1 archive cannot be read, 2 bad usage`;

export async function backupCommand(argv: string[], io: Io): Promise<number> {
  const o = parseOptions(argv, {
    archive: 'string', host: 'string', port: 'string', security: 'string', user: 'string', 'password-env': 'string',
    ca: 'string', json: 'boolean', 'max-attempts': 'string', 'retry-delay-ms': 'string', 'timeout-ms': 'string',
    'commit-every': 'string',
  });
  const account = parseAccountOptions(o, io.env);
  const json = o.json === true;
  const output = jobOutput(io, json, STATUS_NAMES, 'new', {
    retryLine: (d) => `Retrying (attempt ${d.attempt} failed: ${d.errorCode}: ${d.message}); next try ${formatRetryIn(d.retryInMs)}`,
  });
  // Loaded here, not at the top: --help, verify and archive-info start without imapflow.
  const { runBackup } = await import('../jobs/backup/run-backup.ts');
  const result = await runBackup(
    {
      archiveDir: required(o, 'archive'),
      account,
      ...parseRunTuning(o),
      groupCommitMessages: positiveInt(o['commit-every'], 'commit-every'),
    },
    output.hooks,
  );
  output.end();
  const errors = [
    ...(result.errorCode && result.status !== 'partially_completed' ? [{ code: result.errorCode, message: result.message }] : []),
    ...(result.failed || result.errorCode === 'CANCELLED' ? [{ code: result.errorCode, message: result.message }] : []),
    ...result.skipped.map((s) => ({ code: s.code, folder: s.folder, uid: s.uid, message: s.reason })),
  ];
  if (json) {
    io.out.write(
      `${JSON.stringify({
        kind: 'backup',
        status: STATUS_NAMES[result.status],
        statusId: result.status,
        failed: result.failed,
        errorCode: result.errorCode,
        messages: result.messages,
        bytes: result.bytes,
        errors,
        runId: result.runId,
        foldersChecked: result.foldersChecked,
        foldersUnchanged: result.foldersUnchanged,
        flagsUpdated: result.flagsUpdated,
        disappeared: result.disappeared,
        attempts: result.attempts,
        durationMs: result.durationMs,
      })}\n`,
    );
  } else {
    const head = result.failed ? 'Failed' : STATUS_NAMES[result.status];
    io.out.write(
      `${head}: ${result.messages} new message(s), ${formatBytes(result.bytes)}, ${result.foldersChecked} folder(s) checked (${result.foldersUnchanged} unchanged), ${result.flagsUpdated} flag change(s), ${result.disappeared} gone from server, ${(result.durationMs / 1000).toFixed(1)} s\n`,
    );
    if (result.errorCode && result.message) io.err.write(errorLine(result.errorCode, result.message));
    for (const s of result.skipped) io.err.write(`skipped ${s.folder}${s.uid === null ? '' : ` UID ${s.uid}`}: ${s.code}: ${s.reason}\n`);
  }
  return jobExitCode(result);
}

export async function verifyCommand(argv: string[], io: Io): Promise<number> {
  const o = parseOptions(argv, { archive: 'string', json: 'boolean' });
  const dir = required(o, 'archive');
  let report;
  try {
    report = await verifyArchive(dir, { signal: io.signal });
  } catch (err) {
    io.err.write(errorLine(errorCodeOf(err), err instanceof Error ? err.message : String(err)));
    if (o.json) io.out.write(`${JSON.stringify({ kind: 'verify', ok: false, errorCode: errorCodeOf(err) })}\n`);
    return EXIT.error;
  }
  for (const w of report.warnings) io.err.write(`warning: ${w}\n`);
  const code = report.ok ? null : report.index.integrity === 'missing' ? 'ARCHIVE_INDEX_MISSING' : 'ARCHIVE_DAMAGED';
  if (o.json) io.out.write(`${JSON.stringify({ kind: 'verify', ...report, errorCode: code })}\n`);
  else io.out.write(verifyText(report));
  return report.ok ? EXIT.ok : EXIT.error;
}

/** The human report: one line per problem (with who holds the message), then what repair can do. */
function verifyText(report: VerifyReport): string {
  const lines: string[] = [];
  if (report.index.integrity !== 'ok')
    lines.push(
      report.index.integrity === 'missing'
        ? `ARCHIVE_INDEX_MISSING index_damaged: ${report.index.detail.slice(0, 5).join('; ') || 'index.sqlite is missing'}; the packs were scanned without it`
        : `ARCHIVE_DAMAGED index_damaged: ${report.index.detail.slice(0, 5).join('; ')}; the packs were scanned without it`,
    );
  for (const p of report.problems) {
    if (p.kind === 'index_damaged') continue;
    const what = p.hash ? `blob ${p.hash.slice(0, 16)}…` : `${p.bytes ?? 0} byte(s)`;
    const at = p.pack ? ` in ${p.pack}${p.offset === null ? '' : ` at ${p.offset}`}` : '';
    const where = p.messages.length ? `: ${p.messages.map((m) => `${m.folder} UID ${m.uid}`).join(', ')}` : '';
    if (p.kind === 'index_journal_mismatch' || p.kind === 'journal_damaged' || p.kind === 'journal_missing') {
      lines.push(`ARCHIVE_DAMAGED ${p.kind}: ${p.detail ?? ''}${where}${p.kind === 'index_journal_mismatch' && p.row ? ` -> ${p.repair}` : ''}`);
      continue;
    }
    lines.push(`ARCHIVE_DAMAGED ${p.kind}: ${what}${at}${where}${p.detail ? ` (${p.detail})` : ''}`);
  }
  for (const t of report.uncommittedTails)
    lines.push(`note: ${t.pack} has ${t.bytes} byte(s) (${t.records} whole record(s)) after its committed end: an interrupted write, not committed mail`);
  for (const n of report.notes) lines.push(`note: ${n}`);
  const kinds = [...new Set(report.problems.map((p) => p.kind))];
  for (const k of kinds) lines.push(`  ${k}: ${REPAIR_EFFECT[k]}`);
  if (report.repair) lines.push(`Run "${report.repair}" to rebuild the index from the journal and the packs, then verify again.`);
  const j = report.journal;
  const journal = j.file === null ? 'no journal' : `journal ${j.records} record(s)${j.compared ? ', index = journal replay' : ''}${j.compared && j.mismatchCount ? ` except ${j.mismatchCount} row(s)` : ''}`;
  const checked = `${report.packs.files} pack(s), ${formatBytes(report.bytes)} checked, ${journal}, ${report.problems.length} problem(s)`;
  lines.push(
    report.index.integrity === 'ok'
      ? `${report.ok ? 'OK' : 'DAMAGED'}: index ok, ${report.blobs} blob(s), ${report.messages} message row(s), ${checked}`
      : `DAMAGED: index ${report.index.integrity}; the packs alone: ${report.packs.records} record(s) in ${checked}`,
  );
  return `${lines.join('\n')}\n`;
}

export async function archiveInfoCommand(argv: string[], io: Io): Promise<number> {
  const o = parseOptions(argv, { archive: 'string', json: 'boolean' });
  let info;
  try {
    const db = openArchiveForReading(required(o, 'archive'), { onWarning: (w) => io.err.write(`warning: ${w}\n`) });
    try {
      info = archiveInfo(db);
    } finally {
      db.close();
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    io.err.write(errorLine(errorCodeOf(err), err instanceof Error ? err.message : String(err)));
    if (o.json) io.out.write(`${JSON.stringify({ kind: 'archive-info', errorCode: errorCodeOf(err) })}\n`);
    return EXIT.error;
  }
  if (o.json) {
    io.out.write(`${JSON.stringify({ kind: 'archive-info', ...info })}\n`);
    return EXIT.ok;
  }
  io.out.write(`${info.blobs} distinct message(s), ${formatBytes(info.blobBytes)} in ${info.packs} pack(s)\n`);
  for (const a of info.accounts) {
    io.out.write(`\naccount ${a.user}@${a.host}:${a.port}\n`);
    for (const f of a.folders) io.out.write(`  ${f.name}${f.gone ? ' (gone from server)' : ''}: ${f.messages} on server at last run, ${f.stored} stored\n`);
    for (const r of a.runs)
      io.out.write(`  run ${r.id} ${r.startedAt} ${r.status ?? 'interrupted'}${r.errorCode ? ` (${r.errorCode})` : ''}: +${r.newMessages} message(s), ${r.disappeared} disappeared\n`);
  }
  return EXIT.ok;
}
