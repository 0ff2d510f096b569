/**
 * Reruns of restore and migrate into servers that store a message differently from what was sent
 * (docs/same-message.md): Courier appends a CRLF to a last line without one and searches sizes
 * without CRs, Cyrus masks 8-bit header bytes as `X` and refuses bare LF, Dovecot and Courier store
 * bare LF as CRLF. Every message carries a marker in its body (no server rewrites a body line), so
 * "exactly once" is counted independently of the comparison under test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, type ImapAccount } from '../../relay/imap/session.ts';
import { runBackup } from '../../relay/jobs/run-backup.ts';
import { runMigrate } from '../../relay/jobs/run-migrate.ts';
import { runRestore } from '../../relay/jobs/run-restore.ts';
import { courierAvailable, startCourier } from '../support/courier.ts';
import { cyrusAvailable, startCyrus } from '../support/cyrus.ts';
import { dovecotAvailable, startDovecot } from '../support/dovecot.ts';
import { startFakeImap, type FakeImap } from '../support/fake-imap.ts';
import { startTamperProxy } from '../support/tamper-proxy.ts';

interface Running {
  port: number;
  stop(): Promise<void>;
}
interface Target {
  id: string;
  label: string;
  available: () => boolean;
  start: (users: { name: string; password: string }[]) => Promise<Running>;
}

const TARGETS: Target[] = [
  { id: 'dovecot', label: 'Dovecot', available: dovecotAvailable, start: (users) => startDovecot({ users }) },
  { id: 'cyrus', label: 'Cyrus (masks 8-bit header bytes as X)', available: cyrusAvailable, start: (users) => startCyrus({ users, namespace: 'default' }) },
  { id: 'courier', label: 'Courier (appends a final CRLF, searches sizes without CRs)', available: courierAvailable, start: (users) => startCourier({ users }) },
];
const AVAILABLE = TARGETS.every((t) => t.available());

const pw = (user: string): string => `${user}-Secret-pw`;
const account = (port: number, user: string): ImapAccount => ({ host: '127.0.0.1', port, security: 'none', user, password: pw(user) });
const USERS = ['src', 'rest', 'mig', 'crashr', 'crashm', 'uv', 'lf', 'rec', 'recm'];

interface Fixture {
  name: string;
  raw: Buffer;
  date: Date;
}

const head = (name: string, extra: string[] = []): string[] => ['From: Anna <anna@example.org>', 'To: Bert <bert@example.net>', `Subject: ${name}`, 'Date: Mon, 3 Mar 2003 10:20:30 +0000', ...extra];
const build = (headers: string[], body: string, finalNewline = true): Buffer => Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}${finalNewline ? '\r\n' : ''}`, 'utf8');
const marker = (name: string): string => `mk-fixture-${name}`;
const at = (i: number): Date => new Date(Date.UTC(2003, 2, 3 + i, 10, 20, 30));

/** The first one is the first APPEND of a run: the crash tests cut right after it. */
const FIXTURES: Fixture[] = [
  { name: 'noid-8bit-nofinal', raw: build(head('no id', ['X-Note: Grüße aus Köln']), `${marker('noid-8bit-nofinal')}\r\nlast line without newline`, false), date: at(0) },
  { name: 'noid', raw: build(head('no id either'), `${marker('noid')}\r\nplain`), date: at(1) },
  { name: 'noid-8bit', raw: build(head('Grüße'), `${marker('noid-8bit')}\r\nbody`), date: at(2) },
  { name: 'noid-nofinal', raw: build(head('no final newline'), `${marker('noid-nofinal')}\r\nthe end`, false), date: at(3) },
  { name: 'mid-8bit', raw: build(head('Grüße mit Id', ['Message-ID: <mid-8bit@example.org>']), `${marker('mid-8bit')}\r\nbody`), date: at(4) },
  { name: 'mid-nofinal', raw: build(head('id, no final newline', ['Message-ID: <mid-nofinal@example.org>']), `${marker('mid-nofinal')}\r\nthe end`, false), date: at(5) },
  // One Message-ID, two contents, one INTERNALDATE: the sent copy and its mailing-list echo are both kept.
  { name: 'sent-copy', raw: build(head('hello list', ['Message-ID: <same@example.org>']), `${marker('sent-copy')}\r\nhello`), date: at(6) },
  { name: 'list-echo', raw: build(head('[list] hello list', ['Message-ID: <same@example.org>', 'List-Id: <list.example.org>']), `${marker('list-echo')}\r\nhello\r\n-- \r\nlist footer`), date: at(6) },
  // Same Message-ID and date, different content two bytes longer (the CRLF Courier adds): the
  // destination already holds the longer one (PLUS2_B), so the shorter must still be appended.
  { name: 'plus2-a', raw: build(head('two bytes', ['Message-ID: <plus2@example.org>']), `${marker('plus2-a')}\r\nab`), date: at(7) },
];
/** Not in the source: put on the destination by another client before the first run. */
const PLUS2_B: Fixture = { name: 'plus2-b', raw: build(head('two bytes', ['Message-ID: <plus2@example.org>']), `${marker('plus2-b')}\r\nabcd`), date: at(7) };
/** For the UIDVALIDITY test: a folder of its own. */
const ARCHIV: Fixture[] = [0, 1, 2].map((i) => ({ name: `archiv-${i}`, raw: build(head(`archiv ${i}`, [`Message-ID: <archiv-${i}@example.org>`]), `${marker(`archiv-${i}`)}\r\nbody`), date: at(20 + i) }));

/** Marker -> how often the account holds it, over every selectable folder. */
async function markers(port: number, user: string): Promise<Map<string, number>> {
  const c = await openSession(account(port, user), { utf8Names: false });
  const out = new Map<string, number>();
  try {
    for (const f of await c.list()) {
      if (f.flags.has('\\Noselect') || f.flags.has('\\NonExistent')) continue;
      const box = await c.mailboxOpen(f.path, { readOnly: true });
      if (!box.exists) continue;
      for await (const m of c.fetch('1:*', { uid: true, source: true }, { uid: true })) {
        const found = /mk-fixture-[a-z0-9-]+/.exec(m.source!.toString('latin1'))?.[0] ?? `unmarked ${m.uid}`;
        out.set(found, (out.get(found) ?? 0) + 1);
      }
    }
  } finally {
    await c.logout();
  }
  return out;
}

const once = (list: Fixture[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const f of list) {
    const k = /mk-fixture-[a-z0-9-]+/.exec(f.raw.toString('latin1'))![0];
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
};

describe.skipIf(!AVAILABLE)('reruns into servers that store messages differently append nothing twice', () => {
  const running = new Map<string, Running>();
  let source: Running;
  let archive: string;
  let tmp: string;
  const records = (name: string): string => path.join(tmp, `records-${name}`);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-same-'));
    await Promise.all(TARGETS.map(async (t) => running.set(t.id, await t.start(USERS.map((name) => ({ name, password: pw(name) }))))));
    source = running.get('dovecot')!;
    const c = await openSession(account(source.port, 'src'), { utf8Names: false });
    try {
      for (const f of FIXTURES) await c.append('INBOX', f.raw, ['\\Seen'], f.date);
      await c.mailboxCreate('Archiv');
      for (const f of ARCHIV) await c.append('Archiv', f.raw, [], f.date);
    } finally {
      await c.logout();
    }
    await Promise.all(
      TARGETS.flatMap((t) =>
        ['rest', 'mig'].map(async (user) => {
          const d = await openSession(account(running.get(t.id)!.port, user), { utf8Names: false });
          await d.append('INBOX', PLUS2_B.raw, [], PLUS2_B.date);
          await d.logout();
        }),
      ),
    );
    archive = path.join(tmp, 'archive');
    expect((await runBackup({ archiveDir: archive, account: account(source.port, 'src') })).status).toBe('completed');
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...running.values()].map((r) => r.stop()));
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const all = [...FIXTURES, ...ARCHIV];

  for (const t of TARGETS)
    it.concurrent(`${t.label}: three restores (with the append record, without it, with it) and a dry run hold every message exactly once`, async () => {
      const port = running.get(t.id)!.port;
      const run = (recordDir?: string, dryRun = false) => runRestore({ archiveDir: archive, target: account(port, 'rest'), dryRun, ...(recordDir ? { appendRecordsDir: recordDir } : {}) });
      const r1 = await run(records(`${t.id}-rest`));
      expect(r1, r1.message ?? '').toMatchObject({ status: 'completed', restored: all.length, alreadyPresent: 0 });
      const r2 = await run(records(`${t.id}-rest`));
      expect(r2, r2.message ?? '').toMatchObject({ status: 'completed', restored: 0, alreadyPresent: all.length });
      const r3 = await run();
      expect(r3, r3.message ?? '').toMatchObject({ status: 'completed', restored: 0, alreadyPresent: all.length });
      for (const dir of [records(`${t.id}-rest`), undefined]) {
        const dry = await run(dir, true);
        expect(dry.plan).toMatchObject({ toAppend: 0, alreadyPresent: all.length });
      }
      expect(await markers(port, 'rest')).toEqual(once([...all, PLUS2_B]));
    }, 120_000);

  for (const t of TARGETS.filter((x) => x.id !== 'dovecot'))
    it.concurrent(`${t.label}: three migrates from Dovecot (with the append record, without it, with it) and a dry run hold every message exactly once`, async () => {
      const port = running.get(t.id)!.port;
      const run = (recordDir?: string, dryRun = false) =>
        runMigrate({ source: account(source.port, 'src'), destination: account(port, 'mig'), dryRun, ...(recordDir ? { appendRecordsDir: recordDir } : {}) });
      const m1 = await run(records(`${t.id}-mig`));
      expect(m1, m1.message ?? '').toMatchObject({ status: 'completed', migrated: all.length, alreadyPresent: 0 });
      const m2 = await run(records(`${t.id}-mig`));
      expect(m2, m2.message ?? '').toMatchObject({ status: 'completed', migrated: 0, alreadyPresent: all.length });
      const m3 = await run();
      expect(m3, m3.message ?? '').toMatchObject({ status: 'completed', migrated: 0, alreadyPresent: all.length });
      for (const dir of [records(`${t.id}-mig`), undefined]) {
        const dry = await run(dir, true);
        expect(dry.plan).toMatchObject({ toCopy: 0, alreadyPresent: all.length });
      }
      expect(await markers(port, 'mig')).toEqual(once([...all, PLUS2_B]));
    }, 120_000);

  for (const t of TARGETS.filter((x) => x.id !== 'dovecot'))
    it.concurrent(`${t.label}: a connection lost after the server stored a message but before Mailkeep saw its APPENDUID (so nothing was recorded) is still found on the retry, by restore and by migrate`, async () => {
      const port = running.get(t.id)!.port;
      for (const job of ['restore', 'migrate'] as const) {
        let cut = 0;
        // The tagged OK [APPENDUID ...] of the first APPEND never reaches the relay: the server holds
        // the message, the record does not.
        // Without COMPRESS (Cyrus offers it, imapflow takes it): the proxy must read the answers.
        const proxy = await startTamperProxy(
          { host: '127.0.0.1', port },
          { rewrite: (text) => text.replace(/ COMPRESS=DEFLATE/gi, ''), cutBeforeServerText: (text) => cut === 0 && /APPENDUID/i.test(text) && ++cut === 1 },
        );
        try {
          const user = job === 'restore' ? 'crashr' : 'crashm';
          const dir = records(`${t.id}-${job}-crash`);
          const retry = { maxAttempts: 3, baseDelayMs: 10 };
          const r =
            job === 'restore'
              ? await runRestore({ archiveDir: archive, target: account(proxy.port, user), appendRecordsDir: dir, retry })
              : await runMigrate({ source: account(source.port, 'src'), destination: account(proxy.port, user), appendRecordsDir: dir, retry });
          expect(r.status, r.message ?? '').toBe('completed');
          expect(r.attempts, JSON.stringify({ job, cut, r: { ...r, plan: null } })).toBe(2);
          expect(cut).toBe(1);
          expect(await markers(port, user)).toEqual(once(all));
        } finally {
          await proxy.close();
        }
      }
    }, 120_000);

  for (const t of TARGETS)
    it.concurrent(`${t.label}: messages changed in ways no key knows (a body word, a Message-ID) are still found through the append record, by restore and by migrate, and only through it`, async () => {
      const port = running.get(t.id)!.port;
      // One address for every run (the record is per destination address); the rewriting starts after the first run.
      // Same sizes: a body word of the message without Message-ID in INBOX, the Message-ID of one in Archiv.
      let rewriting = false;
      const proxy = await startTamperProxy(
        { host: '127.0.0.1', port },
        {
          // Without COMPRESS (Cyrus offers it, imapflow takes it): the proxy must read the answers.
          rewrite: (text) => {
            const plain = text.replace(/ COMPRESS=DEFLATE/gi, '');
            return rewriting ? plain.replace(/\r\nplain/g, '\r\nPLAIN').replace(/<archiv-1@/g, '<archiw-1@') : plain;
          },
        },
      );
      try {
        for (const job of ['restore', 'migrate'] as const) {
          rewriting = false;
          const dir = records(`${t.id}-${job}-rec`);
          const run = (dryRun = false, recordDir: string | null = dir) => {
            const recordsOpt = recordDir ? { appendRecordsDir: recordDir } : {};
            return job === 'restore'
              ? runRestore({ archiveDir: archive, target: account(proxy.port, 'rec'), dryRun, ...recordsOpt })
              : runMigrate({ source: account(source.port, 'src'), destination: account(proxy.port, 'recm'), dryRun, ...recordsOpt });
          };
          const first = await run();
          expect(first, first.message ?? '').toMatchObject({ status: 'completed', [job === 'restore' ? 'restored' : 'migrated']: all.length });
          rewriting = true;
          const withRecord = await run();
          expect(withRecord, withRecord.message ?? '').toMatchObject({ status: 'completed', [job === 'restore' ? 'restored' : 'migrated']: 0, alreadyPresent: all.length });
          expect(await markers(port, job === 'restore' ? 'rec' : 'recm')).toEqual(once(all));
          const keysOnly = await run(true, null);
          expect(keysOnly.plan).toMatchObject({ [job === 'restore' ? 'toAppend' : 'toCopy']: 2, alreadyPresent: all.length - 2 });
        }
      } finally {
        await proxy.close();
      }
    }, 120_000);

  it('a folder whose UIDVALIDITY changed has its append record ignored: messages under the recorded UIDs and dates but with other content do not stand in for the restored ones', async () => {
    const port = running.get('dovecot')!.port;
    const dir = records('uv');
    const run = () => runRestore({ archiveDir: archive, target: account(port, 'uv'), scope: { folder: 'Archiv' }, appendRecordsDir: dir });
    const r1 = await run();
    expect(r1, r1.message ?? '').toMatchObject({ status: 'completed', restored: ARCHIV.length });
    const c = await openSession(account(port, 'uv'), { utf8Names: false });
    try {
      const uidValidity = async (): Promise<bigint | undefined> => {
        const st = await c.status('Archiv', { uidValidity: true });
        return st ? st.uidValidity : undefined;
      };
      const before = await uidValidity();
      // Recreated: a new UIDVALIDITY (Dovecot's is a time in seconds: a few tries at most), the
      // same UIDs 1..3 and the same INTERNALDATEs, other messages.
      let after = before;
      for (let tries = 0; after === before; tries++) {
        if (tries === 10) throw new Error(`Dovecot kept UIDVALIDITY ${before} over ${tries} recreations`);
        if (tries) await new Promise((r) => setTimeout(r, 300));
        await c.mailboxDelete('Archiv');
        await c.mailboxCreate('Archiv');
        after = await uidValidity();
      }
      for (const f of ARCHIV) await c.append('Archiv', build(head('impostor', [`Message-ID: <impostor-${f.name}@example.org>`]), 'mk-fixture-impostor\r\nx'), [], f.date);
    } finally {
      await c.logout();
    }
    const r2 = await run();
    expect(r2, r2.message ?? '').toMatchObject({ status: 'completed', restored: ARCHIV.length, alreadyPresent: 0 });
    expect(await markers(port, 'uv')).toEqual(new Map([...once(ARCHIV), ['mk-fixture-impostor', ARCHIV.length]]));
  }, 60_000);

  describe('a message archived with bare LF line endings', () => {
    let fake: FakeImap;
    let lfArchive: string;
    const LF_MESSAGES = [
      { uid: 1, raw: Buffer.from(`From: a@example.org\nSubject: bare LF, no id\n\n${marker('lf-noid')}\nline two\n`) },
      { uid: 2, raw: Buffer.from(`From: a@example.org\nSubject: bare LF\nMessage-ID: <lf@example.org>\n\n${marker('lf-mid')}\nline two`) },
    ];
    beforeAll(async () => {
      fake = await startFakeImap({ folders: { INBOX: LF_MESSAGES }, password: pw('lf') });
      lfArchive = path.join(tmp, 'lf-archive');
      expect((await runBackup({ archiveDir: lfArchive, account: { ...account(fake.port, 'lf') } })).status).toBe('completed');
    });
    afterAll(async () => {
      await fake?.close();
    });

    for (const t of TARGETS)
      it(`into ${t.label}: restored twice (and once more without the record) it is there once, or refused with MESSAGE_REFUSED and the server's reason`, async () => {
        const port = running.get(t.id)!.port;
        const run = (dir?: string) => runRestore({ archiveDir: lfArchive, target: account(port, 'lf'), ...(dir ? { appendRecordsDir: dir } : {}) });
        const r1 = await run(records(`${t.id}-lf`));
        if (t.id === 'cyrus') {
          expect(r1.status).toBe('partially_complete');
          expect(r1.skipped.map((s) => s.code)).toEqual(['MESSAGE_REFUSED', 'MESSAGE_REFUSED']);
          expect(r1.skipped[0]!.reason).toMatch(/bare newlines/i);
          expect(await markers(port, 'lf')).toEqual(new Map());
          return;
        }
        expect(r1, r1.message ?? '').toMatchObject({ status: 'completed', restored: 2 });
        for (const dir of [records(`${t.id}-lf`), undefined]) {
          const again = await run(dir);
          expect(again, again.message ?? '').toMatchObject({ status: 'completed', restored: 0, alreadyPresent: 2 });
        }
        expect(await markers(port, 'lf')).toEqual(new Map([[marker('lf-noid'), 1], [marker('lf-mid'), 1]]));
      }, 60_000);
  });
});

