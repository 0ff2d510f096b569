import { errorCodeOf, MailkeepError } from '../../lib/protocol/error-codes.ts';
import { dateTimeFormat } from '../../lib/intl-formats.ts';
import { defaultDataDir } from '../server/cli-args.ts';
import { UsageError } from './args.ts';
import { errorLine } from './error-line.ts';
import { EXIT } from '../server/exit-codes.ts';
import type { Io } from './commands.ts';

/** `mailkeep account edit work --host x`: the words before the first option, and the options. */
export function splitPositionals(argv: readonly string[]): { words: string[]; options: string[] } {
  const i = argv.findIndex((a) => a.startsWith('--'));
  return i < 0 ? { words: [...argv], options: [] } : { words: argv.slice(0, i), options: argv.slice(i) };
}

export function dataDirOf(o: Record<string, string | boolean | undefined>): string {
  return typeof o['data-dir'] === 'string' ? o['data-dir'] : defaultDataDir();
}

/**
 * Runs a state command and turns its refusals into the CLI's contract: `error CODE: message`,
 * exit 2 for bad usage (INVALID_INPUT), 4 when the relay holds no password for the account
 * (PASSWORD_NOT_STORED: as a refused one, the user must give it), 1 for anything else (no account,
 * relay unreachable...).
 */
export async function stateCommand(io: Io, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = errorCodeOf(err);
    io.err.write(errorLine(code, err instanceof MailkeepError ? err.message : String((err as Error)?.message ?? err)));
    return code === 'INVALID_INPUT' ? EXIT.usage : code === 'PASSWORD_NOT_STORED' ? EXIT.auth : EXIT.error;
  }
}

/** An instant as the relay's local time, "2026-11-26 02:00" (the zone daily schedules use). */
export function localTimeText(iso: string | null, zone: string): string {
  if (iso === null) return '-';
  const parts = dateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(iso));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}
