import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@/lib/protocol/error-code-schema';
import { JOB_KINDS, statusInfo, statusesOf } from '@/lib/status/catalog';
import { adviceKeys, OUTAGE, rowAdvice, UNKNOWN_REPLY, type RowAdviceInput } from '@/lib/status/row-advice';
import { SERVER_TEXTS, splitReply } from '@/lib/status/server-text-words';

/** 1 Dec 2026, 20:00 UTC: 21:00 in Berlin. */
const NOW = Date.UTC(2026, 11, 1, 20, 0);
const CLOCK = { now: NOW, timeZone: 'Europe/Berlin' };
const base = (over: Partial<RowAdviceInput>): RowAdviceInput => ({
  kind: 'backup', status: 'connection_error', lastErrorCode: null, message: null, lastSuccessAt: null, nextRetryAt: null, conditionShown: true, ...over,
});

describe('a row says each piece of advice once, for the right cause', () => {
  it('never repeats a piece of advice across condition, hint and last error, for every status of every kind and every error code', () => {
    for (const kind of JOB_KINDS)
      for (const status of statusesOf(kind))
        for (const code of ErrorCode.options)
          for (const conditionShown of [true, false])
            for (const lastSuccessAt of [null, NOW - 86_400_000]) {
              const a = rowAdvice(base({ kind, status, lastErrorCode: code, conditionShown, lastSuccessAt, nextRetryAt: NOW + 2_400_000 }), CLOCK);
              const texts = [...(conditionShown ? [statusInfo(kind, status).condition] : []), a.hint, a.lastError ?? ''];
              const counts = new Map<string, number>();
              for (const t of texts) for (const k of adviceKeys(t)) counts.set(k, (counts.get(k) ?? 0) + 1);
              for (const [k, n] of counts) expect(n, `${kind}/${status}/${code} shown=${conditionShown}: "${k}" in ${JSON.stringify(texts)}`).toBe(1);
            }
  }, 60_000); // ~4,000 rows: room for a loaded machine, no claim about speed

  it('tells the Authentication Error’s "Edit" once: in the dashboard by the condition, in the popup by the hint, and names the cause as the last error', () => {
    const table = rowAdvice(base({ status: 'authentication_error', lastErrorCode: 'AUTH_FAILED' }), CLOCK);
    expect(table.hint).toBe('');
    expect(table.lastError).toBe('The mail server rejected the user name or password.');
    const popup = rowAdvice(base({ status: 'authentication_error', lastErrorCode: 'AUTH_FAILED', conditionShown: false }), CLOCK);
    expect(popup.hint).toContain('"Edit"');
    expect(popup.lastError).toBe('The mail server rejected the user name or password.');
  });

  it('no password stored with the relay is said as that, not as a rejected password or a matter for the email provider', () => {
    for (const kind of ['backup', 'restore', 'migrate'] as const)
      for (const conditionShown of [true, false]) {
        const a = rowAdvice(base({ kind, status: 'authentication_error', lastErrorCode: 'PASSWORD_NOT_STORED', conditionShown }), CLOCK);
        const said = `${a.hint} ${a.lastError ?? ''}`;
        expect(said, `${kind} shown=${conditionShown}`).toContain('no password for this account');
        expect(said).not.toMatch(/provider|rejected/i);
      }
  });

  it('the code of a refusal kept on a row that later runs or completes says nothing any more: its status speaks', () => {
    for (const status of ['preparing', 'running', 'completed'])
      expect(rowAdvice(base({ status, lastErrorCode: 'PASSWORD_NOT_STORED' }), CLOCK).hint, status).not.toContain('no password');
    expect(rowAdvice(base({ kind: 'restore', status: 'completed', lastErrorCode: 'JOB_KIND_UNSUPPORTED' }), CLOCK).hint).not.toContain('older than the extension');
  });

  it('a run the relay refused to start says its cause, never an automatic retry or "retries ran out" that will not happen', () => {
    const older = rowAdvice(base({ kind: 'restore', status: 'failed', lastErrorCode: 'JOB_KIND_UNSUPPORTED' }), CLOCK);
    expect(older.hint).toContain('older than the extension');
    expect(`${older.hint} ${older.lastError ?? ''}`).not.toMatch(/tries again by itself|within a few hours/);
    const gone = rowAdvice(base({ kind: 'migrate', status: 'cancelled', lastErrorCode: 'NOT_FOUND' }), CLOCK);
    expect(gone.hint).toContain('no longer exists');
    expect(gone.hint).not.toContain('Retries ran out');
  });

  it('a run last reported running while the relay does not answer has no "Nothing to do" nor a green bar to point at: it says nothing confirms the run and that a stopped relay picks it up again', () => {
    for (const kind of JOB_KINDS) {
      const running = rowAdvice(base({ kind, status: 'running', relayLive: false }), CLOCK);
      expect(running.hint, kind).toContain('nothing confirms this run goes on');
      expect(running.hint).not.toMatch(/Nothing to do|green bar/);
      expect(rowAdvice(base({ kind, status: 'running', relayLive: true }), CLOCK).hint).not.toContain('nothing confirms');
    }
  });

  it('a backup paused under a provider limit never says the server did not answer: the last error says why, for the popup and the dashboard', () => {
    for (const conditionShown of [true, false]) {
      const a = rowAdvice(base({ status: 'retrying', lastErrorCode: 'PROVIDER_LIMIT_PAUSED', conditionShown, lastSuccessAt: NOW - 3_600_000 }), CLOCK);
      expect(`${a.hint} ${a.lastError}`).not.toMatch(/did not answer/);
      expect(a.lastError).toContain('resumes by itself at the time shown');
    }
    expect(rowAdvice(base({ status: 'retrying', lastErrorCode: 'CONNECTION_TIMEOUT' }), CLOCK).hint).toContain('did not answer');
  });

  it('a paused row whose pause condition is shown says why and when once: no last error repeating it', () => {
    const shown = rowAdvice(base({ status: 'retrying', lastErrorCode: 'PROVIDER_LIMIT_PAUSED', conditionShown: false, pauseShown: true }), CLOCK);
    expect(shown.hint).toBe('');
    expect(shown.lastError).toBeNull();
    // Without the pause's own line (an older relay's outcome), the last error still says it.
    expect(rowAdvice(base({ status: 'retrying', lastErrorCode: 'PROVIDER_LIMIT_PAUSED', conditionShown: false }), CLOCK).lastError).toContain('resumes by itself');
  });

  it('calls a refused or silent address that answered before an outage, never a wrong host or port', () => {
    for (const code of ['CONNECTION_REFUSED', 'HOST_NOT_FOUND', 'CONNECTION_TIMEOUT'] as const) {
      const a = rowAdvice(base({ lastErrorCode: code, lastSuccessAt: NOW - 3_600_000 }), CLOCK);
      expect(a.lastError).toBe(OUTAGE);
      expect(`${a.hint} ${a.lastError}`).not.toMatch(/"Edit"|host and port/);
    }
    // Never worked: the address may well be wrong.
    expect(rowAdvice(base({ lastErrorCode: 'CONNECTION_REFUSED' }), CLOCK).lastError).toMatch(/host and port/);
  });

  it('names the relay’s next try in the zone given instead of "within a few hours"', () => {
    const soon = rowAdvice(base({ lastErrorCode: 'CONNECTION_LOST', nextRetryAt: Date.UTC(2026, 11, 1, 20, 40) }), CLOCK);
    expect(soon.hint).toContain('Mailkeep tries again by itself at 21:40.');
    expect(soon.hint).not.toContain('within a few hours');
    const tomorrow = rowAdvice(base({ lastErrorCode: 'CONNECTION_LOST', nextRetryAt: Date.UTC(2026, 11, 2, 8, 10) }), CLOCK);
    expect(tomorrow.hint).toContain('Mailkeep tries again by itself on 2 Dec at 09:10.');
    const inTokyo = rowAdvice(base({ lastErrorCode: 'CONNECTION_LOST', nextRetryAt: Date.UTC(2026, 11, 1, 20, 40) }), { now: NOW, timeZone: 'Asia/Tokyo' });
    expect(inTokyo.hint).toContain('at 05:40.');
    // 23:30 in Berlin, the try 40 minutes later: after midnight, so its day is named.
    const late = rowAdvice(base({ lastErrorCode: 'CONNECTION_LOST', nextRetryAt: Date.UTC(2026, 11, 1, 23, 10) }), { now: Date.UTC(2026, 11, 1, 22, 30), timeZone: 'Europe/Berlin' });
    expect(late.hint).toContain('on 2 Dec at 00:10.');
    // Unknown to the relay: the promise stays as the specification words it.
    expect(rowAdvice(base({ lastErrorCode: 'CONNECTION_LOST' }), CLOCK).hint).toContain('within a few hours');
  });
});

describe('a server’s raw reply never is the message', () => {
  for (const entry of SERVER_TEXTS)
    for (const { server, reply } of entry.seen)
      it(`${server}'s "${reply}" is worded, and kept only in the technical details`, () => {
        const message = `cannot log in to mail.example.org:993: ${reply}`;
        const a = rowAdvice(base({ kind: 'restore', status: 'failed', lastErrorCode: 'UNKNOWN', message }), CLOCK);
        const raw = splitReply(reply).text;
        expect(a.hint).not.toContain(raw);
        expect(a.lastError ?? '').not.toContain(raw);
        expect(a.lastError).toBe(entry.words);
        expect(a.technical).toContain(raw.slice(0, 20));
      });

  it('says a neutral sentence for a reply it does not know, and keeps the reply in the details', () => {
    const a = rowAdvice(base({ kind: 'migrate', status: 'failed', lastErrorCode: 'UNKNOWN', message: 'cannot select Foo: Zorglub frobnicated (0.001 + 0.000 secs).' }), CLOCK);
    expect(a.lastError).toBe(UNKNOWN_REPLY);
    expect(a.technical).toContain('Zorglub frobnicated');
  });

  it('translates the issue’s Dovecot quota reply on a Partially Complete restore', () => {
    const message = '3 restored, 5 not restored (Quota exceeded (mailbox for user is full) (0.001 + 0.000 secs).)';
    const a = rowAdvice(base({ kind: 'restore', status: 'partially_complete', lastErrorCode: 'QUOTA_EXCEEDED', message }), CLOCK);
    expect(a.lastError).toBe('The mail server’s storage for this account is full.');
    expect(`${a.hint} ${a.lastError}`).not.toContain('secs');
  });

  it('words a local failure by its own code, not by server words its message happens to contain', () => {
    const message = "EACCES: permission denied, open '/home/ada/mail-archive/index.sqlite'";
    const a = rowAdvice(base({ status: 'connection_error', lastErrorCode: 'ARCHIVE_NOT_WRITABLE', message }), CLOCK);
    expect(a.lastError).toMatch(/^The archive folder cannot be written/);
    expect(a.technical).toContain('EACCES');
  });

  it('never echoes a secret-looking token the server sent back', () => {
    const token = 'ya29.a0AfH6SMBx3kLq9ZtW0pYc8Rn2VdE1uJ7oGh4';
    const a = rowAdvice(base({ kind: 'restore', status: 'failed', lastErrorCode: 'UNKNOWN', message: `AUTHENTICATE XOAUTH2 rejected: token=${token}` }), CLOCK);
    expect(JSON.stringify(a)).not.toContain(token);
  });
});
