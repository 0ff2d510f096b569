import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapAccount } from '../../relay/imap/session.ts';
import { runMigrate } from '../../relay/jobs/migrate/run-migrate.ts';
import type { MigrateOptions, MigrateResult } from '../../relay/jobs/migrate/migrate-types.ts';
import { generatedMessages, sharedCorpusMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { serverState } from '../support/mailbox-state.ts';
import { runCli, startCli } from '../support/run-cli.ts';

const pw = (user: string): string => `${user}-Secret-pw`;
const USERS = ['alice', 'bob', 'carol', 'dave', 'big', 'erin', 'frank'];
const FOLDERS = ['INBOX', 'Entwürfe', '日本語/フォルダ', 'Projekte/2024/Q1', 'Sp ace', 'Sent Messages'];

type Content = Map<string, string[]>;

/** folder -> sorted "hash flags date" lines: bytes, flags, keywords and INTERNALDATE, UIDs aside. */
async function contentOf(dc: Dovecot, user: string): Promise<Content> {
  const c = await dc.client(user, pw(user));
  try {
    const out: Content = new Map();
    for (const [folder, msgs] of await serverState(c)) if (msgs.length) out.set(folder, msgs.map((m) => `${m.hash} ${m.flags.join(',')} ${m.internalDate}`).sort());
    return out;
  } finally {
    await c.logout();
  }
}

const total = (c: Content): number => [...c.values()].reduce((n, l) => n + l.length, 0);

describe.skipIf(!dovecotAvailable())('migrate between two accounts of a real Dovecot', () => {
  let dc: Dovecot;
  let source: Content;
  const account = (user: string, password = pw(user)): ImapAccount => ({ host: '127.0.0.1', port: dc.port, security: 'none', user, password });
  const migrate = (from: string, to: string, extra: Partial<MigrateOptions> = {}, statuses?: string[]): Promise<MigrateResult> =>
    runMigrate({ source: account(from), destination: account(to), retry: { maxAttempts: 2, baseDelayMs: 50 }, ...extra }, { onStatus: (s) => statuses?.push(s) });

  async function seed(c: ImapFlow, count: number, prefix: string): Promise<void> {
    const msgs = generatedMessages(FOLDERS.length * count, 7, { prefix });
    let i = 0;
    for (const f of FOLDERS) {
      if (f !== 'INBOX') await c.mailboxCreate(f);
      for (let k = 0; k < count; k++)
        await c.append(f, msgs[i++]!, k % 4 === 0 ? ['\\Seen', '\\Flagged', '$Label1', 'Projekt_X'] : k % 4 === 1 ? ['\\Answered', '\\Draft'] : k % 4 === 2 ? ['\\Seen'] : [], new Date(Date.UTC(2004, 5, 6, 7, 8, 9 + k)));
    }
    // No Message-ID: recognised by size + INTERNALDATE + content hash.
    await c.append('Entwürfe', Buffer.from('From: a@example.org\r\nSubject: no id\r\n\r\nbody without a message id\r\n'), ['\\Seen'], new Date(Date.UTC(1999, 11, 31, 23, 59, 59)));
    const real = sharedCorpusMessages(20);
    if (real.length) {
      await c.mailboxCreate('Real');
      for (const m of real) await c.append('Real', m.raw, ['\\Seen'], new Date(Date.UTC(2010, 0, 2)));
    }
  }

  beforeAll(async () => {
    dc = await startDovecot({ users: [...USERS.map((name) => ({ name, password: pw(name) })), { name: 'quota', password: pw('quota'), quota: '1M' }] });
    const a = await dc.client('alice', pw('alice'));
    await seed(a, 4, 'mig');
    await a.logout();
    // The destination's own Sent folder (imapflow marks it \Sent by name, as it does "Sent Messages").
    const b = await dc.client('bob', pw('bob'));
    await b.mailboxCreate('Sent');
    await b.logout();
    source = await contentOf(dc, 'alice');
  }, 60_000);

  afterAll(async () => {
    await dc?.stop();
  });

  it('copies every folder with bytes, flags, keywords and INTERNALDATE, Sent Messages into the destination Sent', async () => {
    const statuses: string[] = [];
    const r = await migrate('alice', 'bob', {}, statuses);
    expect(r.status, r.message ?? '').toBe('completed');
    expect(r.migrated).toBe(total(source));
    expect(statuses).toEqual(['running', 'completed']);
    const sent = r.plan!.folders.find((f) => f.source === 'Sent Messages')!;
    expect(sent).toMatchObject({ destination: 'Sent', specialUse: '\\Sent', create: false });
    const dest = await contentOf(dc, 'bob');
    const expected = new Map([...source].map(([f, l]) => [f === 'Sent Messages' ? 'Sent' : f, l]));
    expect(new Map([...dest].sort())).toEqual(new Map([...expected].sort()));
    // The source was only read: nothing changed there (\Seen not set by the copy).
    expect(await contentOf(dc, 'alice')).toEqual(source);
  });

  it('a second migration adds nothing', async () => {
    const r = await migrate('alice', 'bob');
    expect(r.status).toBe('completed');
    expect(r.migrated).toBe(0);
    expect(r.alreadyPresent).toBe(total(source));
    expect(total(await contentOf(dc, 'bob'))).toBe(total(source));
  });

  it('a dry run shows the folder mapping and counts and changes nothing', async () => {
    const r = await migrate('alice', 'carol', { dryRun: true });
    expect(r.status).toBe('completed');
    expect(r.migrated).toBe(0);
    expect(r.plan!.toCopy).toBe(total(source));
    expect(r.plan!.foldersToCreate).toEqual(expect.arrayContaining(['Entwürfe', 'Projekte/2024/Q1', 'Sent Messages']));
    expect(total(await contentOf(dc, 'carol'))).toBe(0);
  });

  it('into a full mailbox ends Partially Complete with exact counts', async () => {
    const big = await dc.client('big', pw('big'));
    const blob = 'x'.repeat(76) + '\r\n';
    for (let i = 0; i < 30; i++)
      await big.append('INBOX', Buffer.from(`From: a@example.org\r\nMessage-ID: <big-${i}@example.org>\r\nSubject: big ${i}\r\n\r\n${blob.repeat(1000)}`), [], new Date(Date.UTC(2020, 0, 1, 0, i)));
    await big.logout();
    const statuses: string[] = [];
    const r = await migrate('big', 'quota', {}, statuses);
    expect(r.status).toBe('partially_complete');
    expect(r.errorCode).toBe('QUOTA_EXCEEDED');
    expect(r.side).toBe('destination');
    expect(r.migrated).toBeGreaterThan(0);
    expect(r.migrated + r.notMigrated).toBe(30);
    expect(total(await contentOf(dc, 'quota'))).toBe(r.migrated);
    expect(r.message).toContain(`${r.migrated} migrated, ${r.notMigrated} not migrated`);
    expect(statuses.at(-1)).toBe('partially_complete');
  });

  it('a wrong destination password is an Authentication Error naming the destination', async () => {
    const r = await runMigrate({ source: account('alice'), destination: account('dave', 'wrong'), retry: { maxAttempts: 2, baseDelayMs: 50 } });
    expect(r.status).toBe('authentication_error');
    expect(r.side).toBe('destination');
    expect(r.message).toMatch(/^destination: /);
    expect(r.message).not.toContain('wrong');
    const s = await runMigrate({ source: account('alice', 'nope'), destination: account('dave'), retry: { maxAttempts: 2, baseDelayMs: 50 } });
    expect(s.status).toBe('authentication_error');
    expect(s.side).toBe('source');
  });

  it('a refused port ends in Connection Error after Retrying', async () => {
    const statuses: string[] = [];
    const r = await runMigrate({ source: account('alice'), destination: { ...account('dave'), port: 1 }, retry: { maxAttempts: 2, baseDelayMs: 20 } }, { onStatus: (s) => statuses.push(s) });
    expect(r.status).toBe('connection_error');
    expect(r.side).toBe('destination');
    expect(statuses).toEqual(['retrying', 'retrying', 'connection_error']);
  });

  it('the CLI killed with SIGKILL midway, then run again, leaves each message exactly once', async () => {
    const e = await dc.client('erin', pw('erin'));
    const msgs = generatedMessages(600, 99, { prefix: 'kill' });
    await e.mailboxCreate('Bulk');
    for (const [i, m] of msgs.entries()) await e.append(i % 2 ? 'Bulk' : 'INBOX', m, i % 3 ? ['\\Seen'] : [], new Date(Date.UTC(2015, 0, 1, 0, 0, i)));
    await e.logout();
    const args = ['migrate', '--from-host', '127.0.0.1', '--from-port', String(dc.port), '--from-security', 'none', '--from-user', 'erin', '--from-password-env', 'SRC_PW',
      '--to-host', '127.0.0.1', '--to-port', String(dc.port), '--to-security', 'none', '--to-user', 'frank', '--to-password-env', 'DST_PW', '--json'];
    const env = { SRC_PW: pw('erin'), DST_PW: pw('frank') };
    const run = startCli(args, env);
    const watcher = await dc.client('frank', pw('frank'));
    const deadline = Date.now() + 60_000;
    let seen = 0;
    while (Date.now() < deadline) {
      const st = await watcher.status('INBOX', { messages: true });
      seen = st ? (st.messages ?? 0) : 0;
      if (seen > 20) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');
    await watcher.logout();
    const partial = total(await contentOf(dc, 'frank'));
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(600);
    const again = await runCli(args, env);
    expect(again.code, again.stderr).toBe(0);
    // APPENDs are pipelined: the server may still store some it had read after the kill, so the
    // rerun can find more than was counted above; each message is either found or copied.
    expect(again.json).toMatchObject({ statusId: 'completed' });
    expect(again.json!.alreadyPresent).toBeGreaterThanOrEqual(partial);
    expect((again.json!.migrated as number) + (again.json!.alreadyPresent as number)).toBe(600);
    expect(await contentOf(dc, 'frank')).toEqual(await contentOf(dc, 'erin'));
    const wrong = await runCli([...args.slice(0, -1), '--dry-run'], { ...env, DST_PW: 'bad' });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain('destination');
    expect(wrong.stderr).not.toContain('bad');
  }, 120_000);
});
