import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../fs/atomic-file.ts';
import { secretsEqual } from '../server/pairing.ts';

/**
 * How `mailkeep account|schedule|status|backup` reach the running relay of their data dir: the
 * relay writes a fresh random token to `DATA_DIR/cli-token` (mode 0600) at every start, and accepts
 * it like the paired extension's token (POST /rpc, the WebSocket's hello). Whoever can read the data
 * dir can already read the credential key (the same trust boundary as `mailkeep pair`), so this adds
 * no new door; it saves the CLI from rewriting the credential file under a running relay.
 */
export const CLI_TOKEN_FILE = 'cli-token';

export class LocalToken {
  private constructor(private readonly digest: Buffer) {}

  static create(dataDir: string): LocalToken {
    const token = `mkcli_${randomBytes(32).toString('base64url')}`;
    writeFileAtomic(path.join(dataDir, CLI_TOKEN_FILE), token, 0o600);
    return new LocalToken(createHash('sha256').update(token, 'utf8').digest());
  }

  verify(token: string | undefined): boolean {
    return token !== undefined && secretsEqual(token, this.digest);
  }
}

/** The CLI's side: the running relay's token, or undefined. */
export function readLocalToken(dataDir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dataDir, CLI_TOKEN_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function removeLocalToken(dataDir: string): void {
  fs.rmSync(path.join(dataDir, CLI_TOKEN_FILE), { force: true });
}
