import { MailkeepError } from '../../lib/protocol/error-codes.ts';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { ensurePrivateDir } from './atomic-file.ts';
import { defaultDataDir, parseFlags } from './cli-args.ts';
import { runningRelay } from './instance-lock.ts';
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
    ensurePrivateDir(dataDir);
    const code = createPairingCode(dataDir);
    out(`Pairing code: ${code}  (valid ${DOOR_LIMITS.pairingCodeTtlMs / 60_000} minutes, once)`);
    const relay = runningRelay(dataDir);
    out(
      relay
        ? `The running relay (pid ${relay.pid}${relay.port ? `, port ${relay.port}` : ''}) accepts it now.`
        : `No relay is running for ${dataDir}; start it with \`mailkeep relay --data-dir ${dataDir}\` (it prints its own code).`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`mailkeep pair: ${err instanceof MailkeepError ? err.message : String(err)}\n`);
    return 1;
  }
}
