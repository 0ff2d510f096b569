import type { AccountState } from '../../lib/protocol/account-state.ts';
import { statusInfo } from '../../lib/status/catalog.ts';
import { describeSchedule } from '../state/schedule-slots.ts';
import { parseOptions, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { EXIT } from '../server/exit-codes.ts';
import { formatSize } from './format-size.ts';
import { pacedForecast, pauseCondition } from '../../lib/status/pause-condition.ts';
import { withStateApi } from './state-api.ts';
import { dataDirOf, localTimeText, splitPositionals, stateCommand } from './state-command-io.ts';

/** The spec's name for an account's status; "Not backed up yet" before its first backup. */
export function statusName(s: AccountState['status']): string {
  return s === null ? 'Not backed up yet' : statusInfo('backup', s).label;
}

export async function statusCommand(argv: string[], io: Io): Promise<number> {
  const { words, options } = splitPositionals(argv);
  if (words.length > 0) throw new UsageError(`unexpected argument: ${words[0]}`);
  const o = parseOptions(options, { json: 'boolean', 'data-dir': 'string' });
  return stateCommand(io, () =>
    withStateApi(dataDirOf(o), async (api) => {
      const snap = await api.snapshot();
      // With no relay running nothing runs by itself: a monitor must hear about it even when every
      // last known status is Completed.
      const running = api.via === 'relay';
      const allCompleted = running && snap.accounts.length > 0 && snap.accounts.every((a) => a.status === 'completed');
      if (o.json) {
        io.out.write(
          `${JSON.stringify({
            kind: 'status',
            ok: allCompleted,
            relayRunning: api.via === 'relay',
            relayTime: snap.relayTime,
            timeZone: snap.timeZone,
            accounts: snap.accounts.map((a) => ({
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
              pacing: pacingOf(a, snap.timeZone, Date.parse(snap.relayTime)),
            })),
          })}\n`,
        );
      } else {
        if (snap.accounts.length === 0) io.out.write('No accounts. Add one with: mailkeep account add --host H --user U\n');
        const t = (iso: string | null): string => localTimeText(iso, snap.timeZone);
        for (const a of snap.accounts) {
          const code = a.latestBackup?.errorCode && a.status !== 'completed' ? ` (${a.latestBackup.errorCode})` : '';
          io.out.write(`${a.account.id} (${a.account.user}): ${statusName(a.status)}${code}\n`);
          io.out.write(`  last successful backup ${t(a.lastSuccessAt)}, next run ${t(a.nextRunAt)} (${describeSchedule(a.schedule)})${a.retryAt ? `, automatic retry ${t(a.retryAt)}` : ''}\n`);
          io.out.write(`  archive: ${a.archive?.messages ?? 0} message(s), ${formatSize(a.archive?.bytes ?? 0)}${a.hasPassword ? '' : '; no password stored'}\n`);
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
