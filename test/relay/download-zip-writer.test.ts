import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Table } from '../../relay/export/crc32.ts';
import { MboxrdEscaper } from '../../relay/export/mboxrd.ts';
import { BufferedOutput, openOutputFile } from '../../relay/export/output-file.ts';
import { ZipWriter } from '../../relay/export/zip-writer.ts';

async function writeZip(file: string, entries: [string, Buffer][], opts: { forceZip64?: boolean } = {}): Promise<void> {
  const f = await openOutputFile(file);
  const out = new BufferedOutput(f);
  const zip = await ZipWriter.create(out, `${file}.cd`, openOutputFile, opts);
  for (const [name, data] of entries)
    await zip.add(name, new Date(Date.UTC(2024, 1, 29, 12, 30, 10)), async (write) => {
      // Fed in uneven pieces, as blobs are.
      for (let i = 0; i < data.length; i += 7) await write(data.subarray(i, i + 7));
    });
  await zip.finish();
  await f.close();
}

const PY_LIST = 'import sys,zipfile,json; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps([[i.filename, z.read(i).decode("latin1")] for i in z.infolist()][:3] + [len(z.infolist())]))';

describe('the streaming zip writer', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-zip-'));

  it('writes entries Python reads back, with UTF-8 names and CRCs that check', async () => {
    const file = path.join(dir, 'small.zip');
    await writeZip(file, [['Entwürfe/000001.eml', Buffer.from('Subject: a\r\n\r\nbody\r\n')], ['日本語.mbox', Buffer.from('From x\n')], ['empty', Buffer.alloc(0)]]);
    const r = spawnSync('python3', ['-c', PY_LIST, file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([['Entwürfe/000001.eml', 'Subject: a\r\n\r\nbody\r\n'], ['日本語.mbox', 'From x\n'], ['empty', ''], 3]);
    expect(fs.existsSync(`${file}.cd`)).toBe(false);
  });

  it('switches to zip64 by itself past 65,534 entries', async () => {
    const file = path.join(dir, 'many.zip');
    const entries: [string, Buffer][] = Array.from({ length: 70_000 }, (_, i) => [`f/${i}.eml`, Buffer.from(`m${i}`)]);
    await writeZip(file, entries);
    const bytes = fs.readFileSync(file);
    expect(bytes.readUInt16LE(bytes.length - 22 + 10)).toBe(0xffff);
    const r = spawnSync('python3', ['-c', PY_LIST, file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).at(-1)).toBe(70_000);
  }, 60_000);

  it('computes the same CRC-32 with zlib and with the table', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog');
    expect(crc32Table(data)).toBe(0x414fa339);
    expect(crc32(data)).toBe(0x414fa339);
    expect(crc32Table(data.subarray(10), crc32Table(data.subarray(0, 10)))).toBe(0x414fa339);
  });
});

describe('mboxrd escaping', () => {
  const escape = (msg: string, chunk: number): string => {
    const e = new MboxrdEscaper();
    const out: Buffer[] = [];
    const b = Buffer.from(msg);
    for (let i = 0; i < b.length; i += chunk) out.push(...e.push(b.subarray(i, i + chunk)));
    out.push(...e.end());
    return Buffer.concat(out).toString();
  };

  it('adds one ">" to every line matching /^>*From /, wherever the chunks are cut', () => {
    const msg = 'From: a\r\nSubject: s\r\n\r\nFrom here\r\n>From quoted\r\n>>From twice\r\nnot From\r\nFromage\r\n>From';
    const want = 'From: a\r\nSubject: s\r\n\r\n>From here\r\n>>From quoted\r\n>>>From twice\r\nnot From\r\nFromage\r\n>From\n\n';
    for (const n of [1, 2, 3, 5, 8, 1000]) expect(escape(msg, n)).toBe(want);
  });

  it('ends each message with exactly one blank line', () => {
    expect(escape('a\r\n', 2)).toBe('a\r\n\n');
    expect(escape('a', 2)).toBe('a\n\n');
  });
});
