/**
 * mboxrd (the variant Thunderbird, mutt and Python read back losslessly): each message starts with
 * a "From " separator line and ends with a blank line; inside a message every line matching
 * /^>*From / gets one more ">" (a reader strips one again), so a message line "From me" and a
 * line ">From me" both survive the round trip. The message bytes are otherwise untouched (CRLF
 * stays CRLF: the archive holds the server's bytes, and a reader sees the same message).
 */

const FROM = Buffer.from('From ');
/** A line start made of this many '>' without deciding is treated as not "From ": bounds the carry. */
const MAX_CARRY = 64 * 1024;

/** asctime, as the "From " line wants it: "Thu Jan  1 00:00:00 2004" (UTC). */
export function asctime(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/**
 * What Google Takeout puts in front of each message of a Gmail mbox: `X-GM-THRID` (the thread) and
 * `X-Gmail-Labels`, the labels separated by commas ("Inbox,Important,Work/2024"); a label holding a
 * comma or a quote is quoted CSV-style. CRLF, as the message's own header lines (IMAP's).
 */
export function gmailHeaders(labels: string[], threadId: string | null): Buffer {
  const label = (l: string): string => (/[",]/.test(l) ? `"${l.replace(/"/g, '""')}"` : l);
  const lines = [...(threadId ? [`X-GM-THRID: ${threadId}`] : []), `X-Gmail-Labels: ${labels.map(label).join(',')}`];
  // Header values are one line: a label name with a line break in it cannot start a header of its own.
  return Buffer.from(lines.map((x) => x.replace(/[\r\n]+/g, ' ')).join('\r\n') + '\r\n');
}

/** Takeout's name of a label: the system folders by their special use, user labels by name. */
export function takeoutLabel(folder: string, specialUse: string | null): string | null {
  if (folder.toUpperCase() === 'INBOX') return 'Inbox';
  const names: Record<string, string | null> = { '\\Sent': 'Sent', '\\Drafts': 'Drafts', '\\Important': 'Important', '\\Flagged': 'Starred', '\\Junk': 'Spam', '\\Trash': 'Trash', '\\All': null, '\\Archive': 'Archived' };
  return specialUse !== null && specialUse in names ? names[specialUse]! : folder;
}

export function fromLine(date: Date | null): Buffer {
  return Buffer.from(`From MAILER-DAEMON ${asctime(date ?? new Date(0))}\n`);
}

/** Escapes one message fed in chunks of any size (a line may span chunks). */
export class MboxrdEscaper {
  private carry: Buffer = Buffer.alloc(0);
  private atLineStart = true;
  private lastByte = -1;

  /** Returns the escaped bytes that can be emitted now. */
  push(chunk: Buffer): Buffer[] {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    const out: Buffer[] = [];
    let i = 0;
    while (i < data.length) {
      if (this.atLineStart) {
        const verdict = fromAt(data, i);
        if (verdict === 'undecided' && data.length - i < MAX_CARRY) {
          this.carry = Buffer.from(data.subarray(i));
          break;
        }
        if (verdict === 'yes') out.push(Buffer.from('>'));
      }
      const nl = data.indexOf(0x0a, i);
      const end = nl < 0 ? data.length : nl + 1;
      out.push(data.subarray(i, end));
      this.atLineStart = nl >= 0;
      i = end;
    }
    const last = out.at(-1);
    if (last?.length) this.lastByte = last[last.length - 1]!;
    return out;
  }

  /** Flushes what is carried and ends the message so that a blank line follows it. */
  end(): Buffer[] {
    const out: Buffer[] = [];
    if (this.carry.length) {
      out.push(this.carry);
      this.lastByte = this.carry[this.carry.length - 1]!;
      this.carry = Buffer.alloc(0);
    }
    // A message that does not end with a newline gets one: the separator must start a line.
    if (this.lastByte !== 0x0a) out.push(Buffer.from('\n'));
    out.push(Buffer.from('\n'));
    return out;
  }
}

function fromAt(data: Buffer, i: number): 'yes' | 'no' | 'undecided' {
  let j = i;
  while (j < data.length && data[j] === 0x3e) j++;
  for (let k = 0; k < FROM.length; k++) {
    if (j + k >= data.length) return 'undecided';
    if (data[j + k] !== FROM[k]) return 'no';
  }
  return 'yes';
}
