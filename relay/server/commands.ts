import { runPairCommand } from './pair-command.ts';
import { runRelayCommand } from './relay-command.ts';

export const RELAY_HELP = `Usage: mailkeep relay [--port N] [--data-dir DIR]

Runs the relay: the extension's local companion on 127.0.0.1 (default port 7412). It holds the
IMAP passwords (encrypted in DIR) and runs the backups. It prints a one-time pairing code to type
into the extension's options page. One relay per data dir; SIGTERM or Ctrl-C stops it cleanly.
DIR defaults to $MAILKEEP_DATA_DIR, else ~/.mailkeep.

Exit codes: 0 stopped cleanly, 1 could not start (another relay on DIR, port in use, bad DIR).`;

export const PAIR_HELP = `Usage: mailkeep pair [--data-dir DIR]

Prints a fresh one-time pairing code (valid 10 minutes) that the relay running on DIR accepts,
e.g. when the code it printed at start has expired or was used. Pairing again replaces the
previously paired extension.`;

/**
 * The server's subcommands for the \`mailkeep\` CLI: relay/cli/main.ts hands \`relay\` and \`pair\`
 * here. Returns undefined for any other subcommand so the CLI keeps its own dispatch.
 */
export function runServerCommand(argv: readonly string[]): Promise<number> | undefined {
  const [command, ...rest] = argv;
  if (command !== 'relay' && command !== 'pair') return undefined;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command === 'relay' ? RELAY_HELP : PAIR_HELP}\n`);
    return Promise.resolve(0);
  }
  return command === 'relay' ? runRelayCommand(rest) : runPairCommand(rest);
}
