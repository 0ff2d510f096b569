/**
 * The Gmail test mailbox of issue 14: 1,000 distinct messages, 990 of them in All Mail carrying
 * 2,500 label memberships between them (two or three labels each, system and nested user labels),
 * 6 in Spam and 4 in Trash; a few without Message-ID, a few starred. Deterministic.
 */
import { generatedMessages } from './corpus.ts';
import type { GmailSeedMessage } from './fake-gmail.ts';

export const GMAIL_LABEL_POOL = ['\\Inbox', 'Work', 'Work/2024', 'Family', 'Receipts', 'Travel', '\\Important', '\\Sent'];
export const USER_LABELS = ['Work', 'Work/2024', 'Family', 'Receipts', 'Travel'];

export interface GmailMailbox {
  seeds: GmailSeedMessage[];
  /** Sum of the sizes of the distinct messages: what a backup must download, once. */
  distinctBytes: number;
  labelMemberships: number;
  /** Indexes (into seeds) of the messages without a Message-ID header. */
  withoutMessageId: number[];
}

export function gmailMailbox(opts: { inAllMail?: number; memberships?: number; spam?: number; trash?: number; seed?: number } = {}): GmailMailbox {
  const n = opts.inAllMail ?? 990;
  const memberships = opts.memberships ?? 2500;
  const spam = opts.spam ?? 6;
  const trash = opts.trash ?? 4;
  const raws = generatedMessages(n + spam + trash, opts.seed ?? 14, { prefix: 'gm' });
  const seeds: GmailSeedMessage[] = [];
  const withoutMessageId: number[] = [];
  let count = 0;
  for (let i = 0; i < n; i++) {
    // Two or three labels each, spread so that the total is exactly `memberships`.
    const k = Math.floor(((i + 1) * memberships) / n) - Math.floor((i * memberships) / n);
    const labels = Array.from({ length: k }, (_, j) => GMAIL_LABEL_POOL[(i + j * 3) % GMAIL_LABEL_POOL.length]!);
    count += labels.length;
    let raw = raws[i]!;
    // Every 199th message has no Message-ID (and there are several such, with labels of their own).
    if (i % 199 === 7) {
      raw = Buffer.from(raw.toString('latin1').replace(/Message-ID: [^\r]*\r\n/, ''), 'latin1');
      withoutMessageId.push(i);
    }
    seeds.push({ raw, labels, flags: i % 3 === 0 ? ['\\Seen'] : i % 50 === 1 ? ['\\Seen', '\\Flagged'] : [], internalDate: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000), threadId: String(7_000_000 + Math.floor(i / 3)) });
  }
  for (let i = 0; i < spam + trash; i++)
    seeds.push({ raw: raws[n + i]!, flags: ['\\Seen'], internalDate: new Date(Date.UTC(2024, 6, 1) + i * 3_600_000), ...(i < spam ? { spam: true } : { trash: true }) });
  return { seeds, distinctBytes: seeds.reduce((s, m) => s + m.raw.length, 0), labelMemberships: count, withoutMessageId };
}
