import { parsePort } from '../server/cli-args.ts';
import { runNativeHost } from '../service/native-host.ts';
import { currentServiceEnv, dataDirOf } from '../service/platform.ts';
import type { Io } from './commands.ts';

export const NATIVE_HOST_HELP = `Usage: mailkeep native-host [--data-dir DIR] [--port N] CALLER...

The native-messaging host, started by the browser (through the launcher "mailkeep install"
registers), never by hand: it speaks length-prefixed JSON on stdin/stdout. CALLER is what the
browser passes (chrome-extension://ID/ on Chromium; manifest path and add-on ID on Firefox).
N (default: the port install recorded, else 7412) is where a relay it starts listens; 0 picks a
free one. See docs/relay-protocol.md, "Native messaging".`;

/**
 * Thin entry: `--data-dir DIR` (written into the launcher by install) may come first; every other
 * argument is the browser's, so no option parser that would refuse them.
 */
export async function nativeHostCommand(argv: string[], io: Io): Promise<number> {
  let rest = argv;
  let dataDir: string | undefined;
  let port: number | undefined;
  for (;;) {
    if (rest[0] === '--data-dir' && rest[1] !== undefined) dataDir = rest[1];
    else if (rest[0] === '--port' && rest[1] !== undefined) port = parsePort(rest[1]);
    else break;
    rest = rest.slice(2);
  }
  // SIGTERM (the browser giving up on us) ends the host at once: it holds nothing to save.
  io.signal?.addEventListener('abort', () => process.stdin.destroy());
  return runNativeHost({
    dataDir: dataDir ?? dataDirOf(currentServiceEnv(io.env)),
    callerArgs: rest,
    input: process.stdin,
    output: process.stdout,
    ...(port === undefined ? {} : { port }),
  });
}
