import { DOOR_LIMITS } from '../../lib/limits.ts';
import { errorCodeOf, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import type { ImapAccount } from '../../lib/protocol/common.ts';
import type { ConnectionChecks, ResultOf } from '../../lib/protocol/relay-frames.ts';
import { closeSession, openSession } from '../imap/session.ts';
import type { OAuthLogin } from '../imap/oauth-login.ts';
import { classifyImapError, describeImapError, isTlsCode } from '../imap/classify-error.ts';

/** `oauth`: an OAuth2 account's token source (then `password` is empty). */
export type TestConnection = (account: ImapAccount, password: string, oauth?: OAuthLogin) => Promise<ResultOf<'account.test'>>;

/** The codes of a session that never got an answer from the address: nothing after it was tried. */
const NOT_REACHED = new Set<ErrorCode>(['CONNECTION_REFUSED', 'HOST_NOT_FOUND', 'CONNECTION_TIMEOUT']);

/**
 * A real login, a LIST and a logout, classified by the backup engine's classifier (relay/imap), so
 * the options page and a backup job name the same failure the same way. `checks` says how far it
 * got: the address answered, the connection is encrypted, the login was accepted, the folders were
 * listed (lib/status/test-connection-words.ts words them).
 */
export const testImapConnection: TestConnection = async (account, password, oauth) => {
  const encrypted = account.security !== 'none';
  let client;
  try {
    client = await openSession(
      { host: account.host, port: account.port, security: account.security, user: account.user, password, ...(account.ca ? { ca: account.ca } : {}), ...(oauth ? { oauth } : {}) },
      { signal: AbortSignal.timeout(DOOR_LIMITS.testConnectionTimeoutMs) },
    );
  } catch (err) {
    const raw = errorCodeOf(err);
    const code = raw === 'CANCELLED' ? 'CONNECTION_TIMEOUT' : raw;
    const reached = !NOT_REACHED.has(code);
    const checks: ConnectionChecks = { reached, secure: reached && encrypted && !isTlsCode(code), signedIn: false, folders: null };
    return { ok: false, errorCode: code, message: messageFor(err), checks };
  }
  const capabilities = [...(client.capabilities?.keys() ?? [])].map(String).slice(0, 256);
  const secure = client.secureConnection === true || encrypted;
  try {
    const folders = (await client.list()).length;
    return { ok: true, capabilities, checks: { reached: true, secure, signedIn: true, folders } };
  } catch (err) {
    // Signed in, but the folders could not be listed: a backup would fail the same way.
    const code = classifyImapError(err);
    return { ok: false, errorCode: code === 'UNKNOWN' ? 'FOLDER_UNREADABLE' : code, message: `LIST: ${describeImapError(err)}`.slice(0, 1024), checks: { reached: true, secure, signedIn: true, folders: null } };
  } finally {
    await closeSession(client);
  }
};

function messageFor(err: unknown): string {
  // Messages from relay/imap are secret-free (host, port, server text); cap them for the frame.
  return (err instanceof Error ? err.message : String(err)).slice(0, 1024);
}
