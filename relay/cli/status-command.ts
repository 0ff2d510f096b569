import type { AccountState } from '../../lib/protocol/account-state.ts';
import type { AccountHistoryResult } from '../../lib/protocol/account-history.ts';
import { HISTORY_LIMITS } from '../../lib/limits.ts';
import { statusInfo } from '../../lib/status/catalog.ts';
import { formatDuration, runDurationMs, runOutcomeLabel } from '../../lib/ui/history-text.ts';
import { describeSchedule } from '../state/schedule-slots.ts';
import { parseOptions, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { EXIT } from '../server/exit-codes.ts';
import { formatBytes } from '../../lib/format.ts';
import { pacedForecast, pauseCondition } from '../../lib/status/pause-condition.ts';
import { findAccount, withStateApi } from './state-api.ts';
import { dataDirOf, localTimeText, splitPositionals, stateCommand } from './state-command-io.ts';

/** The spec's name for an account's status; "Not backed up yet" before its first backup. */
export function statusName(s: AccountState['status']): string {
  return s === null ? 'Not backed up yet' : statusInfo('backup', s).label;
}

/**
 * `mailkeep status [ACCOUNT]`: every account's status, or one account's with what its archive holds
 * (messages, folders, size: account.history's totals, the numbers `mailkeep archive-info` counts)
 * and its last HISTORY_LIMITS.cliRuns runs, the same history the dashboard shows.
 */
export async function statusCommand(argv: string[], io: Io): Promise<number> {
  const { words, options } = splitPositionals(argv);
  if (words.length > 1) throw new UsageError(`unexpected argument: ${words[1]}`);
  const o = parseOptions(options, { json: 'boolean', 'data-dir': 'string' });
  const only = words[0];
  return stateCommand(io, () =>
    withStateApi(dataDirOf(o), async (api) => {
      const snap = await api.snapshot();
      const accounts = only === undefined ? snap.accounts : [findAccount(snap.accounts, only)];
      const history = only === undefined ? undefined : await api.history(accounts[0]!.account.id, HISTORY_LIMITS.cliRuns);
      // With no relay running nothing runs by itself: a monitor must hear about it even when every
      // last known status is Completed.
      const running = api.via === 'relay';
      const allCompleted = running && accounts.length > 0 && accounts.every((a) => a.status === 'completed');
      if (o.json) {
        io.out.write(
          `${JSON.stringify({
            kind: 'status',
            ok: allCompleted,
            relayRunning: api.via === 'relay',
            relayTime: snap.relayTime,
            timeZone: snap.timeZone,
            accounts: accounts.map((a) => ({
              id: a.account.id,
              user: a.account.user,
              host: a.account.host,
              status: statusName(a.status),
              statusId: a.status,
              errorCode: a.latestBackup?.errorCode ?? null,
              schedule: describeSchedule(a.schedule),
              lastSuccessAt: a.lastSuccessAt,
              nextRunAt: a.nextRunAt,
              retryAt: a.retryAt,
              messages: a.archive?.messages ?? 0,
              bytes: a.archive?.bytes ?? 0,
              hasPassword: a.hasPassword,
              ...(history ? { folders: history.totals?.folders ?? 0, totalRuns: history.totalRuns, runs: history.runs.map(jsonRun) } : {}),
              pacing: pacingOf(a, snap.timeZone, Date.parse(snap.relayTime)),
            })),
          })}\n`,
        );
      } else {
        if (snap.accounts.length === 0) io.out.write('No accounts. Add one with: mailkeep account add --host H --user U\n');
        const t = (iso: string | null): string => localTimeText(iso, snap.timeZone);
        for (const a of accounts) {
          const code = a.latestBackup?.errorCode && a.status !== 'completed' ? ` (${a.latestBackup.errorCode})` : '';
          io.out.write(`${a.account.id} (${a.account.user}): ${statusName(a.status)}${code}\n`);
          io.out.write(`  last successful backup ${t(a.lastSuccessAt)}, next run ${t(a.nextRunAt)} (${describeSchedule(a.schedule)})${a.retryAt ? `, automatic retry ${t(a.retryAt)}` : ''}\n`);
          if (history) io.out.write(historyText(history, snap.timeZone, a.hasPassword));
          else io.out.write(`  archive: ${a.archive?.messages ?? 0} message(s), ${formatBytes(a.archive?.bytes ?? 0)}${a.hasPassword ? '' : '; no password stored'}\n`);
          for (const line of pacingOf(a, snap.timeZone, Date.parse(snap.relayTime)).lines) io.out.write(`  ${line}\n`);
        }
        io.out.write(
          running
            ? `Relay running; times in ${snap.timeZone}.\n`
            : `Relay not running: the statuses above are the last known, and nothing runs by itself until it does (start it with \`npx mailkeep install\`, or \`npx mailkeep relay\` in a terminal); times in ${snap.timeZone}.\n`,
        );
      }
      return allCompleted ? EXIT.ok : EXIT.error;
    }),
  );
}

function jsonRun(r: AccountHistoryResult['runs'][number]) {
  return {
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    durationMs: runDurationMs(r),
    status: runOutcomeLabel(r.status),
    statusId: r.status,
    errorCode: r.errorCode,
    newMessages: r.newMessages,
    newBytes: r.newBytes,
    disappeared: r.disappeared,
    archiveRunId: r.archiveRunId,
  };
}

/** The archive's totals and the newest runs, one line each, in the relay's zone. */
export function historyText(h: AccountHistoryResult, zone: string, hasPassword = true): string {
  const totals = h.totals ?? { messages: 0, bytes: 0, folders: 0 };
  const lines = [`  archive: ${totals.messages} message(s) in ${totals.folders} folder(s), ${formatBytes(totals.bytes)}${hasPassword ? '' : '; no password stored'}`];
  if (h.runs.length === 0) lines.push('  no backup runs yet');
  else lines.push(`  last ${h.runs.length} of ${h.totalRuns} run(s):`);
  for (const r of h.runs) {
    const took = runDurationMs(r);
    const gone = r.disappeared > 0 ? `, ${r.disappeared} disappeared on the server` : '';
    const code = r.errorCode ? ` (${r.errorCode})` : '';
    lines.push(`    ${localTimeText(r.startedAt, zone)}  ${took === null ? 'not finished' : formatDuration(took)}  ${runOutcomeLabel(r.status)}${code}: +${r.newMessages} message(s), ${formatBytes(r.newBytes)}${gone}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Issue 14: a backup paused under a provider's limit says why and when it resumes; a paced run
 * says its bytes so far of the total and when it will be done under the daily budget. Paused by the
 * budget, the rest goes one budget a day from the resume time on.
 */
export function pacingOf(a: AccountState, timeZone: string, now: number): { lines: string[]; resumeAt: string | null; forecastDoneAt: string | null } {
  const job = a.latestBackup;
  const out = { lines: [] as string[], resumeAt: null as string | null, forecastDoneAt: null as string | null };
  if (!job) return out;
  const pause = job.kind === 'backup' && job.errorCode === 'PROVIDER_LIMIT_PAUSED' ? job.outcome?.pause : undefined;
  if (pause) {
    out.lines.push(`paused: ${pauseCondition(pause, timeZone, now)}`);
    out.resumeAt = pause.resumeAt;
  }
  const forecast = pacedForecast(job.progress, pause, now);
  if (forecast && job.status !== 'completed') {
    out.lines.push(`forecast: ${forecast.text}`);
    out.forecastDoneAt = new Date(forecast.doneAt).toISOString();
  }
  return out;
}
