import { EXIT } from '../server/exit-codes.ts';
import type { Io } from './io.ts';
import { processIo, runCommand, type Command } from './run-command.ts';
import { SEARCH_HELP, searchCommand } from './search-command.ts';

/**
 * Where `mailkeep search` and `mailkeep show` start (bin/mailkeep.js picks it by the command name;
 * scripts/build-relay.mjs bundles it as one file): the search code and nothing of main.ts's table of
 * every command, so a one-shot search costs about what Node with SQLite does. Same answers as
 * main.ts (the same runner, run-command.ts): a test compares them.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  search: async () => ({ help: SEARCH_HELP, run: searchCommand }),
  // show parses MIME: its code loads when it runs, not with every search.
  show: async () => ({ help: (await import('./show-command.ts')).SHOW_HELP, run: (await import('./show-command.ts')).showCommand }),
};

export const SEARCH_ENTRY_COMMANDS = Object.keys(COMMANDS);

export async function main(argv: string[], io: Partial<Io> = {}): Promise<number> {
  const { io: full, controller } = processIo(io);
  const [name, ...rest] = argv;
  const load = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    full.err.write(`error INVALID_INPUT: this entry runs only ${SEARCH_ENTRY_COMMANDS.join(' and ')}, not "${name ?? ''}" (run bin/mailkeep.js)\n`);
    return EXIT.usage;
  }
  return await runCommand(name!, await load(), rest, full, controller);
}
