import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { closeSearchSessions, listFolders, listMessages, rebuildSearchIndex, searchArchive, showMessage, readRaw, updateSearchIndex } from '../../relay/search/index.ts';
import { BackgroundIndexer } from '../../relay/search/background-indexer.ts';
import { sharedCorpusMessages } from '../support/corpus.ts';
import { mail, writeRun } from '../support/search-archive.ts';
import { searchBenchMessages } from '../support/search-corpus.ts';

/**
 * What the search index reads out of real mail: charsets and encoded words, HTML-only mail,
 * attachment names, the real-world corpus with its malformed messages, a message no MIME parser can
 * read (indexed by its headers, marked, never dropped); and that it is a cache: rebuilt equals
 * incremental, a killed indexer resumes without loss or duplicates.
 */

const dirs: string[] = [];
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-search-content-'));
  dirs.push(d);
  return d;
};
afterEach(() => closeSearchSessions());
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const raw = (head: string, body: Buffer | string): Buffer => Buffer.concat([Buffer.from(`${head.trim().split('\n').join('\r\n')}\r\n\r\n`), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
const b64 = (b: Buffer): string => b.toString('base64');

const CHARSETS = {
  german: raw(
    `From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <juergen@example.de>\nTo: b@example.net\nSubject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=\nDate: Mon, 01 Apr 2024 10:00:00 +0200\nMIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: quoted-printable`,
    'Die Stra=DFenbahn f=E4hrt =FCber die Br=FCcke.\r\n',
  ),
  russian: raw(
    `From: =?windows-1251?B?${b64(hex('cef2f7b8f2'))}?= <otchet@example.ru>\nTo: b@example.net\nSubject: =?KOI8-R?B?${b64(hex('f0d2c9d7c5d42c20d7d3d4d2c5dec120d720edcfd3cbd7c5'))}?=\nDate: Tue, 02 Apr 2024 10:00:00 +0300\nMIME-Version: 1.0\nContent-Type: text/plain; charset=KOI8-R\nContent-Transfer-Encoding: 8bit`,
    Buffer.concat([hex('f0d2c9d7c5d42c20d7d3d4d2c5dec120d720edcfd3cbd7c5'), Buffer.from('\r\n')]),
  ),
  japanese: raw(
    `From: Tanaka <tanaka@example.jp>\nTo: b@example.net\nSubject: =?Shift_JIS?B?${b64(hex('938c8b9e82cc89ef8b63'))}?=\nDate: Wed, 03 Apr 2024 10:00:00 +0900\nMIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit`,
    Buffer.concat([hex('1b244232713544244e3b714e412472456c357e24471b2842'), Buffer.from('\r\n')]),
  ),
  utf8: mail({ subject: `=?UTF-8?B?${Buffer.from('Élève été').toString('base64')}?=`, body: 'Résumé of the café meeting', date: 'Thu, 04 Apr 2024 10:00:00 +0000' }),
};

describe('charsets and encoded words', () => {
  it('finds German, Russian and Japanese mail by the words a person types, in subject, sender and body', async () => {
    const dir = tmp();
    await writeRun(dir, [{ folder: 'INBOX', messages: Object.values(CHARSETS).map((r) => ({ raw: r })) }]);
    await updateSearchIndex(dir);
    const one = (q: string) => searchArchive(dir, q, { timeZone: 'UTC' }).hits.map((h) => h.subject);
    expect(one('Grüße')).toEqual(['Grüße aus Köln']);
    expect(one('koln')).toEqual(['Grüße aus Köln']); // without the accent
    expect(one('from:Müller')).toEqual(['Grüße aus Köln']);
    expect(one('Straßenbahn Brücke')).toEqual(['Grüße aus Köln']);
    expect(one('Москве')).toEqual(['Привет, встреча в Москве']); // KOI8-R body and subject
    expect(one('subject:встреча')).toEqual(['Привет, встреча в Москве']);
    expect(one('from:Отчёт')).toEqual(['Привет, встреча в Москве']); // windows-1251 encoded word
    expect(one('会議')).toEqual(['東京の会議']); // ISO-2022-JP body, inside a sentence without spaces
    expect(one('資料')).toEqual(['東京の会議']);
    expect(one('subject:東京')).toEqual(['東京の会議']); // Shift_JIS encoded word
    expect(one('"東京 会議"')).toEqual([]); // not adjacent in that order
    expect(one('cafe resume')).toEqual(['Élève été']);
    const ru = searchArchive(dir, 'Москве', { timeZone: 'UTC' }).hits[0]!;
    expect(ru.snippet).toContain('\u0002Москве\u0003');
    const ja = searchArchive(dir, '会議', { timeZone: 'UTC' }).hits[0]!;
    expect(ja.snippet).toContain('\u0002会議\u0003');
    const shown = await showMessage(dir, ru.id);
    expect(shown.text.trim()).toBe('Привет, встреча в Москве');
    expect(shown.headers.find((h) => h.name === 'Subject')!.value).toBe('Привет, встреча в Москве');
  });
});

describe('HTML, attachments and messages no parser can read', () => {
  it('indexes HTML-only mail by its text, attachments by their names (RFC 2231 and encoded words too), and an inline image is no attachment', async () => {
    const dir = tmp();
    const rfc2231 = raw(
      `From: a@example.org\nTo: b@example.net\nSubject: Rechnung\nDate: Mon, 01 Apr 2024 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"`,
      `--b\r\nContent-Type: text/plain\r\n\r\nanbei\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b\r\nContent-Type: application/vnd.ms-excel; name="=?UTF-8?B?${b64(Buffer.from('Übersicht 2024.xls'))}?="\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n`,
    );
    const inlineImage = raw(
      `From: news@example.org\nTo: b@example.net\nSubject: Picture mail\nDate: Tue, 02 Apr 2024 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary="r"`,
      `--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Look at the <img src="cid:logo@x"> lighthouse</p>\r\n--r\r\nContent-Type: image/png; name="logo.png"\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n`,
    );
    await writeRun(dir, [{ folder: 'INBOX', messages: [{ raw: rfc2231 }, { raw: inlineImage }] }]);
    await updateSearchIndex(dir);
    const subjects = (q: string) => searchArchive(dir, q, { timeZone: 'UTC' }).hits.map((h) => h.subject);
    expect(subjects('filename:märz')).toEqual(['Rechnung']);
    expect(subjects('filename:"Rechnung März.pdf"')).toEqual(['Rechnung']);
    expect(subjects('filename:Übersicht')).toEqual(['Rechnung']);
    expect(subjects('has:attachment')).toEqual(['Rechnung']);
    expect(subjects('lighthouse')).toEqual(['Picture mail']);
    const shown = await showMessage(dir, searchArchive(dir, 'filename:märz').hits[0]!.id);
    expect(shown.attachments.map((a) => [a.filename, a.size])).toEqual([['Rechnung März.pdf', 9], ['Übersicht 2024.xls', 3]]);
  });

  it('indexes a message no MIME parser can read by its headers, marks it, and never drops it', async () => {
    const dir = tmp();
    // 1,200 parts: past mailsplit's limit on child nodes, so the MIME parse fails.
    const parts = Array.from({ length: 1200 }, (_, i) => `--p\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
    const broken = raw(`From: Quirin Quast <quirin@example.org>\nTo: b@example.net\nSubject: Too many parts\nDate: Mon, 01 Apr 2024 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="p"`, `${parts}--p--\r\n`);
    const noHeaders = Buffer.from('\r\njust a body without any header\r\n');
    await writeRun(dir, [{ folder: 'INBOX', messages: [{ raw: broken }, { raw: noHeaders, internalDate: new Date('2023-05-06T07:08:09Z') }] }]);
    const report = await updateSearchIndex(dir);
    // The header-less one parses (an empty header block); the other cannot be parsed as MIME.
    expect(report).toMatchObject({ indexed: 2, unparsed: 1, complete: true });
    const hit = searchArchive(dir, 'from:quirin').hits;
    expect(hit).toHaveLength(1);
    expect(hit[0]).toMatchObject({ subject: 'Too many parts', unparsed: true });
    expect(searchArchive(dir, 'subject:"too many parts"').hits).toHaveLength(1);
    // The header-less one is still listed, by its INTERNALDATE.
    const listed = listMessages(dir, 'alice@imap.example.org', 'INBOX').hits;
    expect(listed.map((h) => h.date)).toEqual(['2024-04-01T10:00:00.000Z', '2023-05-06T07:08:09.000Z']);
    expect(listFolders(dir, 'alice@imap.example.org')).toMatchObject([{ name: 'INBOX', messages: 2, notIndexed: 0 }]);
  });
});

describe('the real-world corpus', () => {
  const corpus = sharedCorpusMessages();
  it.skipIf(corpus.length === 0 && !process.env.CI)(`finds each of the ${corpus.length} corpus messages, malformed ones included, by its subject or its sender, and lists every one`, async () => {
    expect(corpus.length, 'the shared corpus (MAILKEEP_CORPUS or ../shared/corpus/mail-gem) is needed here').toBeGreaterThan(0);
    const dir = tmp();
    await writeRun(dir, [{ folder: 'INBOX', messages: corpus.map((c) => ({ raw: c.raw })) }]);
    const report = await updateSearchIndex(dir);
    expect(report.complete).toBe(true);
    const listedIds = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = listMessages(dir, 'alice@imap.example.org', 'INBOX', { limit: 500, ...(cursor ? { cursor } : {}) });
      for (const h of page.hits) listedIds.add(h.id);
      cursor = page.nextCursor;
    } while (cursor);
    const distinct = new Set(corpus.map((c) => c.raw.toString('latin1'))).size;
    expect(listedIds.size).toBe(distinct);
    const unfound: string[] = [];
    for (const c of corpus) {
      // Words of the raw Subject and From lines (no decoding here: what the test can see for itself).
      // Whole words of letters only, RFC 5322 comments left out (they are no part of a name).
      const head = c.raw.toString('utf8').split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
      const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'im').exec(head)?.[1] ?? '';
      const plainWords = (s: string, prefix: string) =>
        s.includes('=?')
          ? []
          : [...new Set(s.replace(/\\./g, ' ').replace(/\([^()]*\)/g, ' ').split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 4 && /^\p{L}+$/u.test(w) && !w.includes('\ufffd')))].slice(0, 3).map((w) => `${prefix}${w}`);
      const q = plainWords(field('subject'), 'subject:').join(' ') || plainWords(field('from'), 'from:').join(' ');
      if (!q) continue; // no plain word in either: covered by the listing above
      const ids = searchArchive(dir, q, { limit: 500 }).hits.map((h) => h.id);
      if (!ids.some((id) => listedIds.has(id) && id.startsWith(sha16(c.raw)))) unfound.push(`${c.name}: ${q}`);
    }
    expect(unfound).toEqual([]);
  }, 120_000);
});

function sha16(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);
}

describe('the search index is a cache', () => {
  const snapshot = (dir: string) => {
    const db = new Database(path.join(dir, 'search.sqlite'), { readonly: true });
    try {
      return {
        docs: db.prepare('SELECT hash, date, size, attach, unparsed, subject, sender, recipients, cc, body, filenames FROM docs JOIN texts USING (id) ORDER BY hash').all(),
        members: db.prepare('SELECT m.folder_id, m.uidvalidity, m.uid, d.hash FROM members m JOIN docs d ON d.id = m.doc ORDER BY 1, 2, 3').all(),
        fts: db.prepare("SELECT COUNT(*) FROM fts WHERE fts MATCH 'meeting'").pluck().get(),
      };
    } finally {
      db.close();
    }
  };

  it('built incrementally over three backups equals a rebuild (reindex), row for row, and answers the same', async () => {
    const dir = tmp();
    const msgs = searchBenchMessages(300, 3);
    await writeRun(dir, [{ folder: 'INBOX', messages: msgs.slice(0, 100) }]);
    await updateSearchIndex(dir);
    await writeRun(dir, [{ folder: 'INBOX', messages: msgs.slice(100, 200) }, { folder: 'Archive', messages: msgs.slice(0, 50) }], { gone: [{ folder: 'INBOX', uids: [3, 4] }] });
    await updateSearchIndex(dir);
    await writeRun(dir, [{ folder: 'Archive', messages: msgs.slice(200) }]);
    await updateSearchIndex(dir);
    const incremental = snapshot(dir);
    const answers = ['meeting', 'has:attachment', 'is:deleted-on-server', 'folder:Archive contract', 'after:2020 -budget'].map((q) => searchArchive(dir, q, { timeZone: 'UTC', limit: 500 }).hits.map((h) => h.id));
    closeSearchSessions();
    const r = await rebuildSearchIndex(dir);
    expect(r).toMatchObject({ complete: true, indexed: 300, memberships: 350 });
    expect(snapshot(dir)).toEqual(incremental);
    expect(['meeting', 'has:attachment', 'is:deleted-on-server', 'folder:Archive contract', 'after:2020 -budget'].map((q) => searchArchive(dir, q, { timeZone: 'UTC', limit: 500 }).hits.map((h) => h.id))).toEqual(answers);
    expect(answers[2]).toHaveLength(2);
  });

  it('an indexer killed in the middle resumes where it stopped, without loss or duplicates', async () => {
    const dir = tmp();
    await writeRun(dir, [{ folder: 'INBOX', messages: searchBenchMessages(2500, 5) }]);
    const script = `import { updateSearchIndex } from ${JSON.stringify(path.resolve('relay/search/index-update.ts'))};
      await updateSearchIndex(${JSON.stringify(dir)}, { onProgress: (p) => { if (p.indexed > 0) console.log('progress', p.indexed); } });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Killed (SIGKILL: no cleanup) as soon as a first batch is committed.
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (String(d).includes('progress')) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => (code === 0 ? reject(new Error('the indexer finished before it could be killed')) : resolve()));
    });
    await new Promise((r) => child.once('exit', r));
    const before = new Database(path.join(dir, 'search.sqlite'), { readonly: true }).prepare('SELECT COUNT(*) FROM docs').pluck().get() as number;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(2500);
    const r = await updateSearchIndex(dir);
    expect(r.complete).toBe(true);
    expect(r.indexed).toBe(2500 - before);
    const after = snapshot(dir);
    expect(after.docs).toHaveLength(2500);
    expect(after.members).toHaveLength(2500);
    closeSearchSessions();
    await rebuildSearchIndex(dir);
    expect(snapshot(dir)).toEqual(after);
  }, 120_000);

  it('the relay indexer catches up at start and after a backup, and a raw read is the archived bytes', async () => {
    // The relay's layout: <data dir>/archives/<account id>.
    const archives = tmp();
    const dir = path.join(archives, 'acct-1');
    const msgs = searchBenchMessages(50, 9);
    await writeRun(dir, [{ folder: 'INBOX', messages: msgs.slice(0, 30) }]);
    const errors: unknown[] = [];
    const indexer = new BackgroundIndexer((_d, e) => errors.push(e));
    indexer.startup(archives);
    await indexer.idle();
    expect(searchArchive(dir, '').hits).toHaveLength(30);
    indexer.backupStarted(dir);
    await writeRun(dir, [{ folder: 'INBOX', messages: msgs.slice(30) }]);
    indexer.backupEnded(dir);
    await indexer.idle();
    indexer.stop();
    expect(errors).toEqual([]);
    const all = searchArchive(dir, '', { limit: 500 }).hits;
    expect(all).toHaveLength(50);
    const { stream, size } = readRaw(dir, all[0]!.id);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).length).toBe(size);
    expect(msgs.some((m) => m.raw.equals(Buffer.concat(chunks)))).toBe(true);
  });
});
