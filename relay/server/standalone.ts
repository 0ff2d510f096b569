// `node --import tsx relay/server/standalone.ts relay|pair ...`: the server's commands without the
// rest of the CLI, used by the relay tests so they do not depend on the CLI's other subcommands.
import { runServerCommand } from './commands.ts';

const run = runServerCommand(process.argv.slice(2));
if (!run) {
  process.stderr.write('usage: standalone.ts relay [--port N] [--data-dir DIR] | pair [--data-dir DIR]\n');
  process.exitCode = 2;
} else {
  process.exitCode = await run;
}
