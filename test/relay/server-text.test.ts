/**
 * The mail server's own words classify a refused login or command the way they mean, and reach
 * the job's message (technical detail) with their response code: providers' replies a real
 * Dovecot cannot be made to give come from the fake server (test/support/fake-imap.ts); Dovecot's
 * own from a real one. The pages word the message with lib/status/server-text-words.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailkeepError } from '../../lib/protocol/error-codes.ts';
import { serverTextIn } from '../../lib/status/server-text-words.ts';
import { openSession } from '../../relay/imap/session.ts';
import { startFakeImap } from '../support/fake-imap.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';

async function loginError(port: number, password = 'pw'): Promise<MailkeepError> {
  try {
    const c = await openSession({ host: '127.0.0.1', port, security: 'none', user: 'alice', password });
    c.close();
  } catch (err) {
    if (err instanceof MailkeepError) return err;
    throw err;
  }
  throw new Error('the login was accepted');
}

// A connection cap is a limit the relay waits out (issue 14, relay/imap/provider-limits.ts), not a failure.
const PROVIDER_LOGIN_REFUSALS = [
  { server: 'Gmail', reply: 'NO [ALERT] Too many simultaneous connections. (Failure)', code: 'PROVIDER_LIMIT_PAUSED', words: 'too_many_connections' },
  { server: 'Gmail', reply: 'NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)', code: 'AUTH_FAILED', words: 'app_password_required' },
  { server: 'Gmail', reply: 'NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)', code: 'AUTH_FAILED', words: 'authentication_failed' },
  { server: 'Dovecot', reply: 'NO [UNAVAILABLE] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)', code: 'PROVIDER_LIMIT_PAUSED', words: 'too_many_connections' },
  { server: 'Dovecot', reply: 'NO [UNAVAILABLE] Temporary authentication failure. [mail:2026-12-01 21:40:00]', code: 'SERVER_BUSY', words: 'server_unavailable' },
  { server: 'Dovecot', reply: 'NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.', code: 'TLS_FAILED', words: 'secure_connection_required' },
  { server: 'Cyrus', reply: 'NO Login failed: authentication failure', code: 'AUTH_FAILED', words: 'authentication_failed' },
  { server: 'Outlook', reply: 'NO LOGIN failed.', code: 'AUTH_FAILED', words: 'authentication_failed' },
  // Microsoft's "Request is throttled" is not here: imapflow itself waits and retries it (ETHROTTLE),
  // which classify-error.ts maps; its words are in test/unit/server-text-words.test.ts.
] as const;

describe('a refused login is classified by what the server said', () => {
  for (const r of PROVIDER_LOGIN_REFUSALS)
    it(`${r.server}'s "${r.reply}" is ${r.code}, and its message keeps the reply for the technical details`, async () => {
      const fake = await startFakeImap({ folders: { INBOX: [] }, faults: { loginReply: r.reply } });
      try {
        const err = await loginError(fake.port);
        expect(err.code).toBe(r.code);
        expect(serverTextIn(err.message)?.id).toBe(r.words);
      } finally {
        await fake.close();
      }
    });
});

describe.runIf(dovecotAvailable())('a real Dovecot', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [{ name: 'alice', password: 'Right-pw-1' }] });
  }, 60_000);
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('refusing a wrong password is AUTH_FAILED, and the message carries [AUTHENTICATIONFAILED] but never the password', async () => {
    const err = await loginError(dovecot.port, 'Wrong-pw-2');
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toContain('[AUTHENTICATIONFAILED]');
    expect(err.message).not.toContain('Wrong-pw-2');
    expect(serverTextIn(err.message)?.id).toBe('authentication_failed');
  });
});
