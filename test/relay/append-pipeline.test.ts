/**
 * Restore and migrate with their APPENDs overlapped (issue 10, Speed; relay/imap/append-pipeline.ts
 * and relay/jobs/append-window.ts), on real servers: a proxy follows the APPENDs and their answers, so
 * each test proves the overlap happened where the fault struck, and the servers' contents prove
 * nothing was appended twice or lost:
 * - into Dovecot and Cyrus (LITERAL+: non-synchronizing literals) and Courier (no LITERAL+: each
 *   literal after its "+", the next command right behind it): complete, byte-exact, flags,
 *   keywords and INTERNALDATE; a rerun appends nothing;
 * - over implicit TLS likewise;
 * - a session cut with APPENDs unanswered: the retry counts the ones the server kept as restored
 *   and appends only the rest; without a retry, a rerun does; every message ends there once;
 * - an over-quota answer while more APPENDs are in flight: Partially Complete with exact counts,
 *   and once space is freed the rerun adds only what is missing;
 * - migrate likewise: overlapped into Dovecot and Courier, exact, and a destination session cut
 *   mid-window ends, after the retry, with each message once;
 * - a destination that trickles: cut at the oldest unanswered APPEND's deadline;
 * - the order of the reports: a message refused for its keywords and resent behind later ones is
 *   still reported in its place.
 * Under CI a missing server fails (the support helpers throw).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSession, openSession, type ImapAccount } from '../../relay/imap/session.ts';
import { AppendWindow } from '../../relay/jobs/append-window.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runMigrate } from '../../relay/jobs/migrate/run-migrate.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import { startAppendOverlapProxy } from '../support/append-overlap-proxy.ts';
import { generatedMessages } from '../support/corpus.ts';
import { courierAvailable, startCourier } from '../support/courier.ts';
import { cyrusAvailable, startCyrus } from '../support/cyrus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startFakeAppendServer } from '../support/fake-append-server.ts';
import { serverState } from '../support/mailbox-state.ts';

const pw = (user: string): string => `${user}-Pipeline-pw`;
const AVAILABLE = dovecotAvailable() && cyrusAvailable() && courierAvailable();
const account = (port: number, user: string): ImapAccount => ({ host: '127.0.0.1', port, security: 'none', user, password: pw(user) });

/** 30 messages, every third without a Message-ID (found again by size, date and content hash). */
const MESSAGES = generatedMessages(30, 77, { prefix: 'pipe' }).map((m, i) => (i % 3 === 2 ? Buffer.from(m.toString('latin1').replace(/Message-ID: [^\r]*\r\n/, ''), 'latin1') : m));
const FLAGS = (i: number): string[] => (i % 4 === 0 ? ['\\Seen', '$Label1'] : i % 4 === 1 ? ['\\Flagged', 'Projekt_X'] : i % 4 === 2 ? ['\\Seen', '\\Answered'] : []);
const line = `${'y'.repeat(998)}\r\n`;
/** 20 messages of ~10 KB for the quota test, and two 150 KB fillers. */
const QUOTA_MSGS = Array.from({ length: 20 }, (_, i) => Buffer.from(`From: q@example.org\r\nSubject: quota ${i}\r\nMessage-ID: <pipe-quota-${i}@example.org>\r\n\r\n${line.repeat(10)}`));
const FILLER = [0, 1].map((i) => Buffer.from(`From: q@example.org\r\nSubject: filler ${i}\r\nMessage-ID: <pipe-filler-${i}@example.org>\r\n\r\n${line.repeat(150)}`));

interface Running {
  port: number;
  stop(): Promise<void>;
}

async function seed(port: number, user: string, folder: string, msgs: Buffer[], flags: (i: number) => string[] = () => ['\\Seen']): Promise<void> {
  const c = await openSession(account(port, user), { utf8Names: false });
  try {
    const p = folder === 'INBOX' ? folder : `${c.namespace!.prefix}${folder}`;
    if (p !== 'INBOX') await c.mailboxCreate(p);
    for (const [i, m] of msgs.entries()) await c.append(p, m, flags(i), new Date(Date.UTC(2004, 5, 6, 7, 8, i)));
  } finally {
    await c.logout();
  }
}

/** Every message of the account as "folder leaf | hash | flags | date", sorted: a duplicate shows twice. */
async function contents(port: number, user: string): Promise<string[]> {
  const c = await openSession(account(port, user), { utf8Names: false });
  try {
    const prefix = c.namespace?.prefix ?? '';
    const out: string[] = [];
    for (const [folder, msgs] of await serverState(c)) {
      const leaf = folder.startsWith(prefix) && folder !== 'INBOX' ? folder.slice(prefix.length) : folder;
      for (const m of msgs) out.push(`${leaf}|${m.hash}|${m.flags.join(' ')}|${m.internalDate}`);
    }
    return out.sort();
  } finally {
    await closeSession(c);
  }
}

describe.skipIf(!AVAILABLE)('restore and migrate with pipelined APPENDs', () => {
  let dovecot: Dovecot;
  const servers = new Map<string, Running>();
  let work: string;
  let original: string[];
  const archive = (u: string): string => path.join(work, u);

  beforeAll(async () => {
    const users = ['into', 'cut-retry', 'cut-rerun', 'full', 'mig', 'mig-cut', 'tls'];
    const [dc] = await Promise.all([
      startDovecot({ users: [{ name: 'src', password: pw('src') }, { name: 'srcq', password: pw('srcq') }, ...users.map((name) => ({ name, password: pw(name), ...(name === 'full' ? { quota: '400K' } : {}) }))] }),
      startCyrus({ users: [{ name: 'into', password: pw('into') }], namespace: 'default' }).then((s) => servers.set('Cyrus', s)),
      startCourier({ users: ['into', 'mig'].map((name) => ({ name, password: pw(name) })) }).then((s) => servers.set('Courier', s)),
    ]);
    dovecot = dc;
    servers.set('Dovecot', dovecot);
    await seed(dovecot.port, 'src', 'INBOX', MESSAGES.slice(0, 18), FLAGS);
    await seed(dovecot.port, 'src', 'Projekte', MESSAGES.slice(18), (i) => FLAGS(i + 18));
    await seed(dovecot.port, 'srcq', 'INBOX', QUOTA_MSGS);
    await seed(dovecot.port, 'full', 'Filler', FILLER);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-restore-pipeline-'));
    for (const u of ['src', 'srcq']) expect((await runBackup({ archiveDir: archive(u), account: account(dovecot.port, u) })).status).toBe('completed');
    original = await contents(dovecot.port, 'src');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  for (const [server, literalPlus] of [['Dovecot', true], ['Cyrus', true], ['Courier', false]] as const) {
    it(`into ${server}: each APPEND goes before the previous one is answered (${literalPlus ? 'LITERAL+' : 'no LITERAL+: each literal after its "+"'}); every message arrives once, byte for byte, with flags, keywords and INTERNALDATE; a rerun appends nothing`, async () => {
      const s = servers.get(server)!;
      // Cyrus's COMPRESS is hidden so the proxy can follow (restore-migrate-matrix covers it compressed).
      const proxy = await startAppendOverlapProxy({ host: '127.0.0.1', port: s.port }, { hideCompress: true });
      try {
        const r = await runRestore({ archiveDir: archive('src'), target: account(proxy.port, 'into'), retry: { maxAttempts: 1 } });
        expect(r, r.message ?? '').toMatchObject({ status: 'completed', restored: 30, notRestored: 0, skipped: [] });
        expect(proxy.appends).toHaveLength(30);
        expect(proxy.maxUnanswered).toBeGreaterThan(1);
        expect(proxy.appends.every((a) => a.nonSync === literalPlus)).toBe(true);
      } finally {
        await proxy.close();
      }
      expect(await contents(s.port, 'into')).toEqual(original);
      const again = await runRestore({ archiveDir: archive('src'), target: account(s.port, 'into') });
      expect(again).toMatchObject({ status: 'completed', restored: 0, alreadyPresent: 30 });
      expect(await contents(s.port, 'into')).toEqual(original);
    }, 60_000);
  }

  it('over implicit TLS (the pipeline writes to the TLS socket): every message arrives once, byte for byte', async () => {
    const target: ImapAccount = { host: 'localhost', port: dovecot.tlsPort, security: 'tls', user: 'tls', password: pw('tls'), ca: fs.readFileSync(dovecot.certFile, 'utf8') };
    expect(await runRestore({ archiveDir: archive('src'), target, retry: { maxAttempts: 1 } })).toMatchObject({ status: 'completed', restored: 30 });
    expect(await contents(dovecot.port, 'tls')).toEqual(original);
  }, 60_000);

  it('a session cut with APPENDs unanswered: the retry counts what the server kept as restored and appends only the rest, each message once', async () => {
    const proxy = await startAppendOverlapProxy({ host: '127.0.0.1', port: dovecot.port }, { cutAfterAppends: 12 });
    const statuses: string[] = [];
    try {
      const r = await runRestore({ archiveDir: archive('src'), target: account(proxy.port, 'cut-retry'), retry: { maxAttempts: 2, baseDelayMs: 10 } }, { onStatus: (st) => statuses.push(st) });
      expect(proxy.unansweredAtCut).toBeGreaterThan(0);
      expect(r).toMatchObject({ status: 'completed', attempts: 2, restored: 30, alreadyPresent: 0, notRestored: 0 });
    } finally {
      await proxy.close();
    }
    expect(statuses).toEqual(['running', 'retrying', 'running', 'completed']);
    expect(await contents(dovecot.port, 'cut-retry')).toEqual(original);
  }, 60_000);

  it('a session cut with APPENDs unanswered and no retry left: the rerun appends only what is missing, each message once', async () => {
    const proxy = await startAppendOverlapProxy({ host: '127.0.0.1', port: dovecot.port }, { cutAfterAppends: 12 });
    try {
      const r = await runRestore({ archiveDir: archive('src'), target: account(proxy.port, 'cut-rerun'), retry: { maxAttempts: 1 } });
      expect(proxy.unansweredAtCut).toBeGreaterThan(0);
      expect(r).toMatchObject({ status: 'cancelled', errorCode: 'RETRY_LIMIT' });
      // Unanswered APPENDs are not claimed as restored: the count is what is known.
      expect(r.restored + r.notRestored).toBe(30);
      expect(r.restored).toBeLessThan(12);
    } finally {
      await proxy.close();
    }
    const rest = await runRestore({ archiveDir: archive('src'), target: account(dovecot.port, 'cut-rerun') });
    expect(rest.status).toBe('completed');
    expect(await contents(dovecot.port, 'cut-rerun')).toEqual(original);
  }, 60_000);

  it('over quota while more APPENDs are in flight: Partially Complete with the counts the server holds; once space is freed the rerun adds only what is missing', async () => {
    const proxy = await startAppendOverlapProxy({ host: '127.0.0.1', port: dovecot.port });
    const inbox = async (): Promise<string[]> => (await contents(dovecot.port, 'full')).filter((m) => m.startsWith('INBOX|'));
    try {
      const r = await runRestore({ archiveDir: archive('srcq'), target: account(proxy.port, 'full'), retry: { maxAttempts: 1 } });
      expect(r).toMatchObject({ status: 'partially_complete', errorCode: 'QUOTA_EXCEEDED' });
      expect(proxy.unansweredAtFirstNo).toBeGreaterThan(0);
      expect(r.restored).toBeGreaterThan(0);
      expect(r.restored + r.notRestored).toBe(20);
      expect(await inbox()).toHaveLength(r.restored);
    } finally {
      await proxy.close();
    }
    const c = await openSession(account(dovecot.port, 'full'), { utf8Names: false });
    await c.mailboxOpen('Filler');
    await c.messageDelete('1:*');
    await closeSession(c);
    const first = (await inbox()).length;
    const rest = await runRestore({ archiveDir: archive('srcq'), target: account(dovecot.port, 'full') });
    expect(rest).toMatchObject({ status: 'completed', restored: 20 - first, alreadyPresent: first });
    const after = await inbox();
    expect(after).toHaveLength(20);
    expect(new Set(after.map((m) => m.split('|')[1])).size).toBe(20);
  }, 60_000);

  for (const [server, literalPlus] of [['Dovecot', true], ['Courier', false]] as const) {
    it(`migrate into ${server}: each APPEND goes before the previous one is answered; every message arrives once, byte for byte; a rerun copies nothing`, async () => {
      const s = servers.get(server)!;
      const proxy = await startAppendOverlapProxy({ host: '127.0.0.1', port: s.port });
      try {
        const r = await runMigrate({ source: account(dovecot.port, 'src'), destination: account(proxy.port, 'mig'), retry: { maxAttempts: 1 } });
        expect(r, r.message ?? '').toMatchObject({ status: 'completed', migrated: 30, notMigrated: 0, skipped: [] });
        expect(proxy.appends).toHaveLength(30);
        expect(proxy.maxUnanswered).toBeGreaterThan(1);
        expect(proxy.appends.every((a) => a.nonSync === literalPlus)).toBe(true);
      } finally {
        await proxy.close();
      }
      expect(await contents(s.port, 'mig')).toEqual(original);
      expect(await runMigrate({ source: account(dovecot.port, 'src'), destination: account(s.port, 'mig') })).toMatchObject({ status: 'completed', migrated: 0 });
      expect(await contents(s.port, 'mig')).toEqual(original);
    }, 60_000);
  }

  it('migrate with its destination session cut with APPENDs unanswered: after the retry each message is there once', async () => {
    const proxy = await startAppendOverlapProxy({ host: '127.0.0.1', port: dovecot.port }, { cutAfterAppends: 12 });
    try {
      const r = await runMigrate({ source: account(dovecot.port, 'src'), destination: account(proxy.port, 'mig-cut'), retry: { maxAttempts: 2, baseDelayMs: 10 } });
      expect(proxy.unansweredAtCut).toBeGreaterThan(0);
      expect(r).toMatchObject({ status: 'completed', attempts: 2, notMigrated: 0 });
    } finally {
      await proxy.close();
    }
    expect(await contents(dovecot.port, 'mig-cut')).toEqual(original);
  }, 60_000);

  it('a destination that reads pipelined APPENDs at a trickle is cut at the oldest one\'s minimum-rate deadline: Retrying, then Cancelled with the reason', async () => {
    const server = await startFakeAppendServer({ literalPlus: true, faults: { trickle: { bytes: 64, everyMs: 50 } } });
    const events: { status: string; code?: string }[] = [];
    try {
      const r = await runRestore(
        { archiveDir: archive('src'), target: { host: '127.0.0.1', port: server.port, security: 'none', user: 'dst', password: 'any-Secret-pw' }, retry: { maxAttempts: 2, baseDelayMs: 10 }, appendDeadline: { baseMs: 500, minBytesPerSecond: 1024 * 1024 } },
        { onStatus: (status, d) => events.push({ status, code: d.errorCode }) },
      );
      expect(r).toMatchObject({ status: 'cancelled', errorCode: 'RETRY_LIMIT' });
      expect(r.message).toMatch(/destination server moved a \d+-byte message slower than 1024 KiB\/s/);
      expect(events).toContainEqual({ status: 'retrying', code: 'CONNECTION_TIMEOUT' });
    } finally {
      await server.close();
    }
  }, 60_000);

  it('reports each message once, in the order added, even when one refused for its keywords is resent behind later ones', async () => {
    const server = await startFakeAppendServer({ literalPlus: true, faults: { refuse: { match: (_raw, flags) => flags.includes('Projekt_X'), response: '[LIMIT] Too many keywords' } } });
    const c = await openSession({ host: '127.0.0.1', port: server.port, security: 'none', user: 'dst', password: 'any-Secret-pw' }, { utf8Names: false });
    const reports: { n: number; ok: boolean; uid: number | null }[] = [];
    try {
      await c.mailboxOpen('INBOX');
      const w = new AppendWindow<number>(c, { onReport: (r) => void reports.push({ n: r.message, ok: r.outcome === 'ok', uid: r.ack?.uid ?? null }) });
      for (let n = 0; n < 6; n++) {
        const body = Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`);
        const system = n === 1 ? ['\\Flagged'] : ['\\Seen'];
        await w.add(n, { path: 'INBOX', flags: n === 1 ? [...system, 'Projekt_X'] : system, systemFlags: system, internalDate: null, size: body.length, body });
      }
      await w.settled();
      w.close();
    } finally {
      await closeSession(c);
      await server.close();
    }
    // The server took message 1 last (after its refusal), yet it is reported in its place.
    expect(server.appended.map((m) => m.raw.toString().match(/Subject: (\d)/)![1])).toEqual(['0', '2', '3', '4', '5', '1']);
    expect(reports.map((r) => r.n)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(reports.every((r) => r.ok)).toBe(true);
    expect(reports.map((r) => r.uid)).toEqual([1, 6, 2, 3, 4, 5]);
  }, 30_000);
});
