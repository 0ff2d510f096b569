import { LIMITS } from '../../lib/limits.ts';
import type { MigrateStatus } from '../../lib/protocol/status-ids.ts';
import { runMigrate } from '../jobs/migrate/run-migrate.ts';
import { ACCOUNT_OPTIONS, parseAccountOptions, parseRunTuning } from './account-options.ts';
import { parseOptions, required, UsageError } from './args.ts';
import { LabelMode } from '../../lib/protocol/restore-params.ts';
import { labelsLine } from './restore-command.ts';
import type { Io } from './commands.ts';
import { jobExitCode } from '../server/exit-codes.ts';
import { errorLine } from './error-line.ts';
import { formatBytes } from '../../lib/format.ts';
import { quotaShortfall } from '../../lib/migrate/quota-warning.ts';
import { jobOutput, retryingWithNextTry } from './job-output.ts';
import { RESTORE_STATUS_NAMES } from './restore-status-names.ts';

/** The specification's Migrate table has the Restore table's statuses and names (MigrateStatus is RestoreStatus). */
const STATUS_NAMES: Record<MigrateStatus, string> = RESTORE_STATUS_NAMES;

export const MIGRATE_HELP = `Usage: mailkeep migrate --from-host H --from-port P --from-security tls|starttls|none
                        --from-user U --from-password-env VAR [--from-ca FILE]
                        --to-host H --to-port P --to-security tls|starttls|none
                        --to-user U --to-password-env VAR [--to-ca FILE]
                        [--labels folder-per-label|first-label] [--dry-run] [--json] [--max-attempts N] [--retry-delay-ms MS] [--timeout-ms MS]

Copies every folder of one IMAP account into another, directly (no backup needed), with flags,
keywords and INTERNALDATE. The source is only read (EXAMINE, BODY.PEEK[]); nothing is deleted on
either side. Folders are mapped by special use (the source's Sent goes into the destination's
Sent, whatever each is called; likewise Drafts, Trash, Junk, Archive) and otherwise by name,
segment by segment between the two servers' hierarchy delimiters.

Never duplicates: what a destination folder already holds (same Message-ID, date and size, or same
Message-ID and content; without a Message-ID, same date and content) is not copied, so running it
again, or after it was killed, copies only what is missing. Messages over the destination's APPENDLIMIT are listed.

  --from-*               the source account: host, port, security, user, password variable, CA
  --to-*                 the destination account, same options
  --*-security MODE      tls (implicit TLS, usually 993), starttls (143, upgrade required), none
  --*-password-env VAR   name of the environment variable holding that password (never a flag)
  --*-ca FILE            extra trusted CA certificate (PEM) for a self-signed server
  --labels MODE          from Gmail into a server without labels: folder-per-label (default, as
                         before: a message goes into the folder of every label it has, All Mail
                         included) or first-label (one copy, in its first label's folder). Gmail
                         to Gmail copies each message once and adds its other labels.
  --dry-run              print the folder mapping and counts (to copy, already there, over
                         APPENDLIMIT, folders to create) and change nothing
  --json                 print JSON events; the last line is the result object
  --max-attempts N       connection attempts before Connection Error / Cancelled (default 3)
  --retry-delay-ms MS    first retry delay, doubled each retry (default 2000)
  --timeout-ms MS        deadline for connecting, for the server's greeting and for socket
                         inactivity, each (defaults ${LIMITS.imapConnectTimeoutMs}, ${LIMITS.imapGreetingTimeoutMs} and ${LIMITS.imapSocketTimeoutMs})

Exit codes:
  0  Completed (or the dry run's plan was printed)
  2  bad usage
  3  Partially Complete (destination storage full, message over APPENDLIMIT), or Cancelled
  4  Authentication Error (the message says whether the source or the destination refused)
  5  Connection Error (after bounded retries)
  6  Failed (unexpected error)`;

export async function migrateCommand(argv: string[], io: Io): Promise<number> {
  const spec: Record<string, 'string' | 'boolean'> = { labels: 'string', 'dry-run': 'boolean', json: 'boolean', 'max-attempts': 'string', 'retry-delay-ms': 'string', 'timeout-ms': 'string' };
  for (const side of ['from', 'to']) for (const n of ACCOUNT_OPTIONS) spec[`${side}-${n}`] = 'string';
  const o = parseOptions(argv, spec);
  const source = parseAccountOptions(o, io.env, 'from');
  const destination = parseAccountOptions(o, io.env, 'to');
  const labels = o.labels === undefined ? undefined : LabelMode.safeParse(o.labels).data;
  if (o.labels !== undefined && labels === undefined) throw new UsageError('--labels must be folder-per-label or first-label');
  const json = o.json === true;
  const dryRun = o['dry-run'] === true;
  const output = jobOutput(io, json, STATUS_NAMES, 'migrated', { retryLine: retryingWithNextTry, statusFields: (d) => ({ side: d.side ?? null }) });
  const result = await runMigrate(
    {
      source,
      destination,
      dryRun,
      ...(labels ? { labels } : {}),
      ...parseRunTuning(o),
    },
    output.hooks,
  );
  output.end();
  if (json) {
    output.writeResult(result);
    return jobExitCode(result);
  }
  const p = result.plan;
  if (dryRun && p) {
    io.out.write(`Plan (dry run, nothing changed): ${p.toCopy} to copy (${formatBytes(p.bytesToCopy)}), ${p.alreadyPresent} already in the destination, ${p.overAppendLimit} over APPENDLIMIT, of ${p.messages} on the source\n`);
    for (const f of p.folders)
      io.out.write(`  ${f.source} -> ${f.destination}${f.specialUse ? ` (${f.specialUse})` : ''}${f.create ? ' (new folder)' : ''}: ${f.toCopy} to copy, ${f.alreadyPresent} already there${f.overAppendLimit ? `, ${f.overAppendLimit} over APPENDLIMIT` : ''}\n`);
    if (p.foldersToCreate.length) io.out.write(`Folders to create: ${p.foldersToCreate.join(', ')}\n`);
    const shortfall = quotaShortfall(p.bytesToCopy, p.quota, 'migration');
    if (shortfall) io.out.write(`Will not fit: ${shortfall.text}\n`);
    if (p.labels && (p.labels.mode === 'gmail' || p.labels.messages !== p.labels.memberships)) io.out.write(`${labelsLine(p.labels)}\n`);
  } else {
    io.out.write(
      `${STATUS_NAMES[result.status]}: ${result.migrated} migrated (${formatBytes(result.bytes)}), ${result.alreadyPresent} already in the destination, ${result.notMigrated} not migrated, ${result.foldersCreated} folder(s) created, ${(result.durationMs / 1000).toFixed(1)} s\n`,
    );
  }
  if (result.errorCode && result.message) io.err.write(errorLine(result.errorCode, result.message, '--from-ca FILE or --to-ca FILE'));
  for (const s of result.skipped) io.err.write(`not migrated ${s.folder}${s.uid === null ? '' : ` UID ${s.uid}`}: ${s.code}: ${s.reason}\n`);
  return jobExitCode(result);
}
