import { Schedule } from '../../lib/protocol/account-state.ts';
import { describeSchedule, parseScheduleWords } from '../state/schedule-slots.ts';
import { parseOptions, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { findAccount, withStateApi } from './state-api.ts';
import { dataDirOf, localTimeText, splitPositionals, stateCommand } from './state-command-io.ts';

export async function scheduleCommand(argv: string[], io: Io): Promise<number> {
  const { words, options } = splitPositionals(argv);
  const o = parseOptions(options, { 'data-dir': 'string' });
  const [ref, ...rest] = words;
  if (ref === undefined || rest.length === 0) throw new UsageError('usage: mailkeep schedule ACCOUNT every Nh|daily HH:MM|off');
  // `every 6h` or `"every 6h"` (one quoted word, as --schedule takes it): the same schedule.
  const parsed = Schedule.safeParse(parseScheduleWords(rest.join(' ').trim().split(/\s+/)));
  if (!parsed.success) throw new UsageError(`the schedule must be "every Nh" (N from 1 to 168), "daily HH:MM" or "off", not "${rest.join(' ')}"`);
  return stateCommand(io, () =>
    withStateApi(dataDirOf(o), async (api) => {
      const snap = await api.snapshot();
      const a = findAccount(snap.accounts, ref);
      const state = await api.setSchedule(a.account.id, parsed.data);
      io.out.write(
        `Schedule of ${a.account.id}: ${describeSchedule(state.schedule)}` +
          (state.nextRunAt ? `; next run ${localTimeText(state.nextRunAt, snap.timeZone)} (${snap.timeZone})` : '') +
          `${api.via === 'direct' ? '; it runs while the relay runs (mailkeep relay, or mailkeep install)' : ''}.\n`,
      );
      return 0;
    }),
  );
}
