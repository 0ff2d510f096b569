/**
 * A deterministic mailbox that looks like real mail to a search engine, for the search bench and
 * tests: a vocabulary with a few hundred frequent English words and thousands of rarer ones (so some
 * words hit most messages and some a handful), 400 correspondents, plain, multipart/alternative and
 * HTML-only bodies, quoted-printable and base64, attachments with names, and some German (ISO-8859-1,
 * encoded-word subjects), Russian (KOI8-R) and Japanese (ISO-2022-JP) messages. Dates spread over
 * 2015-2024 in several zones.
 */

export interface BenchMessage {
  folder: string;
  raw: Buffer;
  flags: string[];
  internalDate: Date;
}

const COMMON = `the be to of and a in that have it for not on with he as you do at this but his by from they we say her she or
an will my one all would there their what so up out if about who get which go me when make can like time no just him know take
people into year your good some could them see other than then now look only come its over think also back after use two how our
work first well way even new want because any these give day most us meeting project report contract invoice budget review
schedule team office client order payment update plan quarter sales account support issue release version customer price offer
travel hotel flight conference agenda minutes draft final proposal deadline approval request question answer thanks regards
please attached document file summary notes call week month morning afternoon tomorrow yesterday today friday monday`.split(/\s+/);
const NAMES = ['Anna', 'Ben', 'Clara', 'David', 'Eva', 'Felix', 'Greta', 'Hans', 'Ines', 'Jonas', 'Karin', 'Lukas', 'Maria', 'Noah', 'Olga', 'Paul', 'Quinn', 'Rita', 'Sven', 'Tara'];
const SURNAMES = ['Adler', 'Becker', 'Chen', 'Dubois', 'Engel', 'Fischer', 'Garcia', 'Hoffmann', 'Ivanova', 'Jensen', 'Kowalski', 'Lopez', 'Meyer', 'Nakamura', 'Olsen', 'Petrov', 'Rossi', 'Schmidt', 'Tanaka', 'Weber'];
const DOMAINS = ['example.org', 'example.net', 'example.com', 'mail.example.de', 'corp.example'];
const FOLDERS: [string, number][] = [['INBOX', 0.6], ['Archive', 0.25], ['Sent', 0.1], ['Lists/dev', 0.05]];
const EXT = ['pdf', 'docx', 'xlsx', 'png', 'zip', 'txt'];
const GERMAN = 'Grüße aus Köln über die Besprechung für nächste Woche mit Änderungen am Vertrag und Rechnung schön'.split(' ');
const RUSSIAN = 'Привет встреча договор счёт отчёт проект неделя вопрос ответ спасибо Москва'.split(' ');
const JAPANESE = ['会議', '東京', '契約書', '請求書', '報告', 'よろしく', 'お願いします', '来週', '予定', '資料'];

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Rare words: pronounceable, deterministic, each used in few messages. */
export function rareWord(n: number): string {
  const c = 'bcdfghklmnprstvz';
  const v = 'aeiou';
  let w = '';
  let x = n + 7;
  for (let i = 0; i < 3 + (n % 3); i++) {
    w += c[x % c.length]! + v[Math.floor(x / c.length) % v.length]!;
    x = Math.floor(x / (c.length * v.length)) + n * 31 + i;
  }
  return w;
}

export const PEOPLE = Array.from({ length: 400 }, (_, i) => {
  const first = NAMES[i % NAMES.length]!;
  const last = SURNAMES[Math.floor(i / NAMES.length) % SURNAMES.length]!;
  return { name: `${first} ${last}`, address: `${first.toLowerCase()}.${last.toLowerCase()}${i >= 400 ? i : ''}@${DOMAINS[i % DOMAINS.length]}` };
});

function qp(s: string): string {
  return Buffer.from(s, 'utf8')
    .toString('latin1')
    .replace(/[^\x20-\x3c\x3e-\x7e\n]/g, (ch) => `=${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    .replace(/.{70}(?=.)/g, '$&=\r\n');
}

const RFC2822_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function rfc2822(ms: number, offsetMin: number): string {
  const d = new Date(ms + offsetMin * 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const sign = offsetMin < 0 ? '-' : '+';
  const o = Math.abs(offsetMin);
  return `${RFC2822_DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${sign}${pad(Math.floor(o / 60))}${pad(o % 60)}`;
}

export function searchBenchMessages(count: number, seed = 42): BenchMessage[] {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  // Zipf-like: frequent words from COMMON, the tail from the rare words.
  const word = (): string => (r() < 0.8 ? pick(COMMON) : rareWord(Math.floor(r() ** 2 * 20000)));
  const words = (n: number): string => Array.from({ length: n }, word).join(' ');
  const out: BenchMessage[] = [];
  const start = Date.UTC(2015, 0, 1);
  const span = Date.UTC(2025, 0, 1) - start;
  for (let i = 0; i < count; i++) {
    const ms = start + Math.floor(r() * span / 1000) * 1000;
    const offset = pick([0, 60, 120, -300, 540]);
    const from = pick(PEOPLE);
    const to = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(PEOPLE));
    const cc = r() < 0.2 ? [pick(PEOPLE)] : [];
    const lang = r();
    let subject = words(3 + Math.floor(r() * 6));
    let body = Array.from({ length: 2 + Math.floor(r() * 6) }, () => `${words(10 + Math.floor(r() * 40))}.`).join('\r\n\r\n');
    const headers: string[] = [];
    let mime: string;
    const boundary = `=_b${i}_${seed}`;
    if (lang < 0.05) {
      // German, ISO-8859-1 quoted-printable, subject as a Q encoded word.
      const g = Array.from({ length: 20 + Math.floor(r() * 30) }, () => pick(GERMAN)).join(' ');
      subject = `${pick(GERMAN)} ${pick(GERMAN)} ${words(2)}`;
      headers.push(`Subject: =?ISO-8859-1?Q?${Buffer.from(subject, 'latin1').toString('latin1').replace(/[^A-Za-z0-9]/g, (c) => (c === ' ' ? '_' : `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`))}?=`);
      mime = `Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${Buffer.from(`${g}\r\n${body}`, 'latin1').toString('latin1').replace(/[^\x20-\x3c\x3e-\x7e\r\n]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}`;
      body = g;
    } else if (lang < 0.08) {
      const ru = Array.from({ length: 20 + Math.floor(r() * 20) }, () => pick(RUSSIAN)).join(' ');
      subject = `${pick(RUSSIAN)} ${pick(RUSSIAN)}`;
      headers.push(`Subject: =?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`);
      mime = `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(`${ru}\r\n${body}`).toString('base64').replace(/.{76}/g, '$&\r\n')}`;
    } else if (lang < 0.11) {
      const ja = Array.from({ length: 10 + Math.floor(r() * 20) }, () => pick(JAPANESE)).join('');
      subject = `${pick(JAPANESE)}${pick(JAPANESE)}について`;
      headers.push(`Subject: =?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`);
      mime = `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(`${ja}。\r\n${body}`).toString('base64').replace(/.{76}/g, '$&\r\n')}`;
    } else {
      const kind = r();
      if (kind < 0.55) mime = `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp(body)}`;
      else if (kind < 0.8)
        mime = `Content-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>${body.replace(/\r\n\r\n/g, '</p><p>')}</p></body></html>\r\n--${boundary}--`;
      else if (kind < 0.88) mime = `Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><div><p>${body.replace(/\r\n\r\n/g, '</p><p>')}</p></div></body></html>`;
      else {
        const name = `${word()}-${rareWord(i % 5000)}.${pick(EXT)}`;
        const att = Buffer.alloc(500 + Math.floor(r() * 6000));
        for (let j = 0; j < att.length; j++) att[j] = Math.floor(r() * 256);
        mime = `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n--${boundary}\r\nContent-Type: application/octet-stream; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${att.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n--${boundary}--`;
      }
    }
    if (!headers.some((h) => h.startsWith('Subject:'))) headers.push(`Subject: ${subject}`);
    const fr = r();
    let acc = 0;
    const folder = FOLDERS.find(([, p]) => (acc += p) >= fr)?.[0] ?? 'INBOX';
    const raw = Buffer.from(
      [
        `From: ${from.name} <${from.address}>`,
        `To: ${to.map((p) => `${p.name} <${p.address}>`).join(', ')}`,
        ...(cc.length ? [`Cc: ${cc.map((p) => `${p.name} <${p.address}>`).join(', ')}`] : []),
        ...headers,
        `Date: ${rfc2822(ms, offset)}`,
        `Message-ID: <bench-${seed}-${i}@example.org>`,
        'MIME-Version: 1.0',
        mime,
        '',
      ].join('\r\n'),
    );
    out.push({ folder, raw, flags: r() < 0.7 ? ['\\Seen'] : [], internalDate: new Date(ms + Math.floor(r() * 60_000)) });
  }
  return out;
}
