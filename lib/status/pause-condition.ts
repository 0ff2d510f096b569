import type { PauseInfo } from '../protocol/job-outcome.ts';
import { budgetForecast } from './forecast.ts';
import { dateTimeFormat } from '../intl-formats.ts';

const NAMES: Record<PauseInfo['provider'], string> = { gmail: 'Gmail', outlook: 'Outlook', other: 'The mail server' };

/**
 * The condition of a job paused under a provider's limit (Retrying, PROVIDER_LIMIT_PAUSED):
 * why, and when it resumes by itself, in the user's zone: "Gmail's daily download limit reached;
 * resumes at 21:40". A resume more than a day away names the day too.
 */
export function pauseCondition(pause: PauseInfo, timeZone: string, now: number): string {
  const who = NAMES[pause.provider];
  const way = pause.direction === 'up' ? 'upload' : 'download';
  const why =
    pause.reason === 'budget'
      ? `${who}'s daily ${way} limit reached`
      : pause.reason === 'bandwidth'
        ? `${who} refused more ${way}s for now (its bandwidth limit)`
        : pause.reason === 'connections'
          ? `${who} allows no more simultaneous connections right now`
          : pause.reason === 'session-expired'
            ? `${who} ended the session`
            : `${who} asked Mailkeep to slow down`;
  const at = Date.parse(pause.resumeAt);
  const time = dateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false }).format(at);
  const day = at - now > 20 * 60 * 60 * 1000 ? `${dateTimeFormat('en-GB', { timeZone, weekday: 'short' }).format(at)} ` : '';
  return `${why}; resumes ${day ? `${day}at ${time}` : `at ${time}`}`;
}

/**
 * The forecast of a paced run (popup, dashboard, `mailkeep status`): its bytes so far of the total
 * and when it will be done under the daily budget. Paused by the budget, the rest goes one budget a
 * day from the resume time on. Null without a budget or a total.
 */
export function pacedForecast(
  progress: { bytes: number; bytesTotal?: number | null | undefined; dailyBudgetBytes?: number | null | undefined; budgetName?: string | undefined },
  pause: PauseInfo | undefined,
  now: number,
): { text: string; doneAt: number } | null {
  const startAt = pause?.reason === 'budget' ? Date.parse(pause.resumeAt) : now;
  return budgetForecast({ bytesDone: progress.bytes, bytesTotal: progress.bytesTotal, dailyBytes: progress.dailyBudgetBytes, startAt, ...(progress.budgetName ? { limitName: progress.budgetName } : {}) }, now);
}
