/**
 * A stateful fake IMAP server (node:net) with Gmail's personality, as Google documents it
 * (developers.google.com/gmail/imap/imap-extensions and "IMAP folders and labels"):
 *
 * - CAPABILITY with X-GM-EXT-1, UIDPLUS, SPECIAL-USE and XLIST; LIST shows `[Gmail]` (\Noselect)
 *   with All Mail (\All), Drafts, Important, Sent Mail, Spam (\Junk), Starred (\Flagged), Trash,
 *   INBOX and every user label as a folder (nested with `/`).
 * - One store of messages, each with labels. A folder is a view: INBOX holds the messages labelled
 *   \Inbox, a user folder those with its label, Starred the \Flagged ones, All Mail every message
 *   but Spam and Trash, Spam and Trash their own. Each folder numbers its messages with its own
 *   UIDs (a message entering a folder gets the folder's next UID).
 * - FETCH of X-GM-MSGID, X-GM-THRID, X-GM-LABELS, BODY[] (whole or partial), BODY[HEADER.FIELDS],
 *   RFC822.SIZE, FLAGS, INTERNALDATE; APPEND (the message gets the folder's label; APPENDUID),
 *   STORE +/-X-GM-LABELS and +/-FLAGS, COPY (adds the target's label, as Gmail does), UID SEARCH,
 *   STATUS, SELECT/EXAMINE, CREATE.
 *
 * Counters for tests: body bytes sent (BODY[] literals, what "downloaded once" is measured by),
 * APPENDs, STOREs of labels. `limits` is Gmail's daily byte budget (issue 14, part 2): once the bytes
 * sent by BODY[] FETCHes reach `downloadBytes`, a FETCH of a body is answered
 * `NO [OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)`; once the bytes received
 * by APPEND reach `uploadBytes`, an APPEND is (and nothing is stored). `resetDay()` simulates the
 * next day (the tallies go back to 0).
 */
import net from 'node:net';

export interface GmailSeedMessage {
  raw: Buffer;
  /** Labels as Gmail names them: "\\Inbox", "\\Sent", "\\Important", "\\Draft" or a user label ("Work/2024"). */
  labels?: string[];
  flags?: string[];
  internalDate?: Date;
  /** In Spam or Trash (then in no other folder, as in Gmail). */
  spam?: boolean;
  trash?: boolean;
  threadId?: string;
}

export interface GmailMessage {
  msgId: string;
  threadId: string;
  raw: Buffer;
  labels: Set<string>;
  flags: Set<string>;
  internalDate: Date;
  spam: boolean;
  trash: boolean;
  /** Insertion order: UIDs are handed out in it. */
  seq: number;
}

interface FolderDef {
  name: string;
  attrs: string[];
  /** The label this folder shows (null: All Mail, Spam, Trash). */
  label: string | null;
  member: (m: GmailMessage) => boolean;
  uidValidity: number;
  uidNext: number;
  uids: Map<GmailMessage, number>;
}

export interface FakeGmailCounters {
  /** Bytes of BODY[] literals sent (whole or partial): the downloaded content. */
  bodyBytesSent: number;
  /** Bytes of header-field literals sent (Message-ID lookups). */
  headerBytesSent: number;
  appends: number;
  labelStores: number;
  fetchCommands: number;
  logins: number;
}

/** Refusals a real Gmail can give; change them between runs. */
export interface FakeGmailFaults {
  /** STORE +X-GM-LABELS naming one of these labels is answered NO (e.g. a label Gmail will not create). */
  refuseLabels?: string[];
}

/** Gmail's daily byte budget; the tallies and refusal counts are the fake's (read them in tests). */
export interface FakeGmailLimits {
  downloadBytes?: number;
  uploadBytes?: number;
  /** Body bytes sent since the last resetDay(). */
  downloaded?: number;
  /** APPENDed bytes stored since the last resetDay(). */
  uploaded?: number;
  /** Commands answered [OVERQUOTA]: FETCHes and APPENDs. */
  refusedFetches?: number;
  refusedAppends?: number;
}

export const GMAIL_BANDWIDTH_NO = 'NO [OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)';

export interface FakeGmail {
  port: number;
  faults: FakeGmailFaults;
  commands: string[];
  counters: FakeGmailCounters;
  /** The byte budget (change it between runs); an empty object when none was given. */
  limits: FakeGmailLimits;
  /** The next day: the download and upload tallies go back to 0. */
  resetDay(): void;
  messages: GmailMessage[];
  /** Every user-visible folder name (wire names, modified UTF-7 as stored). */
  folderNames(): string[];
  /** Labels of each message, for assertions: system labels as Gmail names them, starred as \Starred. */
  labelsOf(m: GmailMessage): string[];
  deliver(seed: GmailSeedMessage): GmailMessage;
  addLabel(m: GmailMessage, label: string): void;
  removeLabel(m: GmailMessage, label: string): void;
  resetCounters(): void;
  close(): Promise<void>;
}

const SYSTEM_FOLDERS: { name: string; attrs: string[]; label: string | null; kind: 'label' | 'all' | 'spam' | 'trash' | 'starred' }[] = [
  { name: 'INBOX', attrs: [], label: '\\Inbox', kind: 'label' },
  { name: '[Gmail]/All Mail', attrs: ['\\All'], label: null, kind: 'all' },
  { name: '[Gmail]/Drafts', attrs: ['\\Drafts'], label: '\\Draft', kind: 'label' },
  { name: '[Gmail]/Important', attrs: ['\\Important'], label: '\\Important', kind: 'label' },
  { name: '[Gmail]/Sent Mail', attrs: ['\\Sent'], label: '\\Sent', kind: 'label' },
  { name: '[Gmail]/Spam', attrs: ['\\Junk'], label: null, kind: 'spam' },
  { name: '[Gmail]/Starred', attrs: ['\\Flagged'], label: '\\Starred', kind: 'starred' },
  { name: '[Gmail]/Trash', attrs: ['\\Trash'], label: null, kind: 'trash' },
];

const CAPS = 'IMAP4rev1 UNSELECT IDLE NAMESPACE ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS ENABLE SPECIAL-USE LITERAL+ MOVE';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function imapDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** "1-Jan-2024 10:00:00 +0100" (APPEND's date-time) as a Date. */
function parseImapDate(s: string): Date {
  const m = /^\s*(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(s);
  if (!m) throw new Error(`bad date-time ${s}`);
  const off = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  return new Date(Date.UTC(Number(m[3]), MONTHS.indexOf(m[2]!), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - off * 60_000);
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** A parsed command argument: an atom, a quoted string or literal (`q`), or a parenthesised list. */
type Tok = { a: string } | { q: string; lit?: Buffer } | Tok[];

const text = (t: Tok | undefined): string => (t === undefined ? '' : Array.isArray(t) ? '' : 'a' in t ? t.a : t.q);

function tokenize(s: string, literals: Buffer[]): Tok[] {
  let i = 0;
  const list = (): Tok[] => {
    const out: Tok[] = [];
    while (i < s.length) {
      const c = s[i]!;
      if (c === ' ') i++;
      else if (c === ')') {
        i++;
        return out;
      } else if (c === '(') {
        i++;
        out.push(list());
      } else if (c === '"') {
        let v = '';
        for (i++; i < s.length && s[i] !== '"'; i++) v += s[i] === '\\' ? s[++i] : s[i];
        i++;
        out.push({ q: v });
      } else if (c === '\0') {
        const end = s.indexOf('\0', i + 1);
        const lit = literals[Number(s.slice(i + 1, end))]!;
        out.push({ q: lit.toString('latin1'), lit });
        i = end + 1;
      } else {
        let v = '';
        let depth = 0;
        while (i < s.length && (depth > 0 || !' ()"'.includes(s[i]!))) {
          if (s[i] === '[') depth++;
          if (s[i] === ']') depth--;
          v += s[i++];
        }
        out.push({ a: v });
      }
    }
    return out;
  };
  return list();
}

function headerOf(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  return raw.subarray(0, end < 0 ? raw.length : end + 2).toString('latin1');
}

function headerField(raw: Buffer, name: string): string | null {
  const unfolded = headerOf(raw).replace(/\r\n[ \t]+/g, ' ');
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(unfolded);
  return m ? m[1]!.trim() : null;
}

export async function startFakeGmail(
  opts: {
    messages?: GmailSeedMessage[];
    labels?: string[];
    password?: string;
    limits?: FakeGmailLimits;
    /** A localized All Mail, e.g. "[Gmail]/Alle Nachrichten". */
    allMailName?: string;
    faults?: FakeGmailFaults;
  } = {},
): Promise<FakeGmail> {
  const faults: FakeGmailFaults = opts.faults ?? {};
  const messages: GmailMessage[] = [];
  const userLabels = new Set<string>(opts.labels ?? []);
  let nextSeq = 1;
  let nextMsgId = 1_600_000_000_000_000_000n;
  let nextValidity = 600;
  const counters: FakeGmailCounters = { bodyBytesSent: 0, headerBytesSent: 0, appends: 0, labelStores: 0, fetchCommands: 0, logins: 0 };
  const folders = new Map<string, FolderDef>();
  const commands: string[] = [];
  const limits: FakeGmailLimits = opts.limits ?? {};

  const define = (name: string, attrs: string[], label: string | null, member: (m: GmailMessage) => boolean): void => {
    if (!folders.has(name)) folders.set(name, { name, attrs, label, member, uidValidity: nextValidity++, uidNext: 1, uids: new Map() });
  };
  for (const sys of SYSTEM_FOLDERS) {
    const f = sys.kind === 'all' && opts.allMailName ? { ...sys, name: opts.allMailName } : sys;
    const member =
      f.kind === 'all' ? (m: GmailMessage) => !m.spam && !m.trash
      : f.kind === 'spam' ? (m: GmailMessage) => m.spam
      : f.kind === 'trash' ? (m: GmailMessage) => m.trash
      : f.kind === 'starred' ? (m: GmailMessage) => !m.spam && !m.trash && m.flags.has('\\Flagged')
      : (m: GmailMessage) => !m.spam && !m.trash && m.labels.has(f.label!);
    define(f.name, f.attrs, f.label, member);
  }
  const defineLabel = (label: string): void => {
    userLabels.add(label);
    // Parents of a nested label exist as folders too (Gmail shows "Work" for "Work/2024").
    const parts = label.split('/');
    for (let k = 1; k < parts.length; k++) if (!folders.has(parts.slice(0, k).join('/'))) defineLabel(parts.slice(0, k).join('/'));
    define(label, [], label, (m) => !m.spam && !m.trash && m.labels.has(label));
  };
  for (const l of userLabels) defineLabel(l);

  /** The folder's members with their UIDs: newcomers get the next UIDs, leavers lose theirs. */
  const sync = (f: FolderDef): [GmailMessage, number][] => {
    for (const m of [...f.uids.keys()]) if (!f.member(m) || !messages.includes(m)) f.uids.delete(m);
    for (const m of messages) if (f.member(m) && !f.uids.has(m)) f.uids.set(m, f.uidNext++);
    return [...f.uids].sort((a, b) => a[1] - b[1]);
  };
  const labelToFolder = (label: string): FolderDef | undefined => {
    for (const f of folders.values()) if (f.label !== null && f.label.toLowerCase() === label.toLowerCase()) return f;
    return undefined;
  };

  const deliver = (seed: GmailSeedMessage): GmailMessage => {
    const msgId = String(nextMsgId++);
    const m: GmailMessage = {
      msgId,
      threadId: seed.threadId ?? msgId,
      raw: seed.raw,
      labels: new Set(),
      flags: new Set(seed.flags ?? []),
      internalDate: seed.internalDate ?? new Date(Date.UTC(2024, 0, 1) + messages.length * 60_000),
      spam: seed.spam ?? false,
      trash: seed.trash ?? false,
      seq: nextSeq++,
    };
    for (const l of seed.labels ?? []) addLabel(m, l);
    messages.push(m);
    return m;
  };
  function addLabel(m: GmailMessage, label: string): void {
    if (label.toLowerCase() === '\\starred') return void m.flags.add('\\Flagged');
    const sys = SYSTEM_FOLDERS.find((f) => f.label?.toLowerCase() === label.toLowerCase());
    if (sys) return void m.labels.add(sys.label!);
    if (!folders.has(label)) defineLabel(label);
    m.labels.add(label);
  }
  function removeLabel(m: GmailMessage, label: string): void {
    if (label.toLowerCase() === '\\starred') return void m.flags.delete('\\Flagged');
    for (const l of m.labels) if (l.toLowerCase() === label.toLowerCase()) m.labels.delete(l);
  }
  const labelsOf = (m: GmailMessage): string[] => [...m.labels, ...(m.flags.has('\\Flagged') ? ['\\Starred'] : [])].sort();
  for (const s of opts.messages ?? []) deliver(s);

  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    const w = (s: string | Buffer): void => {
      if (!sock.destroyed) sock.write(s);
    };
    w(`* OK Gimap ready for requests from 127.0.0.1 fake\r\n`);
    let authed = false;
    let selected: FolderDef | null = null;
    let readOnly = false;
    let idleTag: string | null = null;
    /** The command being assembled: text with literal placeholders, and the literals. */
    let line = '';
    let literals: Buffer[] = [];
    let want: number | null = null;
    let buf = Buffer.alloc(0);

    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (want !== null) {
          if (buf.length < want) return;
          literals.push(Buffer.from(buf.subarray(0, want)));
          line += `\0${literals.length - 1}\0`;
          buf = buf.subarray(want);
          want = null;
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const part = buf.subarray(0, nl).toString('latin1');
        buf = buf.subarray(nl + 2);
        const lit = /\{(\d+)(\+?)\}$/.exec(part);
        if (lit) {
          line += part.slice(0, lit.index);
          want = Number(lit[1]);
          if (!lit[2]) w('+ go ahead\r\n');
          continue;
        }
        const whole = line + part;
        const lits = literals;
        line = '';
        literals = [];
        commands.push(whole.replace(/^(\S+ LOGIN \S+) .*/i, '$1 ***').replace(/\0\d+\0/g, '{literal}'));
        try {
          handle(whole, lits);
        } catch (err) {
          const tag = /^(\S+)/.exec(whole)?.[1] ?? '*';
          w(`${tag} BAD ${(err as Error).message}\r\n`);
        }
      }
    });

    const seqOf = (f: FolderDef, uid: number): number => sync(f).findIndex(([, u]) => u === uid) + 1;

    /** Messages of the selected folder a sequence set names (by UID or by number), in UID order. */
    const resolve = (set: string, byUid: boolean): [GmailMessage, number][] => {
      const rows = sync(selected!);
      const max = byUid ? (rows.at(-1)?.[1] ?? 0) : rows.length;
      const picked = new Set<number>();
      for (const p of set.split(',')) {
        const [a, b] = p.split(':');
        const n = (x: string): number => (x === '*' ? max : Number(x));
        const lo = n(a!);
        const hi = b === undefined ? lo : n(b);
        const [from, to] = lo <= hi ? [lo, hi] : [hi, lo];
        rows.forEach(([, uid], k) => {
          const key = byUid ? uid : k + 1;
          if (key >= from && key <= to) picked.add(k);
        });
      }
      return [...picked].sort((x, y) => x - y).map((k) => rows[k]!);
    };

    const mailboxArg = (t: Tok | undefined): string => {
      const name = text(t);
      return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
    };

    function handle(cmdLine: string, lits: Buffer[]): void {
      if (idleTag) {
        if (cmdLine.toUpperCase() === 'DONE') w(`${idleTag} OK IDLE terminated\r\n`);
        idleTag = null;
        return;
      }
      const toks = tokenize(cmdLine, lits);
      const tag = text(toks[0]);
      let cmd = text(toks[1]).toUpperCase();
      let args = toks.slice(2);
      let byUid = false;
      if (cmd === 'UID') {
        byUid = true;
        cmd = text(args[0]).toUpperCase();
        args = args.slice(1);
      }
      const ok = (t = 'Success'): void => w(`${tag} OK ${t}\r\n`);
      const no = (t: string): void => w(`${tag} NO ${t}\r\n`);
      switch (cmd) {
        case 'CAPABILITY':
          w(`* CAPABILITY ${CAPS}\r\n`);
          return ok();
        case 'ID':
          w('* ID ("name" "GImap" "vendor" "Google, Inc.")\r\n');
          return ok();
        case 'LOGIN': {
          if (opts.password !== undefined && text(args[1]) !== opts.password) return no('[AUTHENTICATIONFAILED] Invalid credentials (Failure)');
          authed = true;
          counters.logins++;
          return ok(`[CAPABILITY ${CAPS}] fake@gmail.com authenticated (Success)`);
        }
        case 'NAMESPACE':
          w('* NAMESPACE (("" "/")) NIL NIL\r\n');
          return ok();
        case 'ENABLE':
        case 'NOOP':
        case 'CHECK':
        case 'LSUB':
        case 'EXPUNGE':
          return ok();
        case 'IDLE':
          idleTag = tag;
          return void w('+ idling\r\n');
        case 'LOGOUT':
          w('* BYE LOGOUT Requested\r\n');
          ok('73 good day (Success)');
          return void sock.end();
      }
      if (!authed) return void w(`${tag} BAD not authenticated\r\n`);
      switch (cmd) {
        case 'LIST':
        case 'XLIST': {
          // LIST (SPECIAL-USE) "" "*" and LIST "" "*": Gmail shows its special-use attributes either way.
          const rest = args.filter((t) => !Array.isArray(t));
          const pattern = text(rest[1]);
          if (pattern === '') return void (w('* LIST (\\Noselect) "/" "/"\r\n'), ok());
          const names = [...folders.keys(), '[Gmail]'].sort();
          for (const name of names) {
            const f = folders.get(name);
            const children = names.some((n) => n.startsWith(`${name}/`));
            const attrs = [...(f ? f.attrs : ['\\Noselect']), children ? '\\HasChildren' : '\\HasNoChildren'];
            w(`* ${cmd} (${attrs.join(' ')}) "/" ${quote(name)}\r\n`);
          }
          return ok();
        }
        case 'STATUS': {
          const f = folders.get(mailboxArg(args[0]));
          if (!f) return no('[NONEXISTENT] Unknown Mailbox');
          const rows = sync(f);
          const items = (args[1] as Tok[]).map((t) => text(t).toUpperCase());
          const out = items.map((it) =>
            it === 'MESSAGES' ? `MESSAGES ${rows.length}`
            : it === 'UIDNEXT' ? `UIDNEXT ${f.uidNext}`
            : it === 'UIDVALIDITY' ? `UIDVALIDITY ${f.uidValidity}`
            : it === 'UNSEEN' ? `UNSEEN ${rows.filter(([m]) => !m.flags.has('\\Seen')).length}`
            : it === 'RECENT' ? 'RECENT 0'
            : '',
          );
          w(`* STATUS ${quote(f.name)} (${out.filter(Boolean).join(' ')})\r\n`);
          return ok();
        }
        case 'SELECT':
        case 'EXAMINE': {
          const f = folders.get(mailboxArg(args[0]));
          if (!f) return no('[NONEXISTENT] Unknown Mailbox');
          selected = f;
          readOnly = cmd === 'EXAMINE';
          const rows = sync(f);
          w('* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing)\r\n');
          w('* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing \\*)] Flags permitted.\r\n');
          w(`* OK [UIDVALIDITY ${f.uidValidity}] UIDs valid.\r\n* ${rows.length} EXISTS\r\n* 0 RECENT\r\n* OK [UIDNEXT ${f.uidNext}] Predicted next UID.\r\n`);
          return ok(`[${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${f.name} selected. (Success)`);
        }
        case 'UNSELECT':
        case 'CLOSE':
          selected = null;
          return ok();
        case 'CREATE': {
          const name = mailboxArg(args[0]).replace(/\/$/, '');
          if (folders.has(name)) return no('[ALREADYEXISTS] Duplicate folder name');
          if (name.startsWith('[Gmail]/')) return no('[CANNOT] Invalid folder name');
          defineLabel(name);
          return ok();
        }
        case 'APPEND': {
          const f = folders.get(mailboxArg(args[0]));
          if (!f) return no('[TRYCREATE] Folder does not exist');
          let k = 1;
          const flags = Array.isArray(args[k]) ? (args[k++] as Tok[]).map(text) : [];
          const date = args[k] && !Array.isArray(args[k]) && 'q' in (args[k] as object) && !(args[k] as { lit?: Buffer }).lit ? text(args[k++]) : null;
          const body = (args[k] as { lit?: Buffer } | undefined)?.lit;
          if (!body) return void w(`${tag} BAD missing message literal\r\n`);
          if (limits.uploadBytes !== undefined && (limits.uploaded ?? 0) >= limits.uploadBytes) {
            limits.refusedAppends = (limits.refusedAppends ?? 0) + 1;
            return void w(`${tag} ${GMAIL_BANDWIDTH_NO}\r\n`);
          }
          limits.uploaded = (limits.uploaded ?? 0) + body.length;
          counters.appends++;
          const m = deliver({ raw: body, flags, internalDate: date ? parseImapDate(date) : undefined, spam: f.attrs.includes('\\Junk'), trash: f.attrs.includes('\\Trash') });
          if (f.label === '\\Starred') m.flags.add('\\Flagged');
          else if (f.label) m.labels.add(f.label);
          const uid = sync(f).find(([x]) => x === m)![1];
          if (selected === f) w(`* ${sync(f).length} EXISTS\r\n`);
          return ok(`[APPENDUID ${f.uidValidity} ${uid}] (Success)`);
        }
      }
      if (!selected) return void w(`${tag} BAD No mailbox selected\r\n`);
      const f = selected;
      switch (cmd) {
        case 'SEARCH': {
          const rows = sync(f);
          const hits = rows.filter(([m, uid]) => matches(args, m, uid, rows));
          w(`* SEARCH${hits.map(([m, u]) => ` ${byUid ? u : rows.findIndex(([x]) => x === m) + 1}`).join('')}\r\n`);
          return ok('SEARCH completed (Success)');
        }
        case 'FETCH': {
          counters.fetchCommands++;
          const rows = resolve(text(args[0]), byUid);
          const items = (Array.isArray(args[1]) ? (args[1] as Tok[]) : args.slice(1)).map((t) => text(t).toUpperCase());
          if (limits.downloadBytes !== undefined && (limits.downloaded ?? 0) >= limits.downloadBytes && items.some((k) => /^BODY(?:\.PEEK)?\[\]/.test(k))) {
            limits.refusedFetches = (limits.refusedFetches ?? 0) + 1;
            return void w(`${tag} ${GMAIL_BANDWIDTH_NO}\r\n`);
          }
          for (const [m, uid] of rows) fetchOne(m, uid, items, byUid);
          return ok('Success');
        }
        case 'STORE': {
          if (readOnly) return no('STORE attempt on READ-ONLY folder (Failure)');
          const rows = resolve(text(args[0]), byUid);
          const op = text(args[1]).toUpperCase();
          const values = (Array.isArray(args[2]) ? (args[2] as Tok[]) : args.slice(2)).map(text);
          const silent = op.endsWith('.SILENT');
          const labelsOp = op.replace('.SILENT', '').replace(/^[+-]/, '') === 'X-GM-LABELS';
          if (labelsOp) counters.labelStores++;
          if (labelsOp && values.some((v) => faults.refuseLabels?.includes(v))) return no('[CANNOT] Invalid label (Failure)');
          for (const [m] of rows) {
            if (labelsOp) {
              if (op.startsWith('+')) for (const l of values) addLabel(m, l);
              else if (op.startsWith('-')) for (const l of values) removeLabel(m, l);
              else {
                for (const l of labelsOf(m)) removeLabel(m, l);
                for (const l of values) addLabel(m, l);
              }
            } else if (op.startsWith('+')) for (const fl of values) m.flags.add(fl);
            else if (op.startsWith('-')) for (const fl of values) m.flags.delete(fl);
            else m.flags = new Set(values);
          }
          if (!silent) for (const [m, uid] of rows) if (f.uids.has(m)) fetchOne(m, uid, labelsOp ? ['X-GM-LABELS'] : ['FLAGS'], byUid);
          return ok('Success');
        }
        case 'COPY':
        case 'MOVE': {
          const to = folders.get(mailboxArg(args[1]));
          if (!to) return no('[TRYCREATE] Folder does not exist');
          const rows = resolve(text(args[0]), byUid);
          for (const [m] of rows) {
            if (to.attrs.includes('\\Trash')) m.trash = true;
            else if (to.attrs.includes('\\Junk')) m.spam = true;
            else if (to.label) addLabel(m, to.label);
            if (cmd === 'MOVE' && f.label) removeLabel(m, f.label);
          }
          const got = rows.map(([m, uid]) => [uid, sync(to).find(([x]) => x === m)?.[1]] as const).filter(([, u]) => u !== undefined);
          return ok(`[COPYUID ${to.uidValidity} ${got.map(([u]) => u).join(',')} ${got.map(([, u]) => u).join(',')}] (Success)`);
        }
        default:
          return void w(`${tag} BAD Unknown command ${cmd}\r\n`);
      }
    }

    function fetchOne(m: GmailMessage, uid: number, items: string[], byUid: boolean): void {
      const f = selected!;
      const parts: (string | Buffer)[] = [];
      const seen = new Set<string>();
      const add = (s: string | Buffer): void => void parts.push(s);
      const want = (k: string): void => {
        if (seen.has(k)) return;
        seen.add(k);
        switch (k) {
          case 'UID': return add(`UID ${uid}`);
          case 'FLAGS': return add(`FLAGS (${[...m.flags].join(' ')})`);
          case 'INTERNALDATE': return add(`INTERNALDATE "${imapDate(m.internalDate)}"`);
          case 'RFC822.SIZE': return add(`RFC822.SIZE ${m.raw.length}`);
          case 'X-GM-MSGID': return add(`X-GM-MSGID ${m.msgId}`);
          case 'X-GM-THRID': return add(`X-GM-THRID ${m.threadId}`);
          case 'X-GM-LABELS': {
            // Gmail leaves out the label of the folder being looked at.
            const ls = labelsOf(m).filter((l) => f.label === null || l.toLowerCase() !== f.label.toLowerCase());
            return add(`X-GM-LABELS (${ls.map(quote).join(' ')})`);
          }
          case 'FAST': ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'].forEach(want); return;
          case 'ALL': ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'].forEach(want); return;
          case 'MODSEQ': return;
        }
        const body = /^BODY(?:\.PEEK)?\[(.*)\](?:<(\d+)(?:\.(\d+))?>)?$/.exec(k);
        if (!body) return;
        const section = body[1]!;
        let data: Buffer;
        let label: string;
        if (section === '') {
          const start = body[2] ? Number(body[2]) : 0;
          data = body[3] ? m.raw.subarray(start, start + Number(body[3])) : m.raw.subarray(start);
          label = body[2] ? `BODY[]<${start}>` : 'BODY[]';
          counters.bodyBytesSent += data.length;
          limits.downloaded = (limits.downloaded ?? 0) + data.length;
        } else if (/^HEADER\.FIELDS/.test(section)) {
          const names = section.replace(/^HEADER\.FIELDS(\.NOT)? \(|\)$/g, '').split(' ').filter(Boolean);
          const lines = names.map((n) => (headerField(m.raw, n) !== null ? `${n}: ${headerField(m.raw, n)}\r\n` : '')).join('');
          data = Buffer.from(`${lines}\r\n`, 'latin1');
          label = `BODY[${section}]`;
          counters.headerBytesSent += data.length;
        } else if (section === 'HEADER') {
          data = Buffer.from(headerOf(m.raw) + '\r\n', 'latin1');
          label = 'BODY[HEADER]';
          counters.headerBytesSent += data.length;
        } else return;
        add(Buffer.concat([Buffer.from(`${label} {${data.length}}\r\n`), data]));
      };
      if (byUid) want('UID');
      for (const k of items) want(k);
      const seq = seqOf(f, uid);
      const out: Buffer[] = [Buffer.from(`* ${seq} FETCH (`)];
      parts.forEach((p, k) => out.push(Buffer.from(k ? ' ' : ''), Buffer.from(p)));
      out.push(Buffer.from(')\r\n'));
      w(Buffer.concat(out));
    }

    /** SEARCH keys imapflow sends: ALL, UID set, HEADER name value, LARGER, SMALLER, SINCE, BEFORE, X-GM-MSGID, X-GM-THRID, NOT. */
    function matches(keys: Tok[], m: GmailMessage, uid: number, rows: [GmailMessage, number][]): boolean {
      for (let k = 0; k < keys.length; k++) {
        const t = keys[k]!;
        if (Array.isArray(t)) {
          if (!matches(t, m, uid, rows)) return false;
          continue;
        }
        const key = text(t).toUpperCase();
        const arg = (): string => text(keys[++k]);
        const day = (s: string): number => {
          const [d, mon, y] = s.split('-');
          return Date.UTC(Number(y), MONTHS.indexOf(mon!), Number(d));
        };
        const mDay = Date.UTC(m.internalDate.getUTCFullYear(), m.internalDate.getUTCMonth(), m.internalDate.getUTCDate());
        switch (key) {
          case 'ALL': break;
          case 'UID': {
            const set = arg();
            const max = rows.at(-1)?.[1] ?? 0;
            const inSet = set.split(',').some((p) => {
              const [a, b] = p.split(':');
              const n = (x: string): number => (x === '*' ? max : Number(x));
              const lo = n(a!);
              const hi = b === undefined ? lo : n(b);
              return uid >= Math.min(lo, hi) && uid <= Math.max(lo, hi);
            });
            if (!inSet) return false;
            break;
          }
          case 'HEADER': {
            const name = arg();
            const v = arg();
            const h = headerField(m.raw, name);
            if (h === null || !h.toLowerCase().includes(v.toLowerCase())) return false;
            break;
          }
          case 'LARGER': if (!(m.raw.length > Number(arg()))) return false; break;
          case 'SMALLER': if (!(m.raw.length < Number(arg()))) return false; break;
          case 'SINCE': if (mDay < day(arg())) return false; break;
          case 'BEFORE': if (mDay >= day(arg())) return false; break;
          case 'X-GM-MSGID': if (m.msgId !== arg()) return false; break;
          case 'X-GM-THRID': if (m.threadId !== arg()) return false; break;
          case 'NOT': {
            const next = keys[++k]!;
            if (matches([next], m, uid, rows)) return false;
            break;
          }
          default:
            throw new Error(`SEARCH key ${key} not understood by the fake`);
        }
      }
      return true;
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    counters,
    faults,
    limits,
    resetDay() {
      limits.downloaded = 0;
      limits.uploaded = 0;
    },
    messages,
    folderNames: () => [...folders.keys()].sort(),
    labelsOf,
    deliver,
    addLabel,
    removeLabel,
    resetCounters() {
      for (const k of Object.keys(counters) as (keyof FakeGmailCounters)[]) counters[k] = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
