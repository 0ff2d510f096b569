/** For the very-large-message tests: a CLI run's peak RSS, and a message of many megabytes. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { startCli, type CliResult } from './run-cli.ts';

/** Runs the CLI; its peak RSS (VmHWM, in MB) sampled from /proc until it exits, and its result. */
export async function cliPeakRssMb(args: string[], env: Record<string, string> = {}): Promise<CliResult & { peak: number }> {
  const { child, done } = startCli(args, env);
  let peak = 0;
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      /* exited between checks */
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const r = await done;
  return { ...r, peak };
}

/** `head`, then about `mb` MB of base64 lines (76 characters and CRLF; random, cheaply varied), then `tail`. */
export function bigMessage(head: string, mb: number, tail = ''): Buffer {
  const parts: Buffer[] = [Buffer.from(head)];
  const chunk = crypto.randomBytes(57 * 1024);
  for (let n = 0; n < (mb * 1024 * 1024) / (76 * 1024); n++) {
    chunk[n % chunk.length] = n & 0xff; // vary content a little, cheaply
    parts.push(Buffer.from(chunk.toString('base64').replace(/.{76}/g, '$&\r\n')));
  }
  if (tail) parts.push(Buffer.from(tail));
  return Buffer.concat(parts);
}

/**
 * The relay's peak RSS may grow by less than this when a message of 100 MB is restored, migrated,
 * backed up or exported (issue 9, "Speed and memory"): a few stream chunks, never the message.
 */
export const RSS_GROWTH_BUDGET_MB = 20;

/** INBOX of a test account as the tests compare it: content hash, sorted flags, INTERNALDATE. */
export interface ExpectedMessage {
  hash: string;
  flags: string[];
  internalDate: string;
}

/**
 * Seeds `src-small` with three small messages and `src-large` with the same plus one of about `mb`
 * MB, each with system flags, keywords and its own INTERNALDATE (APPENDed, so keywords are real).
 * The large one has no Message-ID: finding it again (a second run) means hashing its content.
 * Returns the large message and what `src-large`'s INBOX holds, ordered by INTERNALDATE.
 */
export async function largeMessageFixture(
  dc: { client(user: string, password: string): Promise<import('imapflow').ImapFlow> },
  pw: (user: string) => string,
  mb: number,
): Promise<{ big: Buffer; expected: ExpectedMessage[] }> {
  const small = [0, 1, 2].map((i) => Buffer.from(`From: a@example.org\r\nSubject: small ${i}\r\nMessage-ID: <small-${i}@example.org>\r\n\r\nsmall body ${i}\r\n`));
  const big = bigMessage(
    'From: big@example.org\r\nTo: large@example.net\r\nSubject: a very large attachment, no Message-ID\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n',
    mb,
    '\r\n--B--\r\n',
  );
  const flags = [['\\Seen'], ['\\Answered', '$Label1'], ['\\Flagged', 'Projekt_X', '$Forwarded']];
  const dates = [0, 1, 2, 3].map((i) => new Date(Date.UTC(2004, 1, 29, 12, 0, i)));
  const crypto = await import('node:crypto');
  const hash = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');
  const expected: ExpectedMessage[] = [];
  for (const user of ['src-small', 'src-large']) {
    const c = await dc.client(user, pw(user));
    try {
      for (const [i, m] of small.entries()) await c.append('INBOX', m, flags[i]!, dates[i]!);
      if (user === 'src-large') await c.append('INBOX', big, ['\\Seen', '\\Flagged', '$Label2', 'Gross'], dates[3]!);
    } finally {
      await c.logout();
    }
  }
  for (const [i, m] of small.entries()) expected.push({ hash: hash(m), flags: [...flags[i]!].sort(), internalDate: dates[i]!.toISOString() });
  expected.push({ hash: hash(big), flags: ['$Label2', 'Gross', '\\Flagged', '\\Seen'].sort(), internalDate: dates[3]!.toISOString() });
  return { big, expected };
}

/**
 * Peak RSS of runs with the large message against runs without it, interleaved, each side the
 * lower of its runs: on a busy machine one run's peak moves by several MB either way, and the
 * lower of two is the better estimate of what the process needs. Every run must exit 0.
 */
export async function peakGrowth(
  small: (i: number) => Promise<CliResult & { peak: number }>,
  large: (i: number) => Promise<CliResult & { peak: number }>,
  runs = 2,
): Promise<{ small: number; large: number; growth: number; last: CliResult }> {
  const s: number[] = [];
  const l: number[] = [];
  let last: CliResult | null = null;
  for (let i = 1; i <= runs; i++) {
    const a = await small(i);
    if (a.code !== 0) throw new Error(`run without the large message exited ${a.code}: ${a.stderr}`);
    s.push(a.peak);
    const b = await large(i);
    if (b.code !== 0) throw new Error(`run with the large message exited ${b.code}: ${b.stderr}`);
    l.push(b.peak);
    last = b;
  }
  const min = (xs: number[]): number => Math.min(...xs);
  return { small: min(s), large: min(l), growth: min(l) - min(s), last: last! };
}

