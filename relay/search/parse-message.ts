import { Readable, Transform, type TransformCallback } from 'node:stream';
import mailsplit from '@zone-eu/mailsplit';
import { compile } from 'html-to-text';
import libmime from 'libmime';
import { MailParser, type AddressObject, type EmailAddress, type AttachmentStream, type HeaderLines, type MessageText } from 'mailparser';
import { RELAY_LIMITS, SEARCH_LIMITS } from '../../lib/limits.ts';
import { MailkeepError } from '../../lib/protocol/error-codes.ts';
import { reclaimStreamChunks } from '../imap/append-reclaim.ts';
import { clip } from './search-text.ts';

/**
 * One archived message read as a person sees it: decoded headers, the text of its body (text/plain,
 * else the text of its HTML), the HTML, and its attachments' names and sizes. mailparser (with
 * mailsplit, libmime and iconv-lite: imapflow's own family) does all MIME, transfer-encoding,
 * charset and encoded-word decoding; nothing here decodes by hand.
 *
 * Memory does not grow with the message: a message above SEARCH_LIMITS.wholeParseBytes is streamed
 * from its pack through mailsplit, keeping only the first bytes of each inline text part (mailparser
 * holds those whole), and attachments are streamed through and only counted.
 *
 * A message mailparser cannot read is never dropped: its header block is decoded on its own
 * (libmime) and `error` says why the rest could not be read.
 */
export interface ParsedMessage {
  /** Decoded Subject; From, To, Cc as "Name <address>, ..." (encoded words and charsets decoded). */
  subject: string;
  from: string;
  to: string;
  cc: string;
  /** The Date header as epoch ms, or null when missing or not a date (never "now"). */
  date: number | null;
  /** Header fields in order, values decoded (`keepHeaders` only). */
  headers: { name: string; value: string }[];
  /** Body text, at most `textChars` characters. */
  text: string;
  /** The HTML body (`keepHtml` only), at most `textChars` characters. */
  html: string | null;
  /** Text or HTML was longer than `textChars`. */
  truncated: boolean;
  attachments: { filename: string; size: number; contentType: string; related: boolean }[];
  /** Why the MIME structure could not be read, or null. */
  error: string | null;
}

export interface MessageSource {
  size: number;
  /** The whole message (small ones). */
  buffer?: Buffer;
  /** The message as a stream (large ones). */
  stream?: () => Readable;
  /** The first `bytes` of the message: the header block when the MIME parse fails. */
  head: (bytes: number) => Buffer;
}

export interface ParseOptions {
  textChars: number;
  /** false: attachment sizes are not needed (indexing), so large messages skip their bodies. */
  attachmentSizes?: boolean;
  keepHtml?: boolean;
  keepHeaders?: boolean;
}

const TEXT_TYPES = ['text/plain', 'text/html', 'message/delivery-status'];

/** mailsplit node fields the cap needs (its typings describe the splitter's output loosely). */
interface SplitNode {
  root?: boolean;
  contentType?: string | false;
  disposition?: string | false;
}
interface SplitChunk {
  type: string;
  node?: SplitNode;
  value?: Buffer;
}

/**
 * Keeps the first `cap` bytes of each inline text part (the ones mailparser collects whole) and
 * passes everything else through, so a huge text body costs `cap`, not its size. With
 * `dropAttachments` (indexing: only the names matter), the bodies of other parts are left out too.
 * Every RELAY_LIMITS.streamReclaimEveryBytes it asks for a minor GC: the splitter makes an object per
 * line, dead at once, which V8 otherwise lets pile up (+20-28 MB for a 100 MB message, measured).
 */
class TextPartCap extends Transform {
  private readonly seen = new WeakMap<object, number>();
  private sinceReclaim = 0;
  constructor(
    private readonly cap: number,
    private readonly dropAttachments: boolean,
  ) {
    super({ objectMode: true });
  }
  override _transform(chunk: SplitChunk, _enc: BufferEncoding, done: TransformCallback): void {
    if (chunk.value) {
      this.sinceReclaim += chunk.value.length;
      if (this.sinceReclaim >= RELAY_LIMITS.streamReclaimEveryBytes) {
        this.sinceReclaim = 0;
        reclaimStreamChunks();
      }
    }
    if (chunk.type === 'body' && chunk.node && chunk.value) {
      if (!isInlineText(chunk.node)) return this.dropAttachments ? done() : done(null, chunk);
      const seen = this.seen.get(chunk.node) ?? 0;
      if (seen >= this.cap) return done();
      this.seen.set(chunk.node, seen + chunk.value.length);
      if (seen + chunk.value.length > this.cap) chunk.value = chunk.value.subarray(0, this.cap - seen);
    }
    done(null, chunk);
  }
}

function isInlineText(node: SplitNode): boolean {
  const type = node.contentType || (node.root ? 'text/plain' : '');
  return TEXT_TYPES.includes(type) && (!node.disposition || node.disposition === 'inline');
}

/** "Name <address>, ..." as a person reads it (mailparser's own text quotes every name). */
function addressText(v: AddressObject | AddressObject[] | undefined): string {
  if (!v) return '';
  const one = (e: EmailAddress): string =>
    e.group ? `${e.name}: ${e.group.map(one).join(', ')};` : e.name && e.address ? `${e.name} <${e.address}>` : e.name || e.address || '';
  return (Array.isArray(v) ? v : [v])
    .flatMap((a) => a.value.map(one))
    .filter((x) => x)
    .join(', ');
}

/** The raw value of the first header line named `name` (unfolded), from mailparser's header lines. */
function rawHeader(lines: HeaderLines | null, name: string): string | null {
  const line = lines?.find((l) => l.key === name)?.line;
  if (line === undefined) return null;
  const colon = line.indexOf(':');
  return line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
}

/** An RFC 5322 date as epoch ms, or null: mailparser turns an unreadable Date into "now". */
export function parseDateHeader(value: string | null): number | null {
  if (!value) return null;
  const ms = Date.parse(value.replace(/\([^)]*\)/g, ' ').trim());
  return Number.isFinite(ms) ? ms : null;
}

/** Compiled once: html-to-text's convert() builds its selector tree on every call (most of its cost). */
const htmlToText = compile({
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
  ],
});

/** The text of an HTML body, its markup and link targets left out. */
export function textOfHtml(html: string): string {
  try {
    return htmlToText(html);
  } catch {
    return '';
  }
}

export async function parseMessage(source: MessageSource, opts: ParseOptions): Promise<ParsedMessage> {
  const parser = new MailParser({ skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true, checksumAlgo: false, maxHtmlLengthToParse: opts.textChars * SEARCH_LIMITS.textPartCapFactor });
  let headerLines: HeaderLines | null = null;
  let textPart: MessageText | null = null;
  const attachments: ParsedMessage['attachments'] = [];
  parser.on('headerLines', (l: HeaderLines) => {
    headerLines = l;
  });
  // The parser's output: the text at the end, each attachment counted as it streams past (the
  // parser waits for it to be released before it goes on). Plain events and pipe(): stream.pipeline
  // with an async consumer cost this parse four times its CPU (measured: 4 ms against 1 ms a message).
  parser.on('data', (d: AttachmentStream | MessageText) => {
    if (d.type === 'text') {
      textPart = d;
      return;
    }
    const att = { filename: d.filename ?? '', size: 0, contentType: d.contentType, related: d.related === true };
    if (attachments.length < SEARCH_LIMITS.showAttachmentsMax) attachments.push(att);
    d.content.on('data', (c: Buffer) => {
      att.size += c.length;
    });
    d.content.on('end', () => d.release?.());
    d.content.on('error', () => d.release?.());
  });
  let error: string | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      parser.once('end', resolve);
      parser.once('error', reject);
      if (source.buffer && source.size <= SEARCH_LIMITS.wholeParseBytes) {
        parser.end(source.buffer);
        return;
      }
      const stages = [
        source.stream ? source.stream() : Readable.from([source.buffer!]),
        new mailsplit.Splitter(),
        new TextPartCap(opts.textChars * SEARCH_LIMITS.textPartCapFactor, opts.attachmentSizes === false),
        new mailsplit.Joiner(),
      ];
      for (const st of stages) (st as NodeJS.EventEmitter).once('error', reject);
      let s: NodeJS.ReadableStream = stages[0] as Readable;
      for (const st of stages.slice(1)) s = s.pipe(st as Transform);
      s.pipe(parser);
    });
  } catch (err) {
    // The bytes could not be read (a damaged blob): that is the archive's error, not the message's.
    if (err instanceof MailkeepError) throw err;
    error = err instanceof Error ? err.message : String(err);
  }
  const parsedHeaders = headerLines !== null;
  const lines: HeaderLines | null = headerLines ?? headerBlockLines(source.head(SEARCH_LIMITS.headerScanBytes));
  if (!parsedHeaders && error === null) error = 'no header block';
  const text = (textPart as MessageText | null)?.text || '';
  const html = (textPart as MessageText | null)?.html || '';
  const bodyText = text || (html ? textOfHtml(html.length > opts.textChars * SEARCH_LIMITS.textPartCapFactor ? html.slice(0, opts.textChars * SEARCH_LIMITS.textPartCapFactor) : html) : '');
  const decoded = (name: string) => decodeValue(rawHeader(lines, name));
  return {
    subject: clip(parsedHeaders && typeof parser.subject === 'string' ? parser.subject : decoded('subject'), SEARCH_LIMITS.headerChars),
    from: clip(parsedHeaders ? addressText(parser.from) || decoded('from') : decoded('from'), SEARCH_LIMITS.headerChars),
    to: clip(parsedHeaders ? addressText(parser.to) || decoded('to') : decoded('to'), SEARCH_LIMITS.headerChars),
    cc: clip(parsedHeaders ? addressText(parser.cc) || decoded('cc') : decoded('cc'), SEARCH_LIMITS.headerChars),
    date: parseDateHeader(rawHeader(lines, 'date')),
    headers: opts.keepHeaders ? (lines ?? []).slice(0, SEARCH_LIMITS.showHeadersMax).map((l) => headerField(l.line)) : [],
    text: clip(bodyText, opts.textChars),
    html: opts.keepHtml && html ? clip(html, opts.textChars) : null,
    truncated: bodyText.length > opts.textChars || (opts.keepHtml === true && html.length > opts.textChars),
    attachments,
    error,
  };
}

function decodeValue(v: string | null): string {
  if (!v) return '';
  try {
    return libmime.decodeWords(v).trim();
  } catch {
    return v;
  }
}

function headerField(line: string): { name: string; value: string } {
  const colon = line.indexOf(':');
  const name = colon < 0 ? line.trim() : line.slice(0, colon).trim();
  const value = colon < 0 ? '' : line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
  return { name: clip(name, 256), value: clip(decodeValue(value), SEARCH_LIMITS.headerChars) };
}

/** The header lines of a raw header block (up to the first empty line), unfolded, keyed by lower-case name. */
function headerBlockLines(head: Buffer): HeaderLines {
  const s = head.toString('utf8');
  const end = s.search(/\r?\n\r?\n/);
  const block = end >= 0 ? s.slice(0, end) : s;
  const out: { key: string; line: string }[] = [];
  for (const line of block.split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push({ key: line.slice(0, colon).trim().toLowerCase(), line });
  }
  return out;
}
