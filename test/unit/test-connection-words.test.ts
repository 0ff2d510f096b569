import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@/lib/protocol/error-code-schema';
import { testConnectionText } from '@/lib/status/test-connection-words';

const TLS = { security: 'tls' as const };
const refused = { reached: true, secure: true, signedIn: false, folders: null };

describe('Test connection in words', () => {
  it('never leads with a code, never sends the user to "Edit" from the edit form, for every error code', () => {
    for (const code of ErrorCode.options)
      for (const checks of [undefined, refused, { reached: false, secure: false, signedIn: false, folders: null }]) {
        const { ok, text: lead, checked } = testConnectionText({ ok: false, errorCode: code, message: 'x', checks }, TLS);
        const text = `${lead} ${checked ?? ''}`;
        expect(ok).toBe(false);
        expect(text, code).not.toMatch(/^[A-Z_]{4,}:/);
        expect(text, code).not.toContain(code.includes('_') ? code : `${code}:`);
        expect(text, code).not.toMatch(/"Edit"|Click .Edit/);
        expect(text, code).toMatch(/^[A-Z]/);
      }
  });

  it('a refused password: the failed step, the server’s reason, one advice for this form, then what was checked', () => {
    const { text, checked } = testConnectionText({ ok: false, errorCode: 'AUTH_FAILED', message: 'cannot log in to 127.0.0.1:993: [AUTHENTICATIONFAILED] Authentication failed.', checks: refused }, TLS);
    expect(text).toBe('Could not sign in. The mail server refused the user name or password. Check the user name and password above, then test again.');
    expect(checked).toBe('Checked: Reached the server: yes. Secure connection (TLS): yes. Signed in: no. Folders listed: not tried.');
  });

  it('nothing at the address: says so first and tried nothing else', () => {
    const { text, checked } = testConnectionText({ ok: false, errorCode: 'CONNECTION_REFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1', checks: { reached: false, secure: false, signedIn: false, folders: null } }, TLS);
    expect(text).toBe('Could not reach the server. Nothing answered at this server and port: check both above.');
    expect(checked).toBe('Checked: Reached the server: no. Secure connection (TLS): not tried. Signed in: not tried. Folders listed: not tried.');
  });

  it('a failed TLS handshake is the secure-connection step', () => {
    const { text } = testConnectionText({ ok: false, errorCode: 'TLS_FAILED', message: 'wrong version number', checks: { reached: true, secure: false, signedIn: false, folders: null } }, { security: 'starttls' });
    expect(text).toMatch(/^Could not set up a secure connection \(STARTTLS\)\. Check the security setting/);
  });

  it('a provider’s refusal: its own words and its app-password advice, no code', () => {
    const advice = 'Gmail refused the password. Create an app password at https://myaccount.google.com/apppasswords';
    const { text } = testConnectionText(
      { ok: false, errorCode: 'AUTH_FAILED', message: '[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)', checks: refused, advice },
      TLS,
    );
    expect(text).toContain('it wants an app password');
    expect(text).toContain(advice);
    expect(text).not.toContain('(Failure)');
  });

  it('a provider’s connection cap at sign-in: not a wrong password, and no promise of a resume the test cannot keep', () => {
    const { text } = testConnectionText(
      { ok: false, errorCode: 'PROVIDER_LIMIT_PAUSED', message: 'imap.gmail.com:993 limits this account: Too many simultaneous connections. (Failure)', checks: refused },
      TLS,
    );
    expect(text).toMatch(/^The server did not let the account sign in now\. Too many programs are connected to this mailbox at once/);
    expect(text).toContain('nothing is wrong with the settings above; test again later.');
    expect(text).not.toMatch(/Could not sign in|password|resumes|at the time shown/);
  });

  it('success says what was checked, folders included', () => {
    expect(testConnectionText({ ok: true, checks: { reached: true, secure: true, signedIn: true, folders: 7 } }, TLS).text).toBe(
      'Connected: reached the server, secure connection (TLS), the server accepted the user name and password, 7 folders listed.',
    );
    expect(testConnectionText({ ok: true, checks: { reached: true, secure: false, signedIn: true, folders: 1 } }, { security: 'none', oauth: true }).text).toBe(
      'Connected: reached the server, not encrypted (security is set to None), the server accepted the sign-in, 1 folder listed.',
    );
  });
});
