import { describe, expect, it } from 'vitest';
import { matchServerText, SERVER_TEXTS, serverTextIn, splitReply, technicalText, type MailServer } from '@/lib/status/server-text-words';
import { ERROR_HINTS } from '@/lib/status/error-hints';

const SERVERS: MailServer[] = ['Dovecot', 'Cyrus', 'Courier', 'Gmail', 'Outlook'];

describe('server replies in the product’s words', () => {
  for (const entry of SERVER_TEXTS)
    for (const { server, reply } of entry.seen)
      it(`words ${server}'s "${reply}" as ${entry.id}, alone and inside a relay message`, () => {
        expect(matchServerText(splitReply(reply))?.id).toBe(entry.id);
        expect(serverTextIn(`cannot log in to mail.example.org:993: ${reply} (NoConnection)`)?.id).toBe(entry.id);
      });

  it('has real replies from each of Dovecot, Cyrus, Courier, Gmail and Outlook', () => {
    for (const server of SERVERS) expect(SERVER_TEXTS.filter((e) => e.seen.some((s) => s.server === server)).length, server).toBeGreaterThanOrEqual(3);
  });

  it('knows over quota, mailbox full, failed sign-in, throttling, too many connections, missing folder, permission, unavailable, try again later and too large', () => {
    const id = (reply: string) => matchServerText(splitReply(reply))?.id;
    expect(id('Quota exceeded')).toBe('over_quota');
    expect(id('Mailbox full')).toBe('over_quota');
    expect(id('Authentication failed.')).toBe('authentication_failed');
    expect(id('Request is throttled.')).toBe('throttled');
    expect(id('Too many connections')).toBe('too_many_connections');
    expect(id('Mailbox does not exist')).toBe('folder_missing');
    expect(id('Permission denied')).toBe('permission_denied');
    expect(id('Service unavailable')).toBe('server_unavailable');
    expect(id('Please try again later')).toBe('server_unavailable');
    expect(id('Message too large')).toBe('message_too_large');
  });

  it('goes by the response code first: [UNAVAILABLE] with the word "authentication" is an outage, not a wrong password', () => {
    expect(matchServerText(splitReply('[UNAVAILABLE] Temporary authentication failure.'))?.errorCode).toBe('SERVER_BUSY');
    expect(matchServerText({ responseCode: 'NONEXISTENT', text: 'whatever the server says' })?.id).toBe('folder_missing');
    expect(matchServerText({ responseCode: 'OVERQUOTA', text: '' })?.id).toBe('over_quota');
  });

  it('lets a specific text win over a code the provider misuses: Gmail’s [OVERQUOTA] bandwidth limit is no full mailbox', () => {
    const e = matchServerText(splitReply('[OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)'));
    expect(e?.id).toBe('download_limit');
    expect(e?.errorCode).toBe('PROVIDER_LIMIT_PAUSED');
  });

  it('takes the code out of the text and ignores [ALERT], which names no cause', () => {
    expect(splitReply('[ALERT] You exceeded your mail quota.')).toEqual({ responseCode: null, text: 'You exceeded your mail quota.' });
    expect(splitReply('[OVERQUOTA] Quota exceeded (mailbox for user is full)')).toEqual({ responseCode: 'OVERQUOTA', text: 'Quota exceeded (mailbox for user is full)' });
    expect(splitReply('Quota exceeded', 'overquota').responseCode).toBe('OVERQUOTA');
  });

  it('does not know a text it has never seen: no words, so the page says a neutral sentence', () => {
    expect(matchServerText(splitReply('Zorglub frobnicated the widget'))).toBeNull();
    expect(serverTextIn('Zorglub frobnicated the widget (0.001 + 0.000 secs).')).toBeNull();
    expect(serverTextIn(null)).toBeNull();
  });

  it('words every entry as what happened, in a sentence, without the server’s own text, codes or advice', () => {
    for (const e of SERVER_TEXTS) {
      expect(e.words, e.id).toMatch(/^[A-Z].*\.$/);
      expect(e.words, e.id).not.toMatch(/\[[A-Z]+\]|secs|Failure\)|Click|"Edit"/);
      for (const { reply } of e.seen) expect(e.words).not.toContain(splitReply(reply).text);
      expect(ERROR_HINTS[e.errorCode], e.id).toBeTruthy();
    }
  });
});

describe('technical details: the raw reply, never a secret', () => {
  it('keeps an ordinary reply as it is, on one line', () => {
    expect(technicalText('[OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n (0.001 + 0.000 secs).')).toBe(
      '[OVERQUOTA] Quota exceeded (mailbox for user is full) (0.001 + 0.000 secs).',
    );
    expect(technicalText('[ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)')).toContain('https://support.google.com/accounts/answer/185833');
  });

  it('hides what looks like a password, a token or a bearer credential a server echoed', () => {
    const secrets = ['hunter2-Secret', 'ya29.a0AfH6SMBx3kLq9ZtW0pYc8Rn2VdE1uJ7oGh4', 'dXNlcgBwYXNzd29yZDEyMzQ1Njc4OTBhYmNkZWY='];
    const raw = `LOGIN rejected password=${secrets[0]} token: ${secrets[1]} Bearer ${secrets[1]} AUTHENTICATE PLAIN ${secrets[2]}`;
    const shown = technicalText(raw);
    for (const s of secrets) expect(shown).not.toContain(s);
    expect(shown).toContain('[hidden]');
  });

  it('caps the line so a chatty server cannot fill the page', () => {
    expect(technicalText('x '.repeat(1000)).length).toBeLessThanOrEqual(300);
  });
});
