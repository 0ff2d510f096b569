import { DOOR_LIMITS } from '../../lib/limits.ts';
import { errorCodeOf } from '../../lib/protocol/error-codes.ts';
import type { ImapAccount } from '../../lib/protocol/common.ts';
import type { ResultOf } from '../../lib/protocol/relay-frames.ts';
import { closeSession, openSession } from '../imap/session.ts';
import type { OAuthLogin } from '../imap/oauth-login.ts';

/** `oauth`: an OAuth2 account's token source (then `password` is empty). */
export type TestConnection = (account: ImapAccount, password: string, oauth?: OAuthLogin) => Promise<ResultOf<'account.test'>>;

/**
 * A real login and logout, classified by the backup engine's classifier (relay/imap), so the
 * options page and a backup job name the same failure the same way.
 */
export const testImapConnection: TestConnection = async (account, password, oauth) => {
  try {
    const client = await openSession(
      { host: account.host, port: account.port, security: account.security, user: account.user, password, ...(oauth ? { oauth } : {}) },
      { signal: AbortSignal.timeout(DOOR_LIMITS.testConnectionTimeoutMs) },
    );
    const capabilities = [...(client.capabilities?.keys() ?? [])].map(String).slice(0, 256);
    await closeSession(client);
    return { ok: true, capabilities };
  } catch (err) {
    const code = errorCodeOf(err);
    return { ok: false, errorCode: code === 'CANCELLED' ? 'CONNECTION_TIMEOUT' : code, message: messageFor(err) };
  }
};

function messageFor(err: unknown): string {
  // Messages from relay/imap are secret-free (host, port, server text); cap them for the frame.
  return (err instanceof Error ? err.message : String(err)).slice(0, 1024);
}
