/**
 * Test messages: a small deterministic generated corpus that ships with the tests, and the shared
 * real-world corpus (mail-gem) when present (MAILKEEP_CORPUS or ../shared/corpus/mail-gem).
 */
import fs from 'node:fs';
import path from 'node:path';

export function generatedMessages(count: number, seed = 1, opts: { prefix?: string } = {}): Buffer[] {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${opts.prefix ?? 'gen'}-${seed}-${i}`;
    const date = new Date(Date.UTC(2021, 0, 1) + Math.floor(rnd() * 3e10)).toUTCString().replace('GMT', '+0000');
    const kind = i % 3;
    const text = `Grüße aus Köln, Nachricht ${i}. ${'lorem ipsum dolor '.repeat(5 + Math.floor(rnd() * 40))}`;
    let body: string;
    if (kind === 0) body = `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n`;
    else if (kind === 1)
      body = `Content-Type: multipart/alternative; boundary="b${i}"\r\n\r\n--b${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n--b${i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>${text}</p>\r\n--b${i}--\r\n`;
    else {
      const att = Buffer.alloc(200 + Math.floor(rnd() * 3000));
      for (let j = 0; j < att.length; j++) att[j] = Math.floor(rnd() * 256);
      body = `Content-Type: multipart/mixed; boundary="m${i}"\r\n\r\n--m${i}\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--m${i}\r\nContent-Type: application/octet-stream; name="a${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${att.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--m${i}--\r\n`;
    }
    out.push(
      Buffer.from(
        `From: Sender ${i} <s${i}@example.org>\r\nTo: Alice <alice@example.net>\r\nSubject: =?UTF-8?Q?Test_${i}_Gr=C3=BC=C3=9Fe?=\r\nDate: ${date}\r\nMessage-ID: <${id}@example.org>\r\nMIME-Version: 1.0\r\n${body}`,
      ),
    );
  }
  return out;
}

export function sharedCorpusDir(): string | null {
  const candidates = [process.env.MAILKEEP_CORPUS, path.resolve(process.cwd(), '../shared/corpus/mail-gem'), '/work/shared/corpus/mail-gem'];
  for (const c of candidates) if (c && fs.existsSync(c) && fs.statSync(c).isDirectory()) return c;
  return null;
}

/** Every regular file under the corpus directory that looks like a message, sorted for determinism. */
export function sharedCorpusMessages(limit = Infinity): { name: string; raw: Buffer }[] {
  const dir = sharedCorpusDir();
  if (!dir) return [];
  const out: { name: string; raw: Buffer }[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name !== 'LICENSE' && fs.statSync(p).size > 0 && fs.statSync(p).size < 5_000_000) out.push({ name: path.relative(dir, p), raw: fs.readFileSync(p) });
    }
  };
  walk(dir);
  return out.slice(0, limit);
}
