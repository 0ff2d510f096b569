import { runPairCommand } from './pair-command.ts';
import { runRelayCommand } from './relay-command.ts';

/**
 * The server's subcommands for the `mailkeep` CLI: relay/cli/main.ts hands `relay` and `pair`
 * here. Returns undefined for any other subcommand so the CLI keeps its own dispatch.
 */
export function runServerCommand(argv: readonly string[]): Promise<number> | undefined {
  const [command, ...rest] = argv;
  if (command === 'relay') return runRelayCommand(rest);
  if (command === 'pair') return runPairCommand(rest);
  return undefined;
}
