import { LIMITS } from '../../lib/limits.ts';
import { LabelMode } from '../../lib/protocol/restore-params.ts';
import type { RestorePlan, RestoreScope } from '../jobs/restore/restore-types.ts';
import { runRestore } from '../jobs/restore/run-restore.ts';
import { parseAccountOptions, parseRunTuning, positiveInt } from './account-options.ts';
import { parseOptions, required, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { jobExitCode } from '../server/exit-codes.ts';
import { errorLine } from './error-line.ts';
import { formatBytes } from '../../lib/format.ts';
import { quotaShortfall } from '../../lib/migrate/quota-warning.ts';
import { jobOutput, retryingWithNextTry } from './job-output.ts';
import { hostPacing } from '../state/transfer-budget.ts';
import { idsOption } from './restore-ids.ts';
import { RESTORE_STATUS_NAMES } from './restore-status-names.ts';

export const RESTORE_HELP = `Usage: mailkeep restore --archive DIR --source USER@HOST[:PORT] --host H --port P
                        --security tls|starttls|none --user U --password-env VAR [--ca FILE]
                        [--folder F] [--since DATE] [--until DATE] [--at RUN] [--disappeared-in RUN]
                        [--into FOLDER] [--labels folder-per-label|first-label] [--dry-run] [--json]
                        [--max-attempts N] [--retry-delay-ms MS] [--timeout-ms MS]
       mailkeep restore --account NAME [--from-account NAME] [--data-dir DIR] [--ids ID[,ID...]|-]
                        [--folder F] [--since DATE] [--until DATE] [--at RUN] [--disappeared-in RUN]
                        [--into FOLDER] [--labels MODE] [--dry-run] [--json]
       mailkeep restore --archive DIR ... --ids ID[,ID...]      (or --ids - to read them from stdin)

Puts archived mail back into an IMAP account (the original or any other) with APPEND, keeping
flags, keywords and INTERNALDATE, creating folders as needed. Never duplicates: whatever the
destination folder already holds (same Message-ID, date and size, or same Message-ID and content;
without Message-ID, same date and content; content as normalized for known server rewrites) is
not appended, so running it again, or after an interruption, adds only what is missing. Every message's SHA-256 is checked before it is sent; a damaged one is reported, never sent.

By default restores every message the archive ever held for the account, into the folder it was
last seen in (deleted mail comes back; mail still on the server is left alone).

  --account NAME         a stored account of the relay (mailkeep account list): its archive, server,
                         CA and password (or sign-in) are the relay's; nothing to type again. Runs as a
                         restore job of the running relay (shown in its history), or directly on the
                         data dir when no relay runs. --archive, --source and the server options are refused
  --from-account NAME    with --account: read this stored account's archive instead (migrate-like restore)
  --data-dir DIR         the relay's data dir (default: the installed relay's)
  --ids ID,ID...         exactly these messages, as mailkeep search prints them (last column, or
                         "id" in --json), each into the folder it was archived in. "-" reads them from
                         stdin, one per line (a line's last word: search's own lines work; search
                         prints 50 hits unless given --limit N):
                           mailkeep search --archive DIR 'from:hotel' | mailkeep restore --account me --ids -
                           mailkeep search --archive DIR 'from:hotel' --json | jq -r '.hits[].id' | mailkeep restore ... --ids -
                         A malformed id is INVALID_INPUT (exit 2), an id the archive does not hold
                         NOT_FOUND (exit 6); either way nothing is restored, not even the good ids. Not with
                         --folder, --since, --until, --at or --disappeared-in
  --archive DIR          archive written by mailkeep backup
  --source USER@HOST     which archived account to restore from (add :PORT if several match;
                         may be omitted when the archive holds one account)
  --host H --port P      destination IMAP server
  --security MODE        tls (implicit TLS, usually 993), starttls (143, upgrade required), none
  --user U               destination login name
  --password-env VAR     name of the environment variable holding the password (never a flag)
  --ca FILE              extra trusted CA certificate (PEM) for a self-signed server
  --folder F             only this archived folder (its full name, e.g. "Projekte/2024")
  --since DATE           only messages whose INTERNALDATE is at or after DATE (YYYY-MM-DD or ISO 8601)
  --until DATE           only messages before DATE; a plain YYYY-MM-DD includes that whole day (UTC)
  --at RUN               the account as it was at backup run RUN (see mailkeep archive-info)
  --disappeared-in RUN   only the messages that disappeared from the server in run RUN
  --into FOLDER          recreate the folder tree under this new folder, e.g. "Restored 2026-11-25"
  --labels MODE          Gmail labels into a server without labels: folder-per-label (default, as
                         before: the message goes into the folder of every label it had, All Mail
                         included) or first-label (one copy, in its first label's folder). Into
                         Gmail itself each message is appended once and gets its labels back.
  --dry-run              print the plan (per folder: to append, already present, folders to create,
                         over APPENDLIMIT, damaged; destination quota) and change nothing
  --json                 print JSON events; the last line is the result object
  --max-attempts N       connection attempts before Connection Error (default 3)
  --retry-delay-ms MS    first retry delay, doubled each retry (default 2000)
  --timeout-ms MS        deadline for connecting, for the server's greeting and for socket
                         inactivity, each (defaults ${LIMITS.imapConnectTimeoutMs}, ${LIMITS.imapGreetingTimeoutMs} and ${LIMITS.imapSocketTimeoutMs})

Exit codes:
  0  Completed (or the dry run's plan was printed)
  2  bad usage
  3  Partially Complete (server storage full, message over APPENDLIMIT, damaged archive blob), or Cancelled
  4  Authentication Error (wrong user or password; not retried)
  5  Connection Error (after bounded retries)
  6  Failed (archive missing or unreadable, unknown account or run, unexpected error)`;

/** The dry run's sentence on labels: what happens to a message that was in several folders. */
export function labelsLine(l: NonNullable<RestorePlan['labels']>): string {
  const n = `${l.messages} distinct message(s) in ${l.memberships} folder membership(s)`;
  if (l.mode === 'gmail') return `Labels: the destination is Gmail: ${n}, each appended once; ${l.labelsToAdd} label(s) added with STORE +X-GM-LABELS`;
  if (l.mode === 'first-label') return `Labels: first label only: ${n}, each copied once into its first label's folder`;
  return `Labels: one folder per label (as before; --labels first-label copies each message once): ${n}`;
}

/** YYYY-MM-DD (UTC midnight; for --until the end of that day) or a full ISO 8601 date-time. */
export function parseDateOption(v: string | boolean | undefined, name: string, endOfDay = false): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v);
  const d = new Date(dateOnly ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--${name} must be a date (YYYY-MM-DD or ISO 8601)`);
  return dateOnly && endOfDay ? new Date(d.getTime() + 86_400_000) : d;
}

/** USER@HOST[:PORT]; the user part may itself contain "@" (user@example.org@imap.example.org). */
export function parseSource(v: string): { user: string; host: string; port?: number } {
  const at = v.lastIndexOf('@');
  if (at <= 0 || at === v.length - 1) throw new UsageError('--source must be USER@HOST or USER@HOST:PORT');
  const user = v.slice(0, at);
  const hostPort = v.slice(at + 1);
  const m = /^(.+):(\d{1,5})$/.exec(hostPort);
  return m ? { user, host: m[1]!, port: Number(m[2]) } : { user, host: hostPort };
}

/** What --archive names and --account takes from the relay's state instead. */
const SELF_CONTAINED = ['archive', 'source', 'host', 'port', 'security', 'user', 'password-env', 'ca', 'max-attempts', 'retry-delay-ms', 'timeout-ms'] as const;
/** Scopes that pick messages; --ids picks exact messages and takes none of them. */
const SCOPES = ['folder', 'since', 'until', 'at', 'disappeared-in'] as const;

export async function restoreCommand(argv: string[], io: Io): Promise<number> {
  const o = parseOptions(argv, {
    archive: 'string', source: 'string', host: 'string', port: 'string', security: 'string', user: 'string', 'password-env': 'string',
    ca: 'string', folder: 'string', since: 'string', until: 'string', at: 'string', 'disappeared-in': 'string', into: 'string', labels: 'string',
    'dry-run': 'boolean', json: 'boolean', 'max-attempts': 'string', 'retry-delay-ms': 'string', 'timeout-ms': 'string',
    ids: 'string', account: 'string', 'from-account': 'string', 'data-dir': 'string',
  });
  const stored = typeof o.account === 'string';
  if (stored) {
    const given = SELF_CONTAINED.filter((k) => o[k] !== undefined);
    if (given.length) throw new UsageError(`--account takes the archive and the server from the relay's stored account; drop ${given.map((k) => `--${k}`).join(', ')}`);
  } else if (o['from-account'] !== undefined || o['data-dir'] !== undefined) throw new UsageError('--from-account and --data-dir go with --account');
  if (o.ids !== undefined) {
    const given = SCOPES.filter((k) => o[k] !== undefined);
    if (given.length) throw new UsageError(`--ids names exact messages; it cannot be combined with ${given.map((k) => `--${k}`).join(', ')}`);
  }
  if (o.at !== undefined && o['disappeared-in'] !== undefined) throw new UsageError('--at and --disappeared-in cannot be combined');
  if (typeof o.into === 'string' && o.into.trim() === '') throw new UsageError('--into needs a folder name');
  const labels = o.labels === undefined ? undefined : LabelMode.safeParse(o.labels).data;
  if (o.labels !== undefined && labels === undefined) throw new UsageError('--labels must be folder-per-label or first-label');
  // The typed server's options are checked before stdin is read; the ids before anything runs.
  const typedTarget = stored ? undefined : parseAccountOptions(o, io.env);
  const ids = typeof o.ids === 'string' ? await idsOption(o.ids, io.in ?? process.stdin, io.signal, io.err) : undefined;
  const scope: RestoreScope = {
    ...(typeof o.folder === 'string' ? { folder: o.folder } : {}),
    ...(o.since !== undefined ? { since: parseDateOption(o.since, 'since') } : {}),
    ...(o.until !== undefined ? { until: parseDateOption(o.until, 'until', true) } : {}),
    ...(o.at !== undefined ? { atRun: positiveInt(o.at, 'at') } : {}),
    ...(o['disappeared-in'] !== undefined ? { disappearedInRun: positiveInt(o['disappeared-in'], 'disappeared-in') } : {}),
    ...(ids ? { ids } : {}),
  };
  const json = o.json === true;
  const dryRun = o['dry-run'] === true;
  if (stored) {
    const { accountRestore } = await import('./account-restore.ts');
    const { dataDirOf, stateCommand } = await import('./state-command-io.ts');
    return stateCommand(io, () =>
      accountRestore(
        {
          dataDir: dataDirOf(o),
          account: o.account as string,
          ...(typeof o['from-account'] === 'string' ? { fromAccount: o['from-account'] } : {}),
          params: {
            ...(scope.folder !== undefined ? { folder: scope.folder } : {}),
            ...(scope.since ? { since: scope.since.toISOString() } : {}),
            ...(scope.until ? { until: scope.until.toISOString() } : {}),
            ...(scope.atRun !== undefined ? { atRun: scope.atRun } : {}),
            ...(scope.disappearedInRun !== undefined ? { disappearedInRun: scope.disappearedInRun } : {}),
            ...(ids ? { messageIds: ids } : {}),
            ...(typeof o.into === 'string' ? { into: o.into } : {}),
            ...(labels ? { labels } : {}),
            ...(dryRun ? { dryRun } : {}),
          },
          json,
        },
        io,
      ),
    );
  }
  const target = typedTarget!;
  const output = jobOutput(io, json, RESTORE_STATUS_NAMES, 'restored', { retryLine: retryingWithNextTry });
  // No stored account: the provider's limits by host (Gmail's upload budget and connection cap).
  const pacing = dryRun ? null : hostPacing(target.host, 'up');
  const result = await runRestore(
    {
      archiveDir: required(o, 'archive'),
      ...(typeof o.source === 'string' ? { source: parseSource(o.source) } : {}),
      target: { ...target, ...(pacing?.job.maxConnections ? { maxConnections: pacing.job.maxConnections } : {}) },
      ...(pacing ? { pacing: pacing.job } : {}),
      scope,
      ...(typeof o.into === 'string' ? { into: o.into } : {}),
      ...(labels ? { labels } : {}),
      dryRun,
      ...parseRunTuning(o),
    },
    output.hooks,
  );
  pacing?.close();
  output.end();
  if (json) {
    output.writeResult(result);
    return jobExitCode(result);
  }
  const p = result.plan;
  if (dryRun && p) {
    io.out.write(`Plan (dry run, nothing changed): ${p.toAppend} to append (${formatBytes(p.bytesToAppend)}), ${p.alreadyPresent} already present, ${p.overAppendLimit} over APPENDLIMIT, ${p.corrupt} damaged in the archive\n`);
    for (const f of p.folders)
      io.out.write(`  ${f.destination}${f.create ? ' (new folder)' : ''}: ${f.toAppend} to append, ${f.alreadyPresent} already present${f.overAppendLimit ? `, ${f.overAppendLimit} over APPENDLIMIT` : ''}${f.corrupt ? `, ${f.corrupt} damaged` : ''}\n`);
    if (p.foldersToCreate.length) io.out.write(`Folders to create: ${p.foldersToCreate.join(', ')}\n`);
    // Only where it matters: into Gmail, or when some message was in several folders (labels).
    if (p.labels && (p.labels.mode === 'gmail' || p.labels.messages !== p.labels.memberships)) io.out.write(`${labelsLine(p.labels)}\n`);
    // Only a real limit is worth a line: a server without QUOTA (or without a storage limit) gets none.
    if (p.quota && p.quota.limitBytes !== null)
      io.out.write(`Destination quota: ${p.quota.usedBytes === null ? '?' : formatBytes(p.quota.usedBytes)} used of ${formatBytes(p.quota.limitBytes)}\n`);
    const shortfall = quotaShortfall(p.bytesToAppend, p.quota, 'restore');
    if (shortfall) io.out.write(`Will not fit: ${shortfall.text}\n`);
  } else {
    io.out.write(
      `${RESTORE_STATUS_NAMES[result.status]}: ${result.restored} restored (${formatBytes(result.bytes)}), ${result.alreadyPresent} already present, ${result.notRestored} not restored, ${result.foldersCreated} folder(s) created, ${(result.durationMs / 1000).toFixed(1)} s\n`,
    );
  }
  if (result.errorCode && result.message) io.err.write(errorLine(result.errorCode, result.message));
  for (const s of result.skipped) io.err.write(`not restored ${s.folder}${s.uid === null ? '' : ` (archived UID ${s.uid})`}: ${s.code}: ${s.reason}\n`);
  return jobExitCode(result);
}
