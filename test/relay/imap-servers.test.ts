/**
 * Each real IMAP server the integration tests use starts on loopback, takes a login, a nested
 * non-ASCII folder and a message with a keyword and an old date, gives them back unchanged, and is
 * backed up completely by the Mailkeep CLI. Cyrus and Courier come from
 * scripts/install-imap-servers.sh; under CI a missing server fails these tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapFlow } from 'imapflow';
import { courierAvailable, startCourier } from '../support/courier.ts';
import { cyrusAvailable, startCyrus } from '../support/cyrus.ts';
import { dovecotAvailable, startDovecot } from '../support/dovecot.ts';
import { archiveState, serverState } from '../support/mailbox-state.ts';
import { runCli } from '../support/run-cli.ts';
import { listWithoutUtf8 } from '../support/list-without-utf8.ts';

const USER = { name: 'alice', password: 'alice-Secret-pw' };
const OLD_DATE = new Date('2003-02-01T10:20:30.000Z');
const KEYWORD = 'Projekt_X';
/** Segments of the nested folder; joined with each server's delimiter under its personal prefix. */
const SEGMENTS = ['Projekte 2003', 'Grüße Ünïcödé'];
const MESSAGE = Buffer.from(
  'From: Ann <ann@example.org>\r\nTo: Alice <alice@example.net>\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nDate: Sat, 1 Feb 2003 10:20:30 +0000\r\n' +
    'Message-ID: <imap-servers-1@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHallo,\r\nbis bald.\r\n',
);

interface Running {
  port: number;
  client(user: string, password: string): Promise<ImapFlow>;
  stop(): Promise<void>;
}

/** A user for the probes of what each server does to stored messages, apart from the backed-up account. */
const PROBE = { name: 'probe', password: 'probe-Secret-pw' };
/** A user with a ~200 KB storage quota. */
const QUOTA = { name: 'quota', password: 'quota-Secret-pw' };

/**
 * What each server does differently, as observed (docs/testing.md has the table). Issue 10 builds on
 * these; a server update that changes one fails here first.
 */
interface Quirks {
  /** A message with bare LF line endings. */
  bareLf: 'stored with CRLF' | 'refused';
  /** A message whose last line has no line ending. */
  noFinalNewline: 'kept' | 'CRLF appended';
  /** 8-bit bytes in a header. */
  eightBitHeader: 'kept' | "masked with 'X'";
  /** The size SEARCH LARGER/SMALLER compare with. */
  searchSize: 'RFC822.SIZE' | 'RFC822.SIZE without CRs';
  utf8Accept: boolean;
  /** How CREATE of an existing folder ends: imapflow's { created: false }, or the server's NO text. */
  createExisting: 'not created' | RegExp;
  overQuota: { code: string | undefined; text: RegExp };
  /** What a client without UTF-8 sees on LIST after an emoji folder was created with UTF8=ACCEPT. */
  emojiFolderForOldClients: 'listed in modified UTF-7' | 'connection dropped';
}

const DOVECOT_QUIRKS: Quirks = {
  bareLf: 'stored with CRLF',
  noFinalNewline: 'kept',
  eightBitHeader: 'kept',
  searchSize: 'RFC822.SIZE',
  utf8Accept: false,
  createExisting: 'not created',
  overQuota: { code: 'OVERQUOTA', text: /Quota exceeded/ },
  emojiFolderForOldClients: 'listed in modified UTF-7',
};
const CYRUS_QUIRKS: Quirks = {
  bareLf: 'refused',
  noFinalNewline: 'kept',
  eightBitHeader: "masked with 'X'",
  searchSize: 'RFC822.SIZE',
  utf8Accept: false,
  createExisting: /^NO Mailbox already exists/,
  overQuota: { code: undefined, text: /^NO Over quota/ },
  emojiFolderForOldClients: 'listed in modified UTF-7',
};
const COURIER_QUIRKS: Quirks = {
  bareLf: 'stored with CRLF',
  noFinalNewline: 'CRLF appended',
  eightBitHeader: 'kept',
  searchSize: 'RFC822.SIZE without CRs',
  utf8Accept: true,
  createExisting: /^NO Cannot create this folder/,
  overQuota: { code: 'ALERT', text: /You exceeded your mail quota/ },
  emojiFolderForOldClients: 'connection dropped',
};

const SERVERS: { label: string; available: () => boolean; start: () => Promise<Running>; quirks: Quirks }[] = [
  {
    label: 'Dovecot',
    available: dovecotAvailable,
    start: async () => await startDovecot({ users: [USER, PROBE, { ...QUOTA, quota: '200K' }] }),
    quirks: DOVECOT_QUIRKS,
  },
  {
    label: 'Cyrus with the Debian default namespace',
    available: cyrusAvailable,
    start: async () => await startCyrus({ users: [USER, PROBE, { ...QUOTA, quotaKiB: 200 }], namespace: 'default' }),
    quirks: CYRUS_QUIRKS,
  },
  {
    label: 'Cyrus with / and altnamespace',
    available: cyrusAvailable,
    start: async () => await startCyrus({ users: [USER, PROBE, { ...QUOTA, quotaKiB: 200 }], namespace: 'altnamespace' }),
    quirks: CYRUS_QUIRKS,
  },
  {
    label: 'Courier',
    available: courierAvailable,
    start: async () => await startCourier({ users: [USER, PROBE, { ...QUOTA, quotaBytes: 200_000 }] }),
    quirks: COURIER_QUIRKS,
  },
];

const crlf = (b: Buffer): Buffer => Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
const withoutCr = (b: Buffer): number => b.length - b.toString('latin1').split('\r').length + 1;
const BARE_LF = Buffer.from('From: a@example.org\nSubject: bare LF\nMessage-ID: <lf@example.org>\n\nline one\nline two\n');
const NO_FINAL_NEWLINE = Buffer.from('From: a@example.org\r\nSubject: no final newline\r\nMessage-ID: <noeol@example.org>\r\n\r\nlast line without CRLF');
const EIGHT_BIT_HEADER = Buffer.concat([
  Buffer.from('From: a@example.org\r\nSubject: Gr'),
  Buffer.from([0xc3, 0xbc, 0xc3, 0x9f]), // raw UTF-8 "üß"
  Buffer.from('e\r\nX-Name: J'),
  Buffer.from([0xf6]), // raw Latin-1 "ö"
  Buffer.from('rg\r\nMessage-ID: <8bit@example.org>\r\n\r\nbody\r\n'),
]);

/** Appends to a fresh folder and reads the message back: its bytes, RFC822.SIZE and UID. */
async function appendAndRead(c: ImapFlow, folder: string, raw: Buffer): Promise<{ source: Buffer; size: number; uid: number; appendUid: number | undefined }> {
  await c.mailboxCreate(folder);
  const appended = await c.append(folder, raw, ['\\Seen'], OLD_DATE);
  await c.mailboxOpen(folder);
  const m = await c.fetchOne('*', { uid: true, size: true, source: true });
  if (m === false) throw new Error(`nothing in ${folder} after APPEND`);
  return { source: m.source!, size: m.size!, uid: m.uid, appendUid: appended ? appended.uid : undefined };
}

/** The smallest n for which SEARCH LARGER n no longer finds the message: the size the server searches with. */
async function searchedSize(c: ImapFlow, uid: number, upTo: number): Promise<number> {
  let lo = 0;
  let hi = upTo;
  while (lo < hi) {
    const n = (lo + hi) >> 1;
    const hits = (await c.search({ uid: String(uid), larger: n }, { uid: true })) || [];
    if (hits.includes(uid)) lo = n + 1;
    else hi = n;
  }
  return lo;
}


for (const server of SERVERS) {
  describe.skipIf(!server.available())(`real IMAP server: ${server.label}`, () => {
    let running: Running;
    let folder = '';
    const tmp: string[] = [];

    beforeAll(async () => {
      const t0 = performance.now();
      running = await server.start();
      // A record for the report, not an assertion: start times depend on the machine's load.
      console.log(`${server.label}: started in ${Math.round(performance.now() - t0)} ms`);
    }, 60_000);

    afterAll(async () => {
      await running?.stop();
      for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
    });

    it('takes a login and keeps a keyword, an old date and the exact size of a message appended to a nested non-ASCII folder', async () => {
      const c = await running.client(USER.name, USER.password);
      try {
        const ns = c.namespaces?.personal?.[0] ?? { prefix: '', delimiter: '/' };
        const delimiter = ns.delimiter ?? '/';
        console.log(`${server.label}: personal namespace prefix ${JSON.stringify(ns.prefix)}, delimiter ${JSON.stringify(delimiter)}`);
        // imapflow puts a path without the prefix under it itself; we name it in full, as the server demands
        folder = ns.prefix + SEGMENTS.join(delimiter);
        await c.mailboxCreate(folder);
        const listed = (await c.list()).map((f) => f.path);
        expect(listed).toContain(folder);

        const appended = await c.append(folder, MESSAGE, ['\\Seen', KEYWORD], OLD_DATE);
        expect(appended).toMatchObject({ destination: folder });
        await c.mailboxOpen(folder, { readOnly: true });
        const got = await c.fetchOne('*', { flags: true, internalDate: true, size: true, source: true });
        expect(got).not.toBe(false);
        if (got === false) return;
        expect([...(got.flags ?? [])].filter((f) => f !== '\\Recent').sort()).toEqual([KEYWORD, '\\Seen'].sort());
        expect(new Date(got.internalDate!).toISOString()).toBe(OLD_DATE.toISOString());
        expect(got.size).toBe(MESSAGE.length);
        expect(got.source!.equals(MESSAGE)).toBe(true);
      } finally {
        await c.logout();
      }
    });

    it('is backed up completely by the Mailkeep CLI: every folder, message, flag and date of the account', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-servers-arch-'));
      tmp.push(dir);
      const cli = await runCli(
        ['backup', '--archive', dir, '--host', '127.0.0.1', '--port', String(running.port), '--security', 'none', '--user', USER.name, '--password-env', 'MK_PW', '--json'],
        { MK_PW: USER.password },
      );
      expect(cli.json, cli.stderr).toMatchObject({ kind: 'backup', status: 'Completed', errors: [] });
      const c = await running.client(USER.name, USER.password);
      const onServer = await serverState(c);
      await c.logout();
      expect(onServer.get(folder)).toHaveLength(1);
      expect(archiveState(dir)).toEqual(new Map([...onServer].filter(([, msgs]) => msgs.length > 0)));
    });

    describe('what it does to what it stores (docs/testing.md)', () => {
      let c: ImapFlow;
      let prefix = '';
      beforeAll(async () => {
        c = await running.client(PROBE.name, PROBE.password);
        prefix = c.namespaces?.personal?.[0]?.prefix ?? '';
      });
      afterAll(async () => await c?.logout());

      it(`a message with bare LF line endings is ${server.quirks.bareLf}`, async () => {
        if (server.quirks.bareLf === 'refused') {
          await c.mailboxCreate(`${prefix}BareLf`);
          await expect(c.append(`${prefix}BareLf`, BARE_LF, [], OLD_DATE)).rejects.toMatchObject({ responseText: 'Message contains bare newlines' });
        } else {
          const got = await appendAndRead(c, `${prefix}BareLf`, BARE_LF);
          expect(got.source.equals(crlf(BARE_LF))).toBe(true);
          expect(got.size).toBe(crlf(BARE_LF).length);
        }
      });

      it(`a message whose last line has no line ending is ${server.quirks.noFinalNewline}`, async () => {
        const got = await appendAndRead(c, `${prefix}NoFinalNewline`, NO_FINAL_NEWLINE);
        const expected = server.quirks.noFinalNewline === 'kept' ? NO_FINAL_NEWLINE : Buffer.concat([NO_FINAL_NEWLINE, Buffer.from('\r\n')]);
        expect(got.source.equals(expected)).toBe(true);
        expect(got.size).toBe(expected.length);
      });

      it(`8-bit bytes in a header are ${server.quirks.eightBitHeader}, at the same size`, async () => {
        const got = await appendAndRead(c, `${prefix}EightBit`, EIGHT_BIT_HEADER);
        const expected =
          server.quirks.eightBitHeader === 'kept'
            ? EIGHT_BIT_HEADER
            : Buffer.from(EIGHT_BIT_HEADER.toString('latin1').replace(/^(.*?\r\n\r\n)/s, (h) => h.replace(/[\x80-\xff]/g, 'X')), 'latin1');
        expect(got.source.toString('latin1')).toBe(expected.toString('latin1'));
        expect(got.size).toBe(EIGHT_BIT_HEADER.length);
      });

      it(`SEARCH LARGER and SMALLER compare with the ${server.quirks.searchSize}`, async () => {
        const got = await appendAndRead(c, `${prefix}SearchSize`, EIGHT_BIT_HEADER);
        const expected = server.quirks.searchSize === 'RFC822.SIZE' ? got.size : withoutCr(got.source);
        expect(await searchedSize(c, got.uid, 2 * got.size)).toBe(expected);
        const smaller = (await c.search({ uid: String(got.uid), smaller: got.size }, { uid: true })) || [];
        // SMALLER n means size < n: the message is found at its own RFC822.SIZE only where CRs are not counted
        expect(smaller.includes(got.uid)).toBe(server.quirks.searchSize !== 'RFC822.SIZE');
      });

      it('answers APPEND with APPENDUID (UIDPLUS), the UID the message then has', async () => {
        expect(c.capabilities.has('UIDPLUS')).toBe(true);
        const got = await appendAndRead(c, `${prefix}AppendUid`, MESSAGE);
        expect(got.appendUid).toBe(got.uid);
      });

      it(`${server.quirks.utf8Accept ? 'offers' : 'does not offer'} UTF8=ACCEPT, and imapflow enables it where offered`, () => {
        expect(c.capabilities.has('UTF8=ACCEPT')).toBe(server.quirks.utf8Accept);
        expect([...(c.enabled ?? [])].includes('UTF8=ACCEPT')).toBe(server.quirks.utf8Accept);
      });

      it('answers CREATE of an existing folder as recorded', async () => {
        await c.mailboxCreate(`${prefix}Twice`);
        if (server.quirks.createExisting === 'not created') {
          await expect(c.mailboxCreate(`${prefix}Twice`)).resolves.toMatchObject({ created: false });
        } else {
          const err = (await c.mailboxCreate(`${prefix}Twice`).then(() => null, (e: unknown) => e)) as { response?: string } | null;
          expect(String(err?.response).replace(/^\S+ /, '')).toMatch(server.quirks.createExisting);
        }
      });

      it(`after an emoji folder is created through imapflow, a client without UTF-8 gets: ${server.quirks.emojiFolderForOldClients}`, async () => {
        await c.mailboxCreate(`${prefix}Ünïcödé ✓ 📧`);
        expect((await c.list()).map((f) => f.path)).toContain(`${prefix}Ünïcödé ✓ 📧`);
        const old = await listWithoutUtf8(running.port, PROBE.name, PROBE.password);
        if (server.quirks.emojiFolderForOldClients === 'connection dropped') {
          expect(old.closed).toBe(true);
        } else {
          expect(old.closed).toBe(false);
          expect(old.lines.some((l) => l.includes('&ANw-n&AO8-c&APY-d&AOk- &JxM- &2D3c5w-'))).toBe(true);
        }
      });

      it('refuses an APPEND over quota with its own answer, and the session stays usable', async () => {
        const q = await running.client(QUOTA.name, QUOTA.password);
        try {
          const big = Buffer.from(`From: a@example.org\r\nSubject: big\r\n\r\n${`${'x'.repeat(998)}\r\n`.repeat(50)}`);
          type Refusal = { serverResponseCode?: string; response?: string };
          const tryAppend = async (): Promise<Refusal | null> => await q.append('INBOX', big, []).then(() => null, (e: unknown) => e as Refusal);
          let accepted = 0;
          let refusal = await tryAppend();
          // 200 KB of quota holds 3-4 of these 50 KB messages; 20 means the quota is not enforced
          while (refusal === null && accepted < 20) {
            accepted++;
            refusal = await tryAppend();
          }
          expect(accepted).toBeGreaterThan(0);
          expect(refusal?.serverResponseCode).toBe(server.quirks.overQuota.code);
          expect(String(refusal?.response).replace(/^\S+ /, '')).toMatch(server.quirks.overQuota.text);
          const status = await q.status('INBOX', { messages: true });
          expect(status && status.messages).toBe(accepted);
        } finally {
          await q.logout();
        }
      });
    });
  });
}
