/**
 * Issue 14, "every provider limit signal is recognised wherever it appears": each signal Gmail and
 * Microsoft 365 send, on each command a job uses, as the real imapflow error (or untagged line) the
 * fake server makes it produce. Each one is PROVIDER_LIMIT_PAUSED with its kind and the server's
 * wait, never Authentication Error or Connection Error, and the session sends nothing after it.
 */
import { ImapFlow } from 'imapflow';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyImapError, classifyAppendRefusal } from '../../relay/imap/classify-error.ts';
import { limitOfResponse, providerLimitOf, sessionLimit, type ProviderLimitKind } from '../../relay/imap/provider-limits.ts';
import { openSession } from '../../relay/imap/session.ts';
import { sessionErrorCode } from '../../relay/imap/session-error-code.ts';
import { MailkeepError } from '../../lib/protocol/error-codes.ts';
import { SERVER_TEXTS } from '../../lib/status/server-text-words.ts';
import { generatedMessages } from '../support/corpus.ts';
import { GMAIL_OVERQUOTA, OUTLOOK_THROTTLED, startFakeImap, type FakeImap, type ProviderLimitFaults } from '../support/fake-imap.ts';

const raws = generatedMessages(3, 14);
let fake: FakeImap | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

type Answer = NonNullable<ProviderLimitFaults['refuse']>[string];
interface Signal {
  name: string;
  answer: Answer;
  kind: ProviderLimitKind;
  waitMs?: number;
  /** Commands where this answer means something else (a [LIMIT] on APPEND is the message's size, on STORE its flags: RFC 5530). */
  not?: string[];
}

const SIGNALS: Signal[] = [
  { name: 'Gmail [OVERQUOTA] bandwidth (tagged NO)', answer: { status: GMAIL_OVERQUOTA }, kind: 'bandwidth' },
  { name: 'Gmail NO [ALERT] Account exceeded command or bandwidth limits', answer: { status: 'NO [ALERT] Account exceeded command or bandwidth limits. (Failure)' }, kind: 'bandwidth' },
  { name: 'Gmail [THROTTLED]', answer: { status: 'NO [THROTTLED] Request throttled. (Failure)' }, kind: 'throttled' },
  { name: 'untagged * NO [ALERT] Too many simultaneous connections before a plain NO', answer: { untagged: ['* NO [ALERT] Too many simultaneous connections. (Failure)'], status: 'NO Command failed' }, kind: 'connections' },
  { name: '* BYE [ALERT] Too many simultaneous connections', answer: { bye: '* BYE [ALERT] Too many simultaneous connections. (Failure)' }, kind: 'connections' },
  { name: 'Microsoft Suggested Backoff Time, then BYE', answer: { status: OUTLOOK_THROTTLED(299961), bye: '* BYE Connection is closed. 14' }, kind: 'throttled', waitMs: 299961 },
  { name: '* BYE Session expired', answer: { bye: '* BYE Session expired, please login again.' }, kind: 'session-expired' },
  { name: '* BYE System Error', answer: { bye: '* BYE System Error' }, kind: 'session-expired' },
  { name: 'RFC 5530 [LIMIT]', answer: { status: 'NO [LIMIT] Too many commands in this session' }, kind: 'throttled', not: ['APPEND', 'STORE'] },
  { name: 'RFC 5530 [UNAVAILABLE] naming a connection limit', answer: { status: 'NO [UNAVAILABLE] Too many concurrent connections' }, kind: 'connections' },
];

/** What each command kind a job sends looks like from the caller's side (after a good login). */
const COMMANDS: { name: string; run: (c: ImapFlow) => Promise<unknown> }[] = [
  { name: 'EXAMINE', run: (c) => c.mailboxOpen('INBOX', { readOnly: true }) },
  { name: 'SELECT', run: (c) => c.mailboxOpen('INBOX') },
  {
    name: 'HEADERFETCH',
    run: async (c) => {
      await c.mailboxOpen('INBOX', { readOnly: true });
      for await (const _ of c.fetch('1:*', { uid: true, headers: ['message-id'] }, { uid: true })) void _;
    },
  },
  {
    name: 'BODYFETCH',
    run: async (c) => {
      await c.mailboxOpen('INBOX', { readOnly: true });
      for await (const _ of c.fetch('1:*', { uid: true, source: true }, { uid: true })) void _;
    },
  },
  { name: 'APPEND', run: (c) => c.append('INBOX', raws[0]!) },
  {
    name: 'STORE',
    run: async (c) => {
      await c.mailboxOpen('INBOX');
      await c.messageFlagsAdd('1', ['\\Flagged'], { uid: true });
    },
  },
];

const account = (port: number) => ({ host: '127.0.0.1', port, security: 'none' as const, user: 'u', password: 'pw' });
const timeouts = { connectMs: 3000, greetingMs: 3000, socketMs: 8000 };

async function serve(refuse: ProviderLimitFaults['refuse']): Promise<FakeImap> {
  fake = await startFakeImap({ folders: { INBOX: raws.map((raw, i) => ({ uid: i + 1, raw })) }, faults: { providerLimits: { refuse } }, password: 'pw' });
  return fake;
}

/** The commands the fake received from the refused one on (the refused one included). */
function sentFrom(f: FakeImap, name: string): string[] {
  const verb = name === 'HEADERFETCH' || name === 'BODYFETCH' ? 'UID FETCH' : name === 'STORE' ? 'UID STORE' : name;
  const at = f.commands.findIndex((l) => l.split(' ').slice(1).join(' ').toUpperCase().startsWith(verb));
  return at < 0 ? [] : f.commands.slice(at);
}

describe('every provider limit signal on every command is PROVIDER_LIMIT_PAUSED and stops the session', () => {
  for (const s of SIGNALS) {
    it(`${s.name} on LOGIN: a limit with the server's wait, never Authentication Error or Connection Error`, async () => {
      const f = await serve({ LOGIN: s.answer });
      const err = await openSession(account(f.port), { timeouts }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MailkeepError);
      expect((err as MailkeepError).code).toBe('PROVIDER_LIMIT_PAUSED');
      const limit = providerLimitOf(err);
      expect(limit?.kind).toBe(s.kind);
      expect(limit?.waitMs).toBe(s.waitMs);
      expect(sentFrom(f, 'LOGIN')).toHaveLength(1);
    });
    for (const cmd of COMMANDS) {
      if (s.not?.includes(cmd.name)) continue;
      it(`${s.name} on ${cmd.name}: the session stops at once and the error says it is a limit`, async () => {
        const f = await serve({ [cmd.name]: s.answer });
        const client = await openSession(account(f.port), { timeouts });
        try {
          const err = await cmd.run(client).then(
            () => null,
            (e: unknown) => e,
          );
          // (imapflow's STORE answers false instead of throwing: the session's tap saw the refusal.)
          if (cmd.name !== 'STORE') expect(err, 'the command failed').not.toBeNull();
          expect(sessionErrorCode(err, client)).toBe('PROVIDER_LIMIT_PAUSED');
          const limit = sessionLimit(client) ?? providerLimitOf(err);
          expect(limit?.kind).toBe(s.kind);
          expect(limit?.waitMs).toBe(s.waitMs);
          // Nothing more goes out on that session: not imapflow's own retry of a throttled FETCH, not a LOGOUT.
          await new Promise((r) => setTimeout(r, 100));
          expect(client.usable).toBe(false);
          expect(sentFrom(f, cmd.name)).toHaveLength(1);
        } finally {
          client.close();
        }
      });
    }
  }
});

describe('the error objects imapflow itself makes for a tagged refusal are classified without the session', () => {
  // A plain ImapFlow (no tap): what a caller holding only the error sees. imapflow 2.10 leaves a
  // FETCH's code in err.response.attributes[0].section, a LOGIN's in serverResponseCode.
  const tagged = SIGNALS.filter((s) => s.answer.status && !s.answer.untagged && !s.answer.bye);
  for (const s of tagged) {
    for (const cmd of COMMANDS) {
      if (s.not?.includes(cmd.name) || cmd.name === 'STORE') continue;
      it(`${s.name} on ${cmd.name}: the bare imapflow error is PROVIDER_LIMIT_PAUSED (${s.kind})`, async () => {
        const f = await serve({ [cmd.name]: s.answer });
        const client = new ImapFlow({ host: '127.0.0.1', port: f.port, secure: false, auth: { user: 'u', pass: 'pw' }, logger: false });
        await client.connect();
        try {
          const err = await cmd.run(client).then(
            () => null,
            (e: unknown) => e,
          );
          expect(classifyImapError(err)).toBe('PROVIDER_LIMIT_PAUSED');
          expect(providerLimitOf(err)?.kind).toBe(s.kind);
          if (cmd.name === 'APPEND') expect(classifyAppendRefusal(err)).toBeNull();
        } finally {
          client.close();
        }
      });
    }
  }
});

describe('every reply the pages word as a limit is a limit the relay waits out', () => {
  // lib/status/server-text-words.ts words these replies as a download limit, a connection cap or
  // throttling: the relay must pause on each of them too, never retry one as SERVER_BUSY (or take it
  // for a wrong password) while the page says the provider limited the account.
  const LIMIT_ENTRIES = ['download_limit', 'too_many_connections', 'throttled'];
  const replies = SERVER_TEXTS.filter((e) => LIMIT_ENTRIES.includes(e.id)).flatMap((e) => e.seen.map((s) => `${s.server}: ${s.reply}`));
  // Phrasings the table's patterns know beyond the replies seen (other servers' words for the same limit).
  replies.push('other: Too many open connections', 'other: Too many logins', 'other: Too many sessions', 'other: Maximum number of IMAP connections exceeded', 'other: Rate limit exceeded, slow down');

  it('the table has such replies to check', () => expect(replies.length).toBeGreaterThanOrEqual(LIMIT_ENTRIES.length * 2));

  for (const r of replies) {
    const reply = r.slice(r.indexOf(': ') + 2);
    it(`a login refused with "${reply}" (${r.slice(0, r.indexOf(':'))}) is PROVIDER_LIMIT_PAUSED`, async () => {
      fake = await startFakeImap({ folders: { INBOX: [] }, faults: { loginReply: `NO ${reply}` }, password: 'pw' });
      const err = await openSession(account(fake.port), { timeouts }).then(
        (c) => (c.close(), null),
        (e: unknown) => e,
      );
      expect((err as MailkeepError | null)?.code).toBe('PROVIDER_LIMIT_PAUSED');
    });
  }
});

describe('what is not a limit stays what it was', () => {
  it('a wrong password is still Authentication Error', async () => {
    const f = await serve({});
    const err = await openSession({ ...account(f.port), password: 'wrong' }, { timeouts }).catch((e: unknown) => e);
    expect((err as MailkeepError).code).toBe('AUTH_FAILED');
  });

  it('[OVERQUOTA] on APPEND without bandwidth words is a full mailbox (QUOTA_EXCEEDED); with them it is the upload limit', async () => {
    const f = await serve({ APPEND: { status: 'NO [OVERQUOTA] Quota exceeded (mailbox for user is full)' } });
    const client = await openSession(account(f.port), { timeouts });
    try {
      const err = await client.append('INBOX', raws[0]!).catch((e: unknown) => e);
      expect(classifyAppendRefusal(err)).toBe('QUOTA_EXCEEDED');
      expect(sessionErrorCode(err, client)).not.toBe('PROVIDER_LIMIT_PAUSED');
    } finally {
      client.close();
    }
    expect(limitOfResponse('NO', 'OVERQUOTA', 'Account exceeded command or bandwidth limits.', 'APPEND "INBOX" {12}')?.kind).toBe('bandwidth');
  });

  it('[UNAVAILABLE] for a subsystem that is down stays SERVER_BUSY (a connection-class retry), and an OK [ALERT] is no limit', () => {
    expect(classifyImapError({ authenticationFailed: true, serverResponseCode: 'UNAVAILABLE', responseText: 'Temporary authentication failure.' })).toBe('SERVER_BUSY');
    expect(limitOfResponse('OK', 'ALERT', 'Too many simultaneous connections')).toBeNull();
    expect(limitOfResponse('BYE', null, 'Logging out')).toBeNull();
  });
});

describe('the connection cap per account', () => {
  it('a session beyond the cap waits for one to close, then opens; at the cap past the login deadline it is a connections limit, not Connection Error', async () => {
    const f = await serve({});
    const capped = { ...account(f.port), maxConnections: 1 };
    const first = await openSession(capped, { timeouts });
    let secondOpen = false;
    const second = openSession(capped, { timeouts }).then((c) => ((secondOpen = true), c));
    await new Promise((r) => setTimeout(r, 200));
    expect(secondOpen).toBe(false);
    expect(f.commands.filter((c) => / LOGIN /.test(c))).toHaveLength(1);
    first.close();
    const c2 = await second;
    expect(f.commands.filter((c) => / LOGIN /.test(c))).toHaveLength(2);
    const third = await openSession(capped, { timeouts: { connectMs: 100, greetingMs: 100, socketMs: 1000 } }).catch((e: unknown) => e);
    expect((third as MailkeepError).code).toBe('PROVIDER_LIMIT_PAUSED');
    expect(providerLimitOf(third)?.kind).toBe('connections');
    expect(f.commands.filter((c) => / LOGIN /.test(c))).toHaveLength(2);
    c2.close();
  });
});
