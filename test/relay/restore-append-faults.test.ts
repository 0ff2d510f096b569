import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchiveForReading } from '../../relay/archive/archive-reader.ts';
import type { ImapAccount } from '../../relay/imap/session.ts';
import { BlobReader } from '../../relay/jobs/restore-blob.ts';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startFakeAppendServer } from '../support/fake-append-server.ts';
import { bigMessage } from '../support/large-message.ts';

const pw = (u: string): string => `${u}-Faults-pw`;
const REFUSED = 'X-Test: refuse me';
/** A destination account on the fake server (it accepts any password). */
const fake = (port: number): ImapAccount => ({ host: '127.0.0.1', port, security: 'none', user: 'dst', password: 'any-Secret-pw' });

describe.skipIf(!dovecotAvailable())('restore when the destination refuses or trickles an APPEND', () => {
  let dc: Dovecot;
  let work: string;
  const archive = (u: string): string => path.join(work, u);

  beforeAll(async () => {
    dc = await startDovecot({ users: ['src', 'big'].map((name) => ({ name, password: pw(name) })) });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-restore-faults-'));
    const c = await dc.client('src', pw('src'));
    const msgs = generatedMessages(4, 31, { prefix: 'refuse' });
    msgs.splice(2, 0, Buffer.from(`From: a@example.org\r\nSubject: the one over the limit\r\nMessage-ID: <over@example.org>\r\n${REFUSED}\r\n\r\nbody\r\n`));
    for (const [i, m] of msgs.entries()) await c.append('INBOX', m, i === 2 ? ['\\Seen', '$Label1'] : i === 0 ? ['\\Flagged', 'Projekt_X'] : ['\\Seen'], new Date(Date.UTC(2011, 2, 3, 4, 5, i)));
    await c.logout();
    const b = await dc.client('big', pw('big'));
    await b.append('INBOX', generatedMessages(1, 32, { prefix: 'small' })[0]!, ['\\Seen']);
    // Over the streaming threshold (4 MiB): the streamed path, with a synchronizing literal.
    await b.append('INBOX', bigMessage('From: big@example.org\r\nSubject: big\r\nMessage-ID: <trickle@example.org>\r\n\r\n', 5), ['\\Seen']);
    await b.logout();
    for (const u of ['src', 'big']) {
      const r = await runBackup({ archiveDir: archive(u), account: { host: '127.0.0.1', port: dc.port, security: 'none', user: u, password: pw(u) } });
      expect(r.status).toBe('completed');
    }
  }, 60_000);

  afterAll(async () => {
    await dc?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (dc) fs.rmSync(dc.dir, { recursive: true, force: true });
  });

  for (const code of ['LIMIT', 'TOOBIG']) {
    it(`a NO [${code}] on one APPEND skips that message as APPENDLIMIT_EXCEEDED and restores the others: Partially Complete`, async () => {
      const server = await startFakeAppendServer({ literalPlus: true, faults: { refuse: { match: (raw) => raw.includes(REFUSED), response: `[${code}] Message too large` } } });
      try {
        const r = await runRestore({ archiveDir: archive('src'), target: fake(server.port), retry: { maxAttempts: 1 } });
        expect(r.status, r.message ?? '').toBe('partially_complete');
        expect(r.errorCode).toBe('APPENDLIMIT_EXCEEDED');
        expect(r).toMatchObject({ restored: 4, notRestored: 1 });
        expect(r.skipped).toEqual([expect.objectContaining({ code: 'APPENDLIMIT_EXCEEDED', folder: 'INBOX' })]);
        expect(r.skipped[0]!.reason).toMatch(/too large/);
        expect(server.appended).toHaveLength(4);
        expect(server.appended.some((m) => m.raw.includes(REFUSED))).toBe(false);
      } finally {
        await server.close();
      }
    });
  }

  it('a NO [LIMIT] that is about keywords (RFC 5530: too many flags) is retried with the system flags only and restored', async () => {
    const server = await startFakeAppendServer({ faults: { refuse: { match: (_raw, flags) => flags.some((f) => !f.startsWith('\\')), response: '[LIMIT] Too many keywords' } } });
    try {
      const r = await runRestore({ archiveDir: archive('src'), target: fake(server.port), retry: { maxAttempts: 1 } });
      expect(r).toMatchObject({ status: 'completed', restored: 5, skipped: [] });
      expect(server.appended.flatMap((m) => m.flags).every((f) => f.startsWith('\\'))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('a large blob damaged in the archive is skipped as ARCHIVE_CORRUPT before any byte of it is sent; the rest is restored', async () => {
    const copy = path.join(work, 'big-damaged');
    fs.cpSync(archive('big'), copy, { recursive: true });
    const db = openArchiveForReading(copy);
    const victim = db.prepare<[], { hash: string; file: string; offset: number; length: number }>('SELECT b.hash, p.file, b.offset, b.length FROM blobs b JOIN packs p ON p.id = b.pack_id ORDER BY b.length DESC LIMIT 1').get()!;
    db.close();
    expect(victim.length).toBeGreaterThan(4 * 1024 * 1024);
    const fd = fs.openSync(path.join(copy, 'packs', victim.file), 'r+');
    const at = victim.offset + victim.length - 10; // in the last chunk: the stream's hash check must hold it back
    const byte = Buffer.alloc(1);
    fs.readSync(fd, byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    fs.writeSync(fd, byte, 0, 1, at);
    fs.closeSync(fd);
    const server = await startFakeAppendServer({ literalPlus: true });
    try {
      const r = await runRestore({ archiveDir: copy, target: fake(server.port), retry: { maxAttempts: 1 } });
      expect(r).toMatchObject({ status: 'partially_complete', errorCode: 'ARCHIVE_CORRUPT', restored: 1, notRestored: 1 });
      expect(r.skipped).toEqual([expect.objectContaining({ code: 'ARCHIVE_CORRUPT', hash: victim.hash })]);
      expect(server.appended).toHaveLength(1);
      expect(server.commands.filter((c) => / APPEND /i.test(c))).toHaveLength(1);
      // The chunked reader on its own: every chunk but the last comes out, then the damage is named.
      const rdb = openArchiveForReading(copy);
      const blobs = new BlobReader(rdb, copy);
      let yielded = 0;
      await expect((async () => {
        for await (const chunk of blobs.stream(victim.hash)) yielded += chunk.length;
      })()).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
      expect(yielded).toBeLessThan(victim.length);
      blobs.close();
      rdb.close();
    } finally {
      await server.close();
    }
  });

  it('small messages go as LITERAL+ literals where the server offers it (no wait for "+"), with their flags, keywords and INTERNALDATE', async () => {
    for (const literalPlus of [true, false]) {
      const server = await startFakeAppendServer({ literalPlus });
      try {
        const r = await runRestore({ archiveDir: archive('src'), target: fake(server.port), retry: { maxAttempts: 1 } });
        expect(r).toMatchObject({ status: 'completed', restored: 5 });
        expect(server.appended.map((m) => m.nonSync)).toEqual(Array(5).fill(literalPlus));
        const byDate = [...server.appended].sort((a, b) => a.internalDate!.localeCompare(b.internalDate!));
        expect(byDate.map((m) => m.internalDate)).toEqual([0, 1, 2, 3, 4].map((s) => ` 3-Mar-2011 04:05:0${s} +0000`));
        expect(byDate[0]!.flags.sort()).toEqual(['Projekt_X', '\\Flagged']);
        expect(byDate[2]!.flags.sort()).toEqual(['$Label1', '\\Seen']);
      } finally {
        await server.close();
      }
    }
  });

  it('a destination that reads a streamed literal at a trickle is cut at the minimum-rate deadline: Retrying, then Cancelled with the reason', async () => {
    const server = await startFakeAppendServer({ faults: { trickle: { bytes: 16 * 1024, everyMs: 50 } } });
    const events: { status: string; code?: string }[] = [];
    try {
      const r = await runRestore(
        { archiveDir: archive('big'), target: fake(server.port), retry: { maxAttempts: 2, baseDelayMs: 10 }, appendDeadline: { baseMs: 1_000, minBytesPerSecond: 2 * 1024 * 1024 } },
        { onStatus: (status, d) => events.push({ status, code: d.errorCode }) },
      );
      expect(r.status).toBe('cancelled');
      expect(r.errorCode).toBe('RETRY_LIMIT');
      expect(r.message).toMatch(/destination server moved a \d+-byte message slower than 2048 KiB\/s/);
      expect(events).toContainEqual({ status: 'retrying', code: 'CONNECTION_TIMEOUT' });
      expect(server.appended.some((m) => m.raw.length > 4 * 1024 * 1024)).toBe(false);
    } finally {
      await server.close();
    }
  }, 30_000);
});
