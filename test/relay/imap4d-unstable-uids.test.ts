/**
 * GNU mailutils imap4d 3.15 with maildir (test/support/imap4d.ts) gives the messages in a folder's
 * `new/` fresh UIDs on every EXAMINE and may change a folder's UIDVALIDITY between sessions, so
 * nothing keyed by UID carries from one session (or one SELECT) to the next. Backup, migrate and
 * restore must still end with each message once, recognised by content, and say why incremental
 * runs are not possible.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageIdOf } from '../../relay/archive/message-id.ts';
import type { ImapAccount } from '../../relay/imap/session.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runMigrate } from '../../relay/jobs/migrate/run-migrate.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import { errorHint } from '../../lib/status/error-hints.ts';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { imap4dAvailable, startImap4d, type Imap4d } from '../support/imap4d.ts';

const AVAILABLE = imap4dAvailable() && dovecotAvailable();

/** Maildir names of the folders seeded (modified UTF-7 on disk, as imap4d names them). */
const FOLDERS = [
  { name: 'INBOX', dir: 'INBOX' },
  { name: 'Projekte/Grüße', dir: 'Projekte/Gr&APwA3w-e' },
];

/** A message as an MDA writes it into maildir: LF line endings (imap4d serves them with CRLF). */
function message(i: number, withId: boolean): string {
  return [
    `From: Sender ${i} <s${i}@example.org>`,
    'To: alice@example.org',
    `Subject: message ${i}`,
    `Date: Mon, ${(i % 27) + 1} Jan 2018 10:20:30 +0000`,
    ...(withId ? [`Message-ID: <imap4d-${i}@example.org>`] : []),
    '',
    `Body of message ${i}.`,
    '',
  ].join('\n');
}

/**
 * Seeds maildirs directly, as mail delivered to the account: per folder some in `new/` (no UID
 * until a read-write SELECT) and some in `cur/`; one message without a Message-ID.
 */
function seed(server: Imap4d, user: string): number {
  let n = 0;
  for (const [fi, f] of FOLDERS.entries()) {
    const base = path.join(server.home(user), f.dir);
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(base, sub), { recursive: true });
    const count = fi === 0 ? 7 : 4;
    for (let k = 0; k < count; k++, n++) {
      const where = k % 2 === 0 ? 'new' : 'cur';
      const file = path.join(base, where, `${1_500_000_000 + n}.M${n}P1.test${where === 'cur' ? ':2,' : ''}`);
      fs.writeFileSync(file, message(n, n !== 3));
      const t = new Date(Date.UTC(2018, 0, 1 + n, 10, 20, 30));
      fs.utimesSync(file, t, t);
    }
  }
  return n;
}

/** folder -> sorted "Message-ID or Subject" lines on a server. */
async function contents(client: () => Promise<import('imapflow').ImapFlow>): Promise<Map<string, string[]>> {
  const c = await client();
  try {
    const out = new Map<string, string[]>();
    for (const f of await c.list()) {
      if (f.flags.has('\\Noselect') || f.flags.has('\\NonExistent')) continue;
      const box = await c.mailboxOpen(f.path, { readOnly: true });
      const lines: string[] = [];
      if (box.exists > 0)
        for await (const m of c.fetch('1:*', { uid: true, headers: ['message-id', 'subject'] }, { uid: true }))
          lines.push(messageIdOf(m.headers!) ?? /subject: (.*)/i.exec(m.headers!.toString())![1]!.trim());
      out.set(f.path, lines.sort());
    }
    return out;
  } finally {
    await c.logout();
  }
}

describe.skipIf(!AVAILABLE)('a source server whose UIDs do not last from one session to the next (GNU imap4d with maildir)', () => {
  let imap4d: Imap4d;
  let dovecot: Dovecot;
  const dirs: string[] = [];
  let seeded = 0;
  const tmp = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-imap4d-test-'));
    dirs.push(d);
    return d;
  };
  const i4 = (local: string): ImapAccount => {
    const u = imap4d.users.find((x) => x.name.startsWith(`${local}@`))!;
    return { host: '127.0.0.1', port: imap4d.port, security: 'none', user: u.name, password: u.password };
  };
  const dc = (user: string): ImapAccount => ({ host: '127.0.0.1', port: dovecot.port, security: 'none', user, password: `${user}pw` });

  beforeAll(async () => {
    [imap4d, dovecot] = await Promise.all([
      startImap4d({ users: ['src', 'bsrc', 'into', 'big'].map((name) => ({ name, password: `${name}-pw` })) }),
      startDovecot({ users: ['mig', 'mig2', 'mig3', 'mig4', 'dsrc', 'dsrc2', 'rest', 'into'].map((name) => ({ name, password: `${name}pw` })) }),
    ]);
    seeded = seed(imap4d, 'src');
    expect(seed(imap4d, 'bsrc')).toBe(seeded);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([imap4d?.stop(), dovecot?.stop()]);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('the server really renumbers: two sessions see different UIDs for the same messages', async () => {
    const uids = async (): Promise<number[]> => {
      const c = await imap4d.client(i4('bsrc').user, i4('bsrc').password);
      try {
        await c.mailboxOpen('INBOX', { readOnly: true });
        return (await c.search({ all: true }, { uid: true })) || [];
      } finally {
        await c.logout();
      }
    };
    const a = await uids();
    const b = await uids();
    expect(a).toHaveLength(7);
    expect(b).toHaveLength(7);
    expect(b).not.toEqual(a);
  });

  it('backed up twice: the second run stores nothing again, reports nothing as gone from the server, and says why it could not be incremental', async () => {
    const dir = tmp();
    const r1 = await runBackup({ archiveDir: dir, account: i4('bsrc') });
    expect(r1, r1.message ?? '').toMatchObject({ status: 'completed', messages: seeded, disappeared: 0, skipped: [], errorCode: 'UIDVALIDITY_UNSTABLE' });
    const r2 = await runBackup({ archiveDir: dir, account: i4('bsrc') });
    // Each message is a new membership under its new UID, but no byte is stored again and none counts as gone.
    expect(r2, r2.message ?? '').toMatchObject({ status: 'completed', bytes: 0, disappeared: 0, skipped: [], errorCode: 'UIDVALIDITY_UNSTABLE' });
    expect(r2.message).toMatch(/the source server changes UIDVALIDITY on every connection; incremental runs are not possible/);
    expect(errorHint('UIDVALIDITY_UNSTABLE')).toMatch(/changes UIDVALIDITY on every connection; incremental runs are not possible/);

    // Restored from that archive into Dovecot twice: each message once.
    const restore = () => runRestore({ archiveDir: dir, target: dc('rest') });
    const s1 = await restore();
    expect(s1, s1.message ?? '').toMatchObject({ status: 'completed', restored: seeded, skipped: [] });
    const s2 = await restore();
    expect(s2, s2.message ?? '').toMatchObject({ status: 'completed', restored: 0, alreadyPresent: seeded, skipped: [] });
    const got = [...(await contents(() => dovecot.client('rest', 'restpw'))).values()].flat();
    expect(got).toHaveLength(seeded);
    expect(new Set(got).size).toBe(seeded);
  });

  it('migrated into Dovecot twice: each message once, both runs Completed', async () => {
    const migrate = () => runMigrate({ source: i4('src'), destination: dc('mig'), retry: { maxAttempts: 2, baseDelayMs: 1 } });
    const m1 = await migrate();
    expect(m1, m1.message ?? '').toMatchObject({ status: 'completed', migrated: seeded, skipped: [], attempts: 1, errorCode: 'UIDVALIDITY_UNSTABLE', side: 'source' });
    expect(m1.message).toMatch(/the source server changes UIDVALIDITY on every connection; incremental runs are not possible/);
    const m2 = await migrate();
    // Nothing left to copy: no folder is opened for copying, so there is nothing to notice either.
    expect(m2, m2.message ?? '').toMatchObject({ status: 'completed', migrated: 0, alreadyPresent: seeded, skipped: [], attempts: 1 });
    const got = await contents(() => dovecot.client('mig', 'migpw'));
    expect([...got.values()].flat()).toHaveLength(seeded);
    expect(new Set([...got.values()].flat()).size).toBe(seeded);
  });

  it('a message large enough to be streamed (partial FETCHes by UID) is copied under its new UID too: migrated twice, each message once, the large one byte for byte', async () => {
    // One large message between two small ones, all in `new/`: every EXAMINE gives them new UIDs.
    const base = path.join(imap4d.home(i4('big').user), 'INBOX');
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(base, sub), { recursive: true });
    const line = 'x'.repeat(76);
    const lines = Math.ceil((RELAY_LIMITS.appendStreamThresholdBytes + 1024) / (line.length + 2));
    const large = [message(500, true).trimEnd(), ...Array.from({ length: lines }, () => line), ''].join('\n');
    const bodies = [message(499, true), large, message(501, true)];
    for (const [k, body] of bodies.entries()) fs.writeFileSync(path.join(base, 'new', `${1_600_000_000 + k}.M${k}P1.test`), body);
    const migrate = () => runMigrate({ source: i4('big'), destination: dc('mig4'), retry: { maxAttempts: 1 } });
    const m1 = await migrate();
    expect(m1, m1.message ?? '').toMatchObject({ status: 'completed', migrated: 3, skipped: [], errorCode: 'UIDVALIDITY_UNSTABLE' });
    const m2 = await migrate();
    expect(m2, m2.message ?? '').toMatchObject({ status: 'completed', migrated: 0, alreadyPresent: 3, skipped: [] });
    const c = await dovecot.client('mig4', 'mig4pw');
    try {
      await c.mailboxOpen('INBOX', { readOnly: true });
      const got = new Map<string, number>();
      let copied: Buffer | null = null;
      for await (const f of c.fetch('1:*', { uid: true, source: true, headers: ['message-id'] }, { uid: true })) {
        const id = messageIdOf(f.headers!)!;
        got.set(id, (got.get(id) ?? 0) + 1);
        if (id === '<imap4d-500@example.org>') copied = f.source!;
      }
      expect(Object.fromEntries(got)).toEqual({ '<imap4d-499@example.org>': 1, '<imap4d-500@example.org>': 1, '<imap4d-501@example.org>': 1 });
      // imap4d serves the LF file with CRLF line ends.
      expect(copied?.equals(Buffer.from(large.replace(/\n/g, '\r\n')))).toBe(true);
    } finally {
      await c.logout();
    }
  });

  it('a server that keeps its UIDs (Dovecot) is never told so: backed up and migrated twice without the notice', async () => {
    const c = await dovecot.client('dsrc', 'dsrcpw');
    for (let i = 0; i < 4; i++) await c.append('INBOX', Buffer.from(message(100 + i, i !== 2).replace(/\n/g, '\r\n')), ['\\Seen']);
    await c.logout();
    const dir = tmp();
    for (let i = 0; i < 2; i++) expect(await runBackup({ archiveDir: dir, account: dc('dsrc') })).toMatchObject({ status: 'completed', errorCode: null, message: null });
    const m = await runMigrate({ source: dc('dsrc'), destination: dc('mig2') });
    expect(m).toMatchObject({ status: 'completed', migrated: 4, errorCode: null, message: null });
  });

  it('into imap4d, which drops the flags and dates of what it is given: migrate and restore stop Failed after the first message they append, with that reason, and never append a message twice', async () => {
    const c = await dovecot.client('into', 'intopw');
    await c.mailboxCreate('Projekte/Grüße');
    for (let i = 0; i < 3; i++) await c.append('Projekte/Grüße', Buffer.from(message(200 + i, true).replace(/\n/g, '\r\n')), ['\\Seen', '$Label1'], new Date('2001-02-03T04:05:06Z'));
    await c.logout();
    const dir = tmp();
    expect(await runBackup({ archiveDir: dir, account: dc('into') })).toMatchObject({ status: 'completed' });
    const stored = async (): Promise<string[]> => [...(await contents(() => imap4d.client(i4('into').user, i4('into').password))).values()].flat();
    const ids = (n: number): string[] => [200, 201, 202].slice(0, n).map((i) => `<imap4d-${i}@example.org>`);
    // Each run stops after the one message it appended and read back; what is there is never appended again.
    for (let run = 0; run < 2; run++) {
      const m = await runMigrate({ source: dc('into'), destination: i4('into'), retry: { maxAttempts: 1 } });
      expect(m, m.message ?? '').toMatchObject({ status: 'failed', errorCode: 'DESTINATION_LOSES_METADATA', side: 'destination', migrated: 1, alreadyPresent: run });
      expect(m.message).toMatch(/does not keep the flags and dates of the messages it is given \(flags \(\\Seen\) became \(\), INTERNALDATE 2001-02-03T04:05:06\.000Z became /);
      expect(await stored()).toEqual(ids(run + 1));
    }
    const r = await runRestore({ archiveDir: dir, target: i4('into'), retry: { maxAttempts: 1 } });
    expect(r, r.message ?? '').toMatchObject({ status: 'failed', errorCode: 'DESTINATION_LOSES_METADATA', restored: 1, alreadyPresent: 2 });
    expect(await stored()).toEqual(ids(3));
    expect(errorHint('DESTINATION_LOSES_METADATA')).toMatch(/does not keep the flags .* and dates/);
  });

  it('on a server that keeps its UIDs, mail that arrives or is expunged between plan and copy changes nothing else: the planned messages are copied once, the expunged one is named, no notice', async () => {
    const c = await dovecot.client('dsrc2', 'dsrc2pw');
    for (let i = 0; i < 5; i++) await c.append('INBOX', Buffer.from(message(300 + i, i !== 4).replace(/\n/g, '\r\n')), ['\\Seen']);
    await c.logout();
    const doveadm = (args: string[], input?: string): void => {
      const r = spawnSync('doveadm', ['-c', dovecot.confFile, ...args], { input, timeout: 20_000, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`doveadm ${args.join(' ')}: ${r.stderr}`);
    };
    const m = await runMigrate(
      { source: dc('dsrc2'), destination: dc('mig3') },
      {
        // Between the plan and the copy: one new message delivered, one planned message expunged.
        onPlan: () => {
          doveadm(['save', '-u', 'dsrc2', '-m', 'INBOX'], message(399, true).replace(/\n/g, '\r\n'));
          doveadm(['expunge', '-u', 'dsrc2', 'mailbox', 'INBOX', 'HEADER', 'Message-ID', '<imap4d-301@example.org>']);
        },
      },
    );
    expect(m).toMatchObject({ status: 'partially_complete', migrated: 4, errorCode: 'MESSAGE_UNREADABLE' });
    expect(m.skipped).toEqual([expect.objectContaining({ folder: 'INBOX', code: 'MESSAGE_UNREADABLE', reason: 'the message disappeared from the source during the run' })]);
    const got = [...(await contents(() => dovecot.client('mig3', 'mig3pw'))).values()].flat();
    expect(got.sort()).toEqual(['<imap4d-300@example.org>', '<imap4d-302@example.org>', '<imap4d-303@example.org>', 'message 304']);
    // The next run copies what arrived and nothing twice.
    const again = await runMigrate({ source: dc('dsrc2'), destination: dc('mig3') });
    expect(again).toMatchObject({ status: 'completed', migrated: 1, alreadyPresent: 4, errorCode: null });
  });
});
