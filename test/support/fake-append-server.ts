/**
 * A scriptable fake IMAP destination (node:net) for APPEND faults a real server cannot be made to
 * produce on demand: `NO [LIMIT]` / `NO [TOOBIG]` for one message, or reading a literal at a
 * trickle. Just enough IMAP4rev1 for imapflow's login and for Restore and Migrate planning (LIST,
 * CREATE, SELECT/EXAMINE of empty or filled folders, UID SEARCH, UID FETCH of headers) and for
 * APPEND with synchronizing or (optionally) LITERAL+ literals. Every APPEND is recorded.
 */
import net from 'node:net';

export interface AppendedMessage {
  folder: string;
  flags: string[];
  internalDate: string | null;
  raw: Buffer;
  /** The literal was announced non-synchronizing ({n+}). */
  nonSync: boolean;
}

export interface AppendFaults {
  /** Messages whose bytes (and flags) match get this tagged NO after their literal, e.g. '[LIMIT] too big'. */
  refuse?: { match: (raw: Buffer, flags: string[]) => boolean; response: string };
  /** Once an APPEND starts, read its literal at most `bytes` per `everyMs` (a trickling reader). */
  trickle?: { bytes: number; everyMs: number };
  /** CREATE of these names gets this tagged NO text. */
  refuseCreate?: { names: string[]; response: string };
  /** CREATE of these names answers OK, yet LIST never shows them and SELECT fails (a folder that did not stick). */
  createUnlisted?: string[];
}

export interface FakeAppendServer {
  port: number;
  appended: AppendedMessage[];
  commands: string[];
  close(): Promise<void>;
}

export async function startFakeAppendServer(opts: { literalPlus?: boolean; faults?: AppendFaults; folders?: string[] } = {}): Promise<FakeAppendServer> {
  const caps = `IMAP4rev1${opts.literalPlus ? ' LITERAL+' : ''} UIDPLUS`;
  const folders = new Set(['INBOX', ...(opts.folders ?? [])]);
  const appended: AppendedMessage[] = [];
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.write(`* OK [CAPABILITY ${caps}] fake destination ready\r\n`);
    let buf = Buffer.alloc(0);
    /** The APPEND whose literal is being read, if any. */
    let literal: { tag: string; folder: string; flags: string[]; date: string | null; size: number; nonSync: boolean } | null = null;
    let selected: string | null = null;
    let trickling = false;
    const w = (s: string): void => {
      if (!sock.destroyed) sock.write(s);
    };
    const count = (folder: string): number => appended.filter((m) => m.folder === folder).length;

    const pump = (): void => {
      for (;;) {
        if (literal) {
          if (buf.length < literal.size + 2) return;
          const raw = Buffer.from(buf.subarray(0, literal.size));
          buf = buf.subarray(literal.size + 2); // the literal and the CRLF ending the command
          const l = literal;
          literal = null;
          if (opts.faults?.refuse?.match(raw, l.flags)) w(`${l.tag} NO ${opts.faults.refuse.response}\r\n`);
          else {
            appended.push({ folder: l.folder, flags: l.flags, internalDate: l.date, raw, nonSync: l.nonSync });
            if (selected === l.folder) w(`* ${count(l.folder)} EXISTS\r\n`);
            w(`${l.tag} OK [APPENDUID 1 ${appended.length}] appended\r\n`);
          }
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString('latin1');
        buf = buf.subarray(nl + 2);
        commands.push(line.replace(/^(\S+ LOGIN \S+) .*/i, '$1 ***'));
        handle(line);
      }
    };

    const unquote = (s: string): string => (s.startsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s);
    function handle(line: string): void {
      const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return;
      const [, tag, rawCmd, rest = ''] = m;
      const cmd = rawCmd!.toUpperCase();
      const ok = (text = 'done'): void => w(`${tag} OK ${text}\r\n`);
      switch (cmd) {
        case 'CAPABILITY':
          w(`* CAPABILITY ${caps}\r\n`);
          return ok();
        case 'LOGIN':
          return ok(`[CAPABILITY ${caps}] logged in`);
        case 'LIST':
          if (rest.endsWith('""')) return (w('* LIST (\\Noselect) "/" ""\r\n'), ok());
          for (const f of folders) w(`* LIST () "/" "${f}"\r\n`);
          return ok();
        case 'CREATE': {
          const name = unquote(rest.trim());
          if (opts.faults?.refuseCreate?.names.includes(name)) return w(`${tag} NO ${opts.faults.refuseCreate.response}\r\n`);
          if (!opts.faults?.createUnlisted?.includes(name)) folders.add(name);
          return ok();
        }
        case 'SELECT':
        case 'EXAMINE': {
          const name = unquote(rest.trim());
          if (!folders.has(name)) return w(`${tag} NO no such folder\r\n`);
          selected = name;
          w(`* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft \\*)] ok\r\n`);
          w(`* ${count(name)} EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n* OK [UIDNEXT ${appended.length + 1}] ok\r\n`);
          return ok(cmd === 'EXAMINE' ? '[READ-ONLY] examined' : '[READ-WRITE] selected');
        }
        case 'UID':
          // Presence checks: nothing appended here is ever asked about twice in these tests.
          if (/^SEARCH/i.test(rest)) return (w('* SEARCH\r\n'), ok());
          return ok();
        case 'APPEND': {
          const a = /^("(?:[^"\\]|\\.)*"|\S+)(?: \(([^)]*)\))?(?: "([^"]*)")? \{(\d+)(\+?)\}$/.exec(rest);
          if (!a) return w(`${tag} BAD cannot parse APPEND\r\n`);
          literal = { tag: tag!, folder: unquote(a[1]!), flags: a[2] ? a[2].split(' ').filter(Boolean) : [], date: a[3] ?? null, size: Number(a[4]), nonSync: a[5] === '+' };
          if (!literal.nonSync) w('+ ready for literal\r\n');
          if (opts.faults?.trickle) trickleRead(opts.faults.trickle);
          return;
        }
        case 'LOGOUT':
          w('* BYE bye\r\n');
          ok();
          sock.end();
          return;
        default:
          return ok();
      }
    }

    /** From now on take at most `bytes` off the socket per `everyMs`: the kernel buffers fill and the client's writes stall. */
    function trickleRead(t: { bytes: number; everyMs: number }): void {
      // Once per connection: pipelined APPENDs would otherwise each add a reader.
      if (trickling) return;
      trickling = true;
      sock.removeListener('data', onData);
      sock.pause();
      const timer = setInterval(() => {
        const chunk = sock.read(Math.min(t.bytes, sock.readableLength || t.bytes)) as Buffer | null;
        if (chunk) {
          buf = Buffer.concat([buf, chunk]);
          pump();
        }
      }, t.everyMs);
      timers.add(timer);
      sock.on('close', () => clearInterval(timer));
    }

    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      pump();
    };
    sock.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    appended,
    commands,
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
