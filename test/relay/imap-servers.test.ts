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

const SERVERS: { label: string; available: () => boolean; start: () => Promise<Running> }[] = [
  { label: 'Dovecot', available: dovecotAvailable, start: async () => await startDovecot({ users: [USER] }) },
  { label: 'Cyrus with the Debian default namespace', available: cyrusAvailable, start: async () => await startCyrus({ users: [USER], namespace: 'default' }) },
  { label: 'Cyrus with / and altnamespace', available: cyrusAvailable, start: async () => await startCyrus({ users: [USER], namespace: 'altnamespace' }) },
  { label: 'Courier', available: courierAvailable, start: async () => await startCourier({ users: [USER] }) },
];

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
  });
}
