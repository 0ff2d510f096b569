import { EXIT } from '../server/exit-codes.ts';
import { UsageError } from './args.ts';
import { dropOutputWhenReaderGoes, type Io } from './io.ts';

export interface Command {
  help: string;
  run: (argv: string[], io: Io) => Promise<number>;
}

/**
 * Runs one command as `mailkeep NAME ...`: its help on --help/-h, Ctrl-C stopping it cleanly, a
 * usage error or an unexpected one as one line. Shared by main.ts and the one-command entries
 * (search-main.ts, show-main.ts), so they answer alike.
 */
export async function runCommand(name: string, cmd: Command, rest: string[], io: Io, controller: AbortController): Promise<number> {
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out.write(`${cmd.help}\n`);
    return EXIT.ok;
  }
  // Ctrl-C: stop cleanly (commit what was received, release the lock); a second one kills.
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err.write(`error INVALID_INPUT: ${err.message} (try mailkeep ${name} --help)\n`);
      return EXIT.usage;
    }
    io.err.write(`error UNKNOWN: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/**
 * The streams of this process, overridable by tests, and the signal Ctrl-C aborts. A reader that
 * goes early (`| head -1`) ends the output quietly, never in a stack trace (io.ts).
 */
export function processIo(io: Partial<Io>): { io: Io; controller: AbortController } {
  for (const s of [io.out ?? process.stdout, io.err ?? process.stderr]) dropOutputWhenReaderGoes(s);
  const controller = new AbortController();
  return { io: { out: process.stdout, err: process.stderr, env: process.env, signal: controller.signal, ...io }, controller };
}

/**
 * `main` of an entry that runs one command (search-main.ts, show-main.ts: bin/mailkeep.js starts
 * `mailkeep search` and `show` from their own small bundles); any other command name is refused,
 * since the launcher never sends one.
 */
export function oneCommandMain(name: string, cmd: Command): (argv: string[], io?: Partial<Io>) => Promise<number> {
  return async (argv, io = {}) => {
    const { io: full, controller } = processIo(io);
    const [given, ...rest] = argv;
    if (given !== name) {
      full.err.write(`error INVALID_INPUT: this entry runs only mailkeep ${name}, not "${given ?? ''}" (run bin/mailkeep.js)\n`);
      return EXIT.usage;
    }
    return await runCommand(name, cmd, rest, full, controller);
  };
}
