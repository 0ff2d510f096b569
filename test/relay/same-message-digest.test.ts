import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NormalizedDigest, normalizedDigest } from '../../relay/imap/append-hash.ts';
import { AppendRecords, appendRecordFile, blobSource } from '../../relay/jobs/append-records.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const MSG = 'From: a@example.org\r\nSubject: Gr\xfc\xdfe\r\n\r\nBody \xfc\r\nline two\r\n';

describe('the normalized digest: what counts as the same message body (docs/same-message.md)', () => {
  it('is the same for each rewrite a known server makes: bare LF stored as CRLF, a CRLF added at the end, 8-bit header bytes masked as X', () => {
    const d = normalizedDigest(b(MSG));
    expect(normalizedDigest(b(MSG.replace(/\r\n/g, '\n')))).toBe(d); // Dovecot, Courier: bare LF -> CRLF
    expect(normalizedDigest(b(MSG.slice(0, -2)))).toBe(d); // Courier: final CRLF added
    expect(normalizedDigest(b(MSG + '\r\n'))).toBe(d);
    expect(normalizedDigest(b(MSG.replace('Gr\xfc\xdfe', 'GrXXe')))).toBe(d); // Cyrus: 8-bit header bytes -> X
  });

  it('differs for any other change: body bytes (8-bit ones too), a header byte, a line break moved, content after the last line', () => {
    const d = normalizedDigest(b(MSG));
    for (const other of [
      MSG.replace('Body \xfc', 'Body X'), // 8-bit bytes in the body are not masked
      MSG.replace('Subject', 'subject'),
      MSG.replace('Body \xfc\r\nline', 'Body \xfc line'),
      MSG + 'x',
      MSG.replace('\r\n\r\n', '\r\n\r\n\r\n'), // an extra blank line inside is content
      MSG.replace('line two', 'line\rtwo'), // a bare CR is content
    ])
      expect(normalizedDigest(b(other)), JSON.stringify(other)).not.toBe(d);
  });

  it('masks only up to the first empty line, also when that line ends in bare LF', () => {
    expect(normalizedDigest(b('S: \xe4\n\nB: \xe4\n'))).toBe(normalizedDigest(b('S: X\r\n\r\nB: \xe4\r\n')));
    expect(normalizedDigest(b('S: \xe4\n\nB: \xe4\n'))).not.toBe(normalizedDigest(b('S: X\r\n\r\nB: X\r\n')));
    // No empty line at all: the whole message is header.
    expect(normalizedDigest(b('S: \xe4'))).toBe(normalizedDigest(b('S: X\r\n')));
  });

  it('is the same whatever the chunks, even with a CR and its LF in different chunks', () => {
    const raw = b(`${MSG}\r\n\r\nend\r\r\n\r`);
    const whole = normalizedDigest(raw);
    for (let size = 1; size <= 7; size++) {
      const d = new NormalizedDigest();
      for (let i = 0; i < raw.length; i += size) d.update(raw.subarray(i, i + size));
      expect(d.digest(), `chunks of ${size}`).toBe(whole);
    }
    // Line ends held back across many chunks before more content arrives.
    const many = b(`a${'\r\n'.repeat(5000)}b`);
    const d = new NormalizedDigest();
    for (let i = 0; i < many.length; i += 3) d.update(many.subarray(i, i + 3));
    expect(d.digest()).toBe(normalizedDigest(many));
  });
});

describe('the append record (what Mailkeep appended where)', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-records-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const dest = { host: 'IMAP.example.org', port: 993, user: 'alice' };
  const date = new Date(Date.UTC(2003, 2, 3, 10, 20, 30, 500));

  it('keeps each entry once written, per folder and UIDVALIDITY, and INBOX whatever its case', () => {
    const dir = tmp();
    const w = AppendRecords.open(dir, dest);
    w.note('inbox', { uidValidity: 7, uid: 1 }, blobSource('aa'), date, 100);
    w.note('INBOX', { uidValidity: 7, uid: 2 }, blobSource('aa'), null, 100);
    w.note('Sent', { uidValidity: 9, uid: 1 }, blobSource('bb'), date, 50);
    // Read by another connection before close: each entry is committed as it is noted.
    const r = AppendRecords.open(dir, { ...dest, host: 'imap.example.org' }, { readOnly: true });
    expect(r.folder('INBOX', 7)).toEqual(new Map([[blobSource('aa'), [{ uid: 1, dateSec: 1046686830 }, { uid: 2, dateSec: null }]]]));
    expect(r.folder('INBOX', 8)).toEqual(new Map());
    expect(r.folder('Sent', 9).get(blobSource('bb'))).toEqual([{ uid: 1, dateSec: 1046686830 }]);
    r.close();
    w.close();
    expect(AppendRecords.open(dir, { ...dest, port: 143 }).folder('INBOX', 7)).toEqual(new Map()); // another address, another file
  });

  it('drops a folder entries of an older UIDVALIDITY once it appends under a new one', () => {
    const dir = tmp();
    const w = AppendRecords.open(dir, dest);
    w.note('INBOX', { uidValidity: 7, uid: 1 }, blobSource('aa'), date, 100);
    w.note('INBOX', { uidValidity: 8, uid: 1 }, blobSource('bb'), date, 100);
    expect(w.folder('INBOX', 7)).toEqual(new Map());
    expect([...w.folder('INBOX', 8).keys()]).toEqual([blobSource('bb')]);
    w.close();
  });

  it('is a cache: a dry run without a file creates none, a damaged file is set aside and a new one started, no place at all means no records', () => {
    const dir = tmp();
    expect(AppendRecords.open(dir, dest, { readOnly: true }).folder('INBOX', 1)).toEqual(new Map());
    expect(fs.readdirSync(dir)).toEqual([]);
    fs.writeFileSync(appendRecordFile(dir, dest), 'not a database at all, just some bytes long enough to be read as a header '.repeat(20));
    const w = AppendRecords.open(dir, dest);
    w.note('INBOX', { uidValidity: 1, uid: 3 }, blobSource('cc'), null, 1);
    expect(w.folder('INBOX', 1).get(blobSource('cc'))).toEqual([{ uid: 3, dateSec: null }]);
    w.close();
    expect(fs.readdirSync(dir).some((f) => f.includes('.damaged-'))).toBe(true);
    const file = path.join(tmp(), 'a-file');
    fs.writeFileSync(file, '');
    const none = AppendRecords.open(path.join(file, 'below-a-file'), dest);
    none.note('INBOX', { uidValidity: 1, uid: 1 }, blobSource('dd'), null, 1);
    expect(none.folder('INBOX', 1)).toEqual(new Map());
    none.close();
  });
});
