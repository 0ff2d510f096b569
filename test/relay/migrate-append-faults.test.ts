import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapAccount } from '../../relay/imap/session.ts';
import { runMigrate } from '../../relay/jobs/migrate/run-migrate.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startFakeAppendServer } from '../support/fake-append-server.ts';
import { bigMessage } from '../support/large-message.ts';
import { startSlowProxy } from '../support/slow-proxy.ts';

const pw = (u: string): string => `${u}-Faults-pw`;
const REFUSED = 'X-Test: refuse me';
const fake = (port: number): ImapAccount => ({ host: '127.0.0.1', port, security: 'none', user: 'dst', password: 'any-Secret-pw' });

describe.skipIf(!dovecotAvailable())('migrate when the destination refuses or either side trickles', () => {
  let dc: Dovecot;
  const account = (user: string, port = dc.port): ImapAccount => ({ host: '127.0.0.1', port, security: 'none', user, password: pw(user) });

  beforeAll(async () => {
    dc = await startDovecot({ users: ['src', 'big'].map((name) => ({ name, password: pw(name) })) });
    const c = await dc.client('src', pw('src'));
    const msgs = generatedMessages(3, 41, { prefix: 'mig-refuse' });
    msgs.splice(1, 0, Buffer.from(`From: a@example.org\r\nSubject: over the limit\r\nMessage-ID: <mig-over@example.org>\r\n${REFUSED}\r\n\r\nbody\r\n`));
    for (const [i, m] of msgs.entries()) await c.append('INBOX', m, i === 1 ? ['\\Seen', '$Label1'] : ['\\Seen'], new Date(Date.UTC(2012, 3, 4, 5, 6, i)));
    await c.logout();
    const b = await dc.client('big', pw('big'));
    await b.append('INBOX', bigMessage('From: big@example.org\r\nSubject: big\r\nMessage-ID: <mig-trickle@example.org>\r\n\r\n', 5), ['\\Seen', 'Gross'], new Date(Date.UTC(2012, 3, 4)));
    await b.logout();
  }, 60_000);

  afterAll(async () => {
    await dc?.stop();
  });

  it('a NO [LIMIT] on one APPEND skips that message as APPENDLIMIT_EXCEEDED on the destination side and copies the others', async () => {
    const server = await startFakeAppendServer({ literalPlus: true, faults: { refuse: { match: (raw) => raw.includes(REFUSED), response: '[LIMIT] Message too large' } } });
    try {
      const r = await runMigrate({ source: account('src'), destination: fake(server.port), retry: { maxAttempts: 1 } });
      expect(r.status, r.message ?? '').toBe('partially_complete');
      expect(r).toMatchObject({ errorCode: 'APPENDLIMIT_EXCEEDED', side: 'destination', migrated: 3, notMigrated: 1 });
      expect(r.skipped).toEqual([expect.objectContaining({ code: 'APPENDLIMIT_EXCEEDED', folder: 'INBOX' })]);
      expect(server.appended.map((m) => m.raw.includes(REFUSED))).toEqual([false, false, false]);
    } finally {
      await server.close();
    }
  });

  it('a large message streams from the source into the destination with its flags, keywords and INTERNALDATE', async () => {
    const server = await startFakeAppendServer({ literalPlus: true });
    try {
      const r = await runMigrate({ source: account('big'), destination: fake(server.port), retry: { maxAttempts: 1 } });
      expect(r).toMatchObject({ status: 'completed', migrated: 1 });
      const [m] = server.appended;
      const c = await dc.client('big', pw('big'));
      try {
        await c.mailboxOpen('INBOX', { readOnly: true });
        const src = await c.fetchOne('1', { source: true });
        expect(src && m!.raw.equals(src.source!)).toBe(true);
      } finally {
        await c.logout();
      }
      expect(m!.nonSync).toBe(false); // over 4 MiB: waits for "+", so the server may refuse first
      expect(m!.flags.sort()).toEqual(['Gross', '\\Seen']);
      expect(m!.internalDate).toBe(' 4-Apr-2012 00:00:00 +0000');
    } finally {
      await server.close();
    }
  });

  it('a destination that reads the literal at a trickle is cut at the minimum-rate deadline, named as the destination', async () => {
    const server = await startFakeAppendServer({ faults: { trickle: { bytes: 16 * 1024, everyMs: 50 } } });
    try {
      const r = await runMigrate({ source: account('big'), destination: fake(server.port), retry: { maxAttempts: 1 }, appendDeadline: { baseMs: 1_000, minBytesPerSecond: 2 * 1024 * 1024 } });
      expect(r).toMatchObject({ status: 'cancelled', errorCode: 'RETRY_LIMIT', side: 'destination', migrated: 0 });
      expect(r.message).toMatch(/destination server moved a \d+-byte message slower than 2048 KiB\/s/);
    } finally {
      await server.close();
    }
  }, 30_000);

  it('a source that trickles the bodies of small messages is cut at the batch deadline, named as the source', async () => {
    const proxy = await startSlowProxy(dc.port);
    const server = await startFakeAppendServer({ literalPlus: true });
    try {
      proxy.throttle(256); // 256 bytes per 30 ms tick (~8 KB/s): the plan's few lines pass, bodies crawl
      const r = await runMigrate({ source: account('src', proxy.port), destination: fake(server.port), retry: { maxAttempts: 1 }, appendDeadline: { baseMs: 50, minBytesPerSecond: 1024 * 1024 } });
      expect(r).toMatchObject({ status: 'cancelled', errorCode: 'RETRY_LIMIT', side: 'source' });
      expect(r.message).toMatch(/source server sent \d+ messages slower than 1024 KiB\/s/);
    } finally {
      proxy.close();
      await server.close();
    }
  }, 30_000);

  it('a source that sends the message at a trickle is cut at the minimum-rate deadline, named as the source', async () => {
    const proxy = await startSlowProxy(dc.port);
    const server = await startFakeAppendServer({ literalPlus: true });
    try {
      proxy.throttle(2048); // 2 KB per 30 ms tick: logs in and plans in moments, 5 MB would take over a minute
      const r = await runMigrate({ source: account('big', proxy.port), destination: fake(server.port), retry: { maxAttempts: 1 }, appendDeadline: { baseMs: 1_000, minBytesPerSecond: 1024 * 1024 } });
      expect(r).toMatchObject({ status: 'cancelled', errorCode: 'RETRY_LIMIT', side: 'source', migrated: 0 });
      expect(r.message).toMatch(/source server/);
      expect(server.appended).toHaveLength(0);
    } finally {
      proxy.close();
      await server.close();
    }
  }, 30_000);
});
