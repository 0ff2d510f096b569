import { WebSocket } from 'ws';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { connectRelay, type RelayConnection, type WebSocketLike } from '../../lib/protocol/relay-client.ts';
import type { AccountEvent } from '../../lib/protocol/account-state.ts';
import type { JobEvent } from '../../lib/protocol/common.ts';
import { runningRelay } from '../lock/lock-file.ts';
import { readLocalToken } from '../state/local-token.ts';

export interface RelayLink {
  connection: RelayConnection;
  pid: number;
  port: number;
}

/**
 * The running relay of a data dir, reached as the extension reaches it (the WebSocket and its
 * typed client), with the local CLI token the relay wrote there (relay/state/local-token.ts).
 * Undefined when no relay runs on the dir; an error when one runs but does not answer.
 */
export async function connectLocalRelay(
  dataDir: string,
  handlers: { onEvent?: (e: JobEvent) => void; onAccountEvent?: (e: AccountEvent) => void } = {},
): Promise<RelayLink | undefined> {
  const relay = runningRelay(dataDir);
  if (!relay) return undefined;
  const token = readLocalToken(dataDir);
  if (relay.port === null || token === undefined) {
    // A relay starting up (no port yet), a backup run by the command line with no relay (it holds
    // relay.lock for its run), or a relay older than the CLI token: say so rather than race it.
    throw mailkeepError(
      'RELAY_UNREACHABLE',
      `another Mailkeep process (pid ${relay.pid}) is using ${dataDir}: a relay starting up, or a "mailkeep backup --account" running without the relay; try again when it is done`,
      { dataDirBusy: true },
    );
  }
  const connection = await connectRelay({
    url: `ws://127.0.0.1:${relay.port}/ws`,
    token,
    client: { name: 'mailkeep-cli', version: '0.1.0' },
    // The door checks Origin on the upgrade; the token is what authorises the CLI.
    openSocket: (url) => new WebSocket(url, { origin: EXTENSION_ORIGIN }) as unknown as WebSocketLike,
    ...handlers,
  });
  return { connection, pid: relay.pid, port: relay.port };
}
