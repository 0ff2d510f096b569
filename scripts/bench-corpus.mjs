// The benchmark corpus: the imap-lab generator (../shared/notes/imap-lab.md, appendix), deterministic
// per seed, written straight into a Dovecot maildir (the fastest way to load a server).
import fs from 'node:fs';
import path from 'node:path';

export function generate(maildir, count, seed, { folders, small }) {
  let s = seed;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  const ri = (a, b) => a + Math.floor(rnd() * (b - a + 1));
  const words = 'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part Grüße Straße Übermorgen café naïve'.split(' ');
  const text = (bytes) => { const out = []; let line = ''; let n = 0; while (n < bytes) { const w = words[ri(0, words.length - 1)]; if (line.length + w.length > 72) { out.push(line); n += line.length + 2; line = ''; } line += (line ? ' ' : '') + w; } out.push(line); return out.join('\r\n'); };
  const b64lines = (bytes) => { const buf = Buffer.alloc(bytes); for (let i = 0; i < bytes; i += 4) buf.writeUInt32LE((rnd() * 4294967296) >>> 0, Math.min(i, bytes - 4)); return buf.toString('base64').replace(/.{76}/g, '$&\r\n'); };
  const t0 = Date.UTC(2015, 0, 1) / 1000;
  const t1 = Date.UTC(2025, 0, 1) / 1000;
  let total = 0;
  for (const [f] of folders) {
    for (const d of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(maildir, f, d), { recursive: true });
    if (f) fs.writeFileSync(path.join(maildir, f, 'maildirfolder'), '');
  }
  for (let i = 0; i < count; i++) {
    let folder = folders[0][0];
    if (folders[0][1] === undefined) folder = folders[i % folders.length][0];
    else { const r = rnd(); let acc = 0; for (const [f, p] of folders) { acc += p; if (r < acc) { folder = f; break; } } }
    const ts = Math.floor(t0 + rnd() * (t1 - t0));
    const date = new Date(ts * 1000).toUTCString().replace('GMT', '+0000');
    const kind = small ? 0 : rnd();
    const hdr = `Return-Path: <bounce@example.org>\r\nReceived: from mx.example.org (mx.example.org [192.0.2.1])\r\n\tby mail.example.net with ESMTPS id ${i}\r\n\tfor <bench@example.net>; ${date}\r\nFrom: User ${ri(1, 500)} <user${ri(1, 500)}@example${ri(1, 20)}.org>\r\nTo: Bench <bench@example.net>\r\nSubject: =?UTF-8?Q?Message_${i}_Gr=C3=BC=C3=9Fe?= ${text(20).replace(/\r\n/g, ' ').slice(0, 60)}\r\nDate: ${date}\r\nMessage-ID: <${i}.${ts}.${seed}@example.org>\r\nMIME-Version: 1.0\r\n`;
    let body;
    if (small) body = `Content-Type: text/plain; charset=utf-8\r\n\r\n${text(ri(300, 1500))}\r\n`;
    else if (kind < 0.6) body = `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text(ri(1500, 9500))}\r\n`;
    else if (kind < 0.85) { const t = text(ri(3000, 12000)); body = `Content-Type: multipart/alternative; boundary="alt${i}"\r\n\r\n--alt${i}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${t}\r\n--alt${i}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<html><body><div style="font-family:Arial">${t.replace(/\r\n/g, '<br>\r\n')}</div></body></html>\r\n--alt${i}--\r\n`; }
    else body = `Content-Type: multipart/mixed; boundary="mix${i}"\r\n\r\n--mix${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text(ri(300, 2000))}\r\n--mix${i}\r\nContent-Type: application/pdf; name="doc${i}.pdf"\r\nContent-Disposition: attachment; filename="doc${i}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64lines(ri(35000, 148000))}\r\n--mix${i}--\r\n`;
    const msg = Buffer.from(hdr + body);
    const flags = rnd() < 0.8 ? 'S' : rnd() < 0.5 ? 'FS' : '';
    const fp = path.join(maildir, folder, 'cur', `${ts}.M${i}P1.bench,S=${msg.length}:2,${flags}`);
    fs.writeFileSync(fp, msg);
    fs.utimesSync(fp, ts, ts);
    total += msg.length;
  }
  return total;
}

