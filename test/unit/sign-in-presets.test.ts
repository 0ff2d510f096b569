import { describe, expect, it } from 'vitest';
import { NO_PASSWORD_OUTLOOK, presetFor, refusalAdvice, signInChoiceFor } from '@/lib/options/presets';

describe('which sign-in the account form offers for an address', () => {
  it.each(['a@gmail.com', 'A@GoogleMail.com '])('offers Sign in with Google and an app password field for %s', (email) => {
    const choice = signInChoiceFor(email);
    expect(choice.oauth).toBe('google');
    expect(choice.passwordField).toBe(true);
    expect(choice.appPassword?.url).toBe('https://myaccount.google.com/apppasswords');
  });

  it.each(['a@outlook.com', 'a@hotmail.com', 'a@live.com', 'a@msn.com', ' A@Outlook.COM'])('offers only Sign in with Microsoft, never a password field, for %s', (email) => {
    const choice = signInChoiceFor(email);
    expect(choice).toEqual({ oauth: 'microsoft', passwordField: false, appPassword: null, noPasswordReason: NO_PASSWORD_OUTLOOK });
    expect(NO_PASSWORD_OUTLOOK).toContain('September 2024');
  });

  it('offers a custom domain the sign-in of the provider the user says hosts it', () => {
    expect(signInChoiceFor('ada@example.org')).toEqual({ oauth: null, passwordField: true, appPassword: null, noPasswordReason: null });
    expect(signInChoiceFor('ada@example.org', 'google').oauth).toBe('google');
    expect(signInChoiceFor('ada@example.org', 'google').passwordField).toBe(true);
    const ms = signInChoiceFor('ada@example.org', 'microsoft');
    expect(ms.oauth).toBe('microsoft');
    expect(ms.passwordField).toBe(false);
  });

  it('ignores the hosted-at choice for a domain whose provider is known', () => {
    expect(signInChoiceFor('a@yahoo.com', 'microsoft').oauth).toBeNull();
    expect(signInChoiceFor('a@outlook.com', 'google').oauth).toBe('microsoft');
  });

  it.each([
    ['a@yahoo.com', 'Yahoo', 'https://login.yahoo.com/account/security'],
    ['a@ymail.com', 'Yahoo', 'https://login.yahoo.com/account/security'],
    ['a@aol.com', 'AOL', 'https://login.aol.com/account/security'],
    ['a@icloud.com', 'iCloud', 'https://account.apple.com/account/manage'],
    ['a@me.com', 'iCloud', 'https://account.apple.com/account/manage'],
    ['a@fastmail.com', 'Fastmail', 'https://app.fastmail.com/settings/security/devicekeys'],
    ['a@gmx.net', 'GMX', 'https://www.gmx.net/mail/pop3-imap/'],
    ['a@gmx.de', 'GMX', 'https://www.gmx.net/mail/pop3-imap/'],
    ['a@web.de', 'WEB.DE', 'https://web.de/email/pop3-imap/'],
  ])('says next to the password field of %s that %s needs an app password or IMAP switched on, with its page', (email, provider, url) => {
    const choice = signInChoiceFor(email);
    expect(choice.oauth).toBeNull();
    expect(choice.passwordField).toBe(true);
    expect(choice.appPassword?.url).toBe(url);
    expect(choice.appPassword?.steps.length).toBeGreaterThan(0);
    expect(presetFor(email)?.provider).toBe(provider);
  });

  it('fills in the IMAP server of GMX, WEB.DE and AOL', () => {
    expect(presetFor('a@gmx.net')).toMatchObject({ host: 'imap.gmx.net', port: 993, security: 'tls' });
    expect(presetFor('a@web.de')).toMatchObject({ host: 'imap.web.de', port: 993, security: 'tls' });
    expect(presetFor('a@aol.com')).toMatchObject({ host: 'imap.aol.com', port: 993, security: 'tls' });
  });
});

describe('Test connection turns a provider’s refusal into the app password advice', () => {
  it.each([
    ['a@gmail.com', 'imap.gmail.com', '[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)', 'myaccount.google.com/apppasswords'],
    ['a@gmail.com', 'imap.gmail.com', '[AUTHENTICATIONFAILED] Invalid credentials (Failure)', 'myaccount.google.com/apppasswords'],
    ['a@gmail.com', 'imap.gmail.com', '[ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)', 'myaccount.google.com/apppasswords'],
    ['a@gmail.com', 'imap.gmail.com', '[ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)', 'myaccount.google.com/apppasswords'],
    ['a@yahoo.com', 'imap.mail.yahoo.com', '[AUTHENTICATIONFAILED] LOGIN Invalid credentials', 'login.yahoo.com/account/security'],
    ['a@aol.com', 'imap.aol.com', '[AUTHENTICATIONFAILED] LOGIN Invalid credentials', 'login.aol.com/account/security'],
    ['a@icloud.com', 'imap.mail.me.com', 'AUTHENTICATIONFAILED Authentication failed.', 'account.apple.com'],
    ['a@fastmail.com', 'imap.fastmail.com', '[AUTHENTICATIONFAILED] Authentication failed', 'app.fastmail.com'],
    ['a@gmx.net', 'imap.gmx.net', 'authentication failed', 'www.gmx.net/mail/pop3-imap'],
    ['a@web.de', 'imap.web.de', 'Login failed: IMAP access is disabled', 'web.de/email/pop3-imap'],
    // A custom domain at a known host: the host tells the provider.
    ['ada@example.org', 'imap.mail.me.com', 'AUTHENTICATIONFAILED Authentication failed.', 'account.apple.com'],
  ])('for %s at %s answering "%s"', (email, host, message, page) => {
    const advice = refusalAdvice(email, host, message);
    expect(advice).toContain(page);
    expect(advice).toMatch(/app|IMAP/);
  });

  it.each([
    ['a@gmail.com', 'imap.gmail.com', 'Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)'],
    ['a@yahoo.com', 'imap.mail.yahoo.com', 'LOGIN Invalid credentials'],
    ['a@yahoo.com', 'imap.mail.yahoo.com', 'AUTHENTICATE Invalid credentials'],
  ])('matches the text imapflow leaves once it took the [CODE] out, for %s: "%s"', (email, host, message) => {
    expect(refusalAdvice(email, host, message)).toContain('app');
  });

  it('a refusal the relay classified AUTH_FAILED gets the advice whatever its text; other codes only by their text', () => {
    expect(refusalAdvice('a@icloud.com', 'imap.mail.me.com', 'NO', 'AUTH_FAILED')).toContain('account.apple.com');
    expect(refusalAdvice('a@icloud.com', 'imap.mail.me.com', 'NO', 'CONNECTION_REFUSED')).toBeNull();
    expect(refusalAdvice('ada@example.org', 'imap.example.org', 'NO', 'AUTH_FAILED')).toBeNull();
  });

  it('tells an Outlook.com address that no password works, whatever the refusal', () => {
    expect(refusalAdvice('a@hotmail.com', 'outlook.office365.com', 'LOGIN failed.')).toBe(NO_PASSWORD_OUTLOOK);
    expect(refusalAdvice('a@outlook.com', 'outlook.office365.com', 'AUTHENTICATE failed.')).toBe(NO_PASSWORD_OUTLOOK);
  });

  it('gives no advice for an unknown server or a refusal that is not about the password', () => {
    expect(refusalAdvice('ada@example.org', 'imap.example.org', '[AUTHENTICATIONFAILED] Authentication failed.')).toBeNull();
    expect(refusalAdvice('a@gmail.com', 'imap.gmail.com', 'connect ECONNREFUSED 127.0.0.1:993')).toBeNull();
    expect(refusalAdvice('a@yahoo.com', 'imap.mail.yahoo.com', '[UNAVAILABLE] Server busy')).toBeNull();
  });
});

describe('a custom domain signed in with a provider set up on the relay', () => {
  it('offers Sign in with that provider id and no password field', async () => {
    const { signInLabel } = await import('@/lib/options/presets');
    expect(signInChoiceFor('ada@example.org', 'example-sso')).toEqual({ oauth: 'example-sso', passwordField: false, appPassword: null, noPasswordReason: null });
    expect(signInLabel('example-sso')).toBe('Sign in with example-sso');
    expect(signInLabel('google')).toBe('Sign in with Google');
    expect(signInLabel('microsoft')).toBe('Sign in with Microsoft');
  });
});
