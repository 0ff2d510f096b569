import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapAccount } from '../../relay/imap/session.ts';
import { runMigrate } from '../../relay/jobs/migrate/run-migrate.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startTamperProxy } from '../support/tamper-proxy.ts';

const pw = (u: string): string => `${u}-Faults-pw`;

async function count(dc: Dovecot, user: string): Promise<number> {
  const c = await dc.client(user, pw(user));
  try {
    let n = 0;
    for (const f of await c.list()) {
      if (f.flags.has('\\Noselect') || f.flags.has('\\NonExistent')) continue;
      const st = await c.status(f.path, { messages: true });
      n += st ? (st.messages ?? 0) : 0;
    }
    return n;
  } finally {
    await c.logout();
  }
}

describe.skipIf(!dovecotAvailable())('migrate when the destination limits or drops', () => {
  let dc: Dovecot;
  const account = (user: string, port = dc.port): ImapAccount => ({ host: '127.0.0.1', port, security: 'none', user, password: pw(user) });

  beforeAll(async () => {
    dc = await startDovecot({ users: ['src', 'small', 'flaky', 'one'].map((name) => ({ name, password: pw(name) })) });
    const c = await dc.client('src', pw('src'));
    const msgs = generatedMessages(40, 21, { prefix: 'flt' });
    for (const [i, m] of msgs.entries()) await c.append('INBOX', m, ['\\Seen'], new Date(Date.UTC(2019, 0, 1, 0, 0, i)));
    await c.logout();
  }, 60_000);

  afterAll(async () => {
    await dc?.stop();
  });

  it('messages over the destination APPENDLIMIT are reported, the rest copied: Partially Complete', async () => {
    const limit = 2000;
    const proxy = await startTamperProxy({ host: '127.0.0.1', port: dc.port }, { rewrite: (t) => t.replace(/CAPABILITY IMAP4rev1 /g, `CAPABILITY IMAP4rev1 APPENDLIMIT=${limit} `) });
    try {
      const src = await dc.client('src', pw('src'));
      const sizes: number[] = [];
      await src.mailboxOpen('INBOX', { readOnly: true });
      for await (const m of src.fetch('1:*', { size: true })) sizes.push(m.size!);
      await src.logout();
      const over = sizes.filter((s) => s > limit).length;
      expect(over).toBeGreaterThan(0);
      expect(over).toBeLessThan(sizes.length);
      const r = await runMigrate({ source: account('src'), destination: account('small', proxy.port), retry: { maxAttempts: 1 } });
      expect(r.status).toBe('partially_complete');
      expect(r.errorCode).toBe('APPENDLIMIT_EXCEEDED');
      expect(r.side).toBe('destination');
      expect(r.plan!.appendLimit).toBe(limit);
      expect(r.plan!.overAppendLimit).toBe(over);
      expect(r.skipped.filter((s) => s.code === 'APPENDLIMIT_EXCEEDED')).toHaveLength(over);
      expect(r.migrated).toBe(sizes.length - over);
      expect(r.notMigrated).toBe(over);
      expect(await count(dc, 'small')).toBe(sizes.length - over);
    } finally {
      await proxy.close();
    }
  });

  it('a destination that allows one connection gets every message over it (the second lane is a speed-up only)', async () => {
    const c = await dc.client('src', pw('src'));
    if (!(await c.list()).some((f) => f.path === 'Other')) {
      await c.mailboxCreate('Other');
      for (const m of generatedMessages(5, 22, { prefix: 'other' })) await c.append('Other', m);
    }
    await c.logout();
    const proxy = await startTamperProxy({ host: '127.0.0.1', port: dc.port }, { maxConnections: 1 });
    try {
      const r = await runMigrate({ source: account('src'), destination: account('one', proxy.port), retry: { maxAttempts: 1 } });
      expect(r.status, r.message ?? '').toBe('completed');
      expect(r.migrated).toBe(45);
      expect(await count(dc, 'one')).toBe(45);
    } finally {
      await proxy.close();
    }
  });

  it('a destination that keeps dropping mid-run: Retrying, then Cancelled at the retry limit; a later run completes without duplicates', async () => {
    const proxy = await startTamperProxy({ host: '127.0.0.1', port: dc.port }, { cutAfterClientBytes: 30_000 });
    const statuses: string[] = [];
    try {
      const r = await runMigrate({ source: account('src'), destination: account('flaky', proxy.port), retry: { maxAttempts: 2, baseDelayMs: 20 } }, { onStatus: (s) => statuses.push(s) });
      expect(r.status).toBe('cancelled');
      expect(r.errorCode).toBe('RETRY_LIMIT');
      expect(r.side).toBe('destination');
      expect(statuses).toEqual(['running', 'retrying', 'running', 'retrying', 'cancelled']);
      expect(r.migrated).toBeGreaterThan(0);
      // An APPEND the server completed just before the cut never got its OK back: it is in the
      // destination but not counted; the next run finds it there instead of copying it again.
      expect(await count(dc, 'flaky')).toBeGreaterThanOrEqual(r.migrated);
    } finally {
      await proxy.close();
    }
    const again = await runMigrate({ source: account('src'), destination: account('flaky') });
    expect(again.status).toBe('completed');
    expect(await count(dc, 'flaky')).toBe(await count(dc, 'src'));
  });
});
