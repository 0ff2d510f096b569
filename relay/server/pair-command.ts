import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { defaultDataDir, parseFlags, reportCommandError } from './cli-args.ts';
import { runningRelay } from '../lock/lock-file.ts';
import { createPairingCode } from './pairing.ts';

/**
 * `mailkeep pair [--data-dir DIR]`: prints a fresh one-time code. It replaces the pending code
 * file in the data dir, which the running relay reads on every POST /pair, so no admin socket
 * is needed: being able to write the data dir is the authority.
 */
export async function runPairCommand(argv: readonly string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  try {
    const flags = parseFlags(argv, ['data-dir']);
    const dataDir = flags.get('data-dir') ?? defaultDataDir();
    const relay = runningRelay(dataDir);
    // A code written with no relay running would never be accepted: the relay prints a fresh one
    // when it starts. Say so instead of printing a code that cannot work.
    if (!relay) {
      throw mailkeepError(
        'RELAY_UNREACHABLE',
        `no relay is running for ${dataDir}; start it with \`mailkeep relay --data-dir ${dataDir}\` (it prints its own code)`,
      );
    }
    const code = createPairingCode(dataDir);
    out(`Pairing code: ${code}  (valid ${DOOR_LIMITS.pairingCodeTtlMs / 60_000} minutes, once)`);
    out(`The running relay (pid ${relay.pid}${relay.port ? `, port ${relay.port}` : ''}) accepts it now.`);
    return 0;
  } catch (err) {
    return reportCommandError('pair', err);
  }
}
