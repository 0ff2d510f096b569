/**
 * A scriptable fake IMAP server (node:net) for faults a real server cannot be made to produce on
 * demand: never greeting, stalling mid-FETCH, dropping the connection inside a literal, BYE, a NO
 * for one folder. Just enough IMAP4rev1 for imapflow's login, LIST, STATUS, EXAMINE, UID SEARCH
 * and UID FETCH; every command line received is recorded.
 */
import net from 'node:net';

export interface FakeMessage {
  uid: number;
  raw: Buffer;
  flags?: string[];
}

export interface FakeFaults {
  /** Accept the TCP connection and say nothing. */
  stallGreeting?: boolean;
  /** On a body FETCH: send the start of the literal, then nothing (and keep the socket open). */
  stallMidLiteral?: boolean;
  /** On a body FETCH: send the start of the literal, then destroy the socket. */
  dropMidLiteral?: boolean;
  /** On a body FETCH: answer `* BYE` and close. */
  byeOnFetch?: boolean;
  /** Folders whose EXAMINE gets `NO`. */
  unreadable?: string[];
  /** UIDs whose file the server cannot read: a FETCH of any body section including them sends the others, then `NO`. */
  unreadableUids?: number[];
  /** UIDs a body FETCH silently leaves out while still answering OK (they stay in SEARCH). */
  omitUids?: number[];
  /** UID -> bytes: the body literal announces its true length but carries this many bytes fewer. */
  shortLiteral?: Record<number, number>;
  /** UID -> bytes: the body literal announces its true length but carries this many bytes more. */
  longLiteral?: Record<number, number>;
  /** UID -> UID: that message's literal runs on past its announced length with bytes that parse as
   * a FETCH response for the second UID (e.g. a mail quoting an IMAP transcript, after a server
   * miscounted the literal). */
  smuggle?: Record<number, number>;
  /** UID -> bytes: a well-formed literal whose body is this many bytes shorter than RFC822.SIZE. */
  truncatedBody?: Record<number, number>;
  /** UIDs on whose body FETCH the server drops the connection (after sending the UIDs before them). */
  dropOnUids?: number[];
  /** UIDs whose body literal is sent one byte every `trickleMs`. */
  trickleUids?: number[];
  trickleMs?: number;
  /** Commands ("LIST", "EXAMINE", "UID SEARCH") whose whole answer is sent one byte every `trickleMs`. */
  trickleCommands?: string[];
  /** Advertise UTF8=ACCEPT and take ENABLE; names are then listed (and must be opened) as raw UTF-8. */
  utf8Accept?: boolean;
  /** Folder -> text sent as its UIDVALIDITY / EXISTS (default 7 / the message count): impossible numbers, or a new generation. */
  uidValidity?: Record<string, string>;
  exists?: Record<string, string>;
  /** Extra UIDs appended to every UID SEARCH answer (e.g. "0" or "4294967296"). */
  searchExtra?: string;
  /** UID -> RFC822.SIZE text sent instead of the true size. */
  sizeText?: Record<number, string>;
  /** The tagged answer to every LOGIN, after the tag (a provider's refusal: "NO [ALERT] Too many simultaneous connections. (Failure)"). */
  loginReply?: string;
  /** A provider's limits (Gmail, Microsoft 365): see ProviderLimitFaults. */
  providerLimits?: ProviderLimitFaults;
}

/** What a provider answers when an account is over its limits; shared by every connection. */
export interface ProviderLimitFaults {
  /**
   * Gmail's daily download budget: body bytes sent over all sessions (`downloaded`, which a test
   * resets to 0 when a simulated day has passed). Once it is spent, every FETCH of a body or header
   * section gets `NO [OVERQUOTA] Account exceeded command or bandwidth limits.` (as Gmail does).
   */
  downloadBudgetBytes?: number;
  downloaded?: number;
  /** How many commands got the [OVERQUOTA] answer (a client that stops at once gets exactly one per session). */
  refusals?: number;
  /** With a spent budget, LOGIN too is refused: `NO [ALERT] Account exceeded command or bandwidth limits.` */
  loginRefusedWhenSpent?: boolean;
  /**
   * Command name (LOGIN, EXAMINE, SELECT, FETCH, BODYFETCH, HEADERFETCH, APPEND, STORE, SEARCH) ->
   * the answer instead of doing it: untagged lines first, then the tagged `status` line (omitted
   * when absent), then `bye` (a `* BYE` line) and the socket closed. FETCH means any UID FETCH;
   * BODYFETCH one that asks for BODY[]; HEADERFETCH one that asks for a header section only.
   * With `times`, only the next that many such commands are refused.
   */
  refuse?: Record<string, { untagged?: string[]; status?: string; bye?: string; times?: number }>;
}

/** Gmail's bandwidth answer, word for word. */
export const GMAIL_OVERQUOTA = 'NO [OVERQUOTA] Account exceeded command or bandwidth limits. (Failure)';
/** Microsoft 365's throttling answer (then it says BYE). */
export const OUTLOOK_THROTTLED = (ms: number): string => `BAD Request is throttled. Suggested Backoff Time: ${ms} milliseconds`;

export interface FakeImap {
  port: number;
  commands: string[];
  /** The live fault settings: change them between runs. */
  faults: FakeFaults;
  close(): Promise<void>;
}

export async function startFakeImap(opts: { folders: Record<string, FakeMessage[]>; faults?: FakeFaults; password?: string }): Promise<FakeImap> {
  const faults = opts.faults ?? {};
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    if (faults.stallGreeting) return;
    const caps = (): string => `IMAP4rev1 LITERAL+${faults.utf8Accept ? ' ENABLE UTF8=ACCEPT' : ''}`;
    sock.write(`* OK [CAPABILITY ${caps()}] fake ready\r\n`);
    const uidValidity = (name: string): string => faults.uidValidity?.[name] ?? '7';
    let selected: string | null = null;
    let buf = Buffer.alloc(0);
    /** A command whose literal (APPEND) is still arriving: its first line and the bytes still owed. */
    let literal: { line: string; left: number } | null = null;
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      let nl;
      for (;;) {
        if (literal) {
          // The literal's bytes are data, never commands; the command goes on after them.
          const take = Math.min(literal.left, buf.length);
          literal.left -= take;
          buf = buf.subarray(take);
          if (literal.left > 0) return;
        }
        if ((nl = buf.indexOf('\r\n')) < 0) return;
        const part = buf.subarray(0, nl).toString('utf8'); // UTF8=ACCEPT names arrive as UTF-8
        buf = buf.subarray(nl + 2);
        const line = literal ? literal.line + part : part;
        literal = null;
        const lit = /\{(\d+)(\+?)\}$/.exec(part);
        if (lit) {
          literal = { line, left: Number(lit[1]) };
          if (!lit[2]) sock.write('+ go ahead\r\n');
          continue;
        }
        commands.push(line.replace(/^(\S+ LOGIN \S+) .*/i, '$1 ***'));
        const name = /^\S+ (UID \S+|\S+)/.exec(line)?.[1]?.toUpperCase() ?? '';
        if (!faults.trickleCommands?.includes(name)) handle(line);
        else {
          // The whole answer, one byte every trickleMs: each byte restarts an idle timeout.
          captured = [];
          handle(line);
          const out = Buffer.concat(captured);
          captured = null;
          let at = 0;
          const timer = setInterval(() => {
            if (sock.destroyed || at >= out.length) return void clearInterval(timer);
            sock.write(out.subarray(at, ++at));
          }, faults.trickleMs ?? 200);
        }
      }
    });
    let captured: Buffer[] | null = null;
    const w = (s: string | Buffer): boolean => {
      if (captured) return captured.push(Buffer.from(s)) > 0;
      return !sock.destroyed && sock.write(s);
    };
    const unquote = (s: string): string => (s.startsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s);
    function handle(line: string): void {
      const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return;
      const [, tag, rawCmd, rest = ''] = m;
      const cmd = rawCmd!.toUpperCase();
      const ok = (text = 'done'): boolean => w(`${tag} OK ${text}\r\n`);
      if (limited(tag!, cmd, rest)) return;
      switch (cmd) {
        case 'CAPABILITY':
          w(`* CAPABILITY ${caps()}\r\n`);
          return void ok();
        case 'ENABLE':
          if (faults.utf8Accept && /UTF8=ACCEPT/i.test(rest)) w('* ENABLED UTF8=ACCEPT\r\n');
          return void ok();
        case 'APPEND':
          return void ok('[APPENDUID 7 1] appended');
        case 'LOGIN': {
          if (faults.loginReply) return void w(`${tag} ${faults.loginReply}\r\n`);
          const pass = unquote(rest.split(' ').slice(1).join(' '));
          if (opts.password !== undefined && pass !== opts.password) return void w(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n`);
          return void ok(`[CAPABILITY ${caps()}] logged in`);
        }
        case 'LSUB':
          return void ok();
        case 'LIST':
          if (rest.endsWith('""')) return void (w('* LIST (\\Noselect) "/" ""\r\n'), ok()); // delimiter probe
          for (const name of Object.keys(opts.folders)) w(`* LIST () "/" "${name.replace(/["\\]/g, '\\$&')}"\r\n`);
          return void ok();
        case 'STATUS': {
          const name = unquote(/^("(?:[^"\\]|\\.)*"|\S+)/.exec(rest)![1]!);
          const msgs = opts.folders[name] ?? [];
          const next = (msgs.at(-1)?.uid ?? 0) + 1;
          w(`* STATUS "${name}" (MESSAGES ${faults.exists?.[name] ?? msgs.length} UIDNEXT ${next} UIDVALIDITY ${uidValidity(name)})\r\n`);
          return void ok();
        }
        case 'EXAMINE':
        case 'SELECT': {
          const name = unquote(/^("(?:[^"\\]|\\.)*"|\S+)/.exec(rest.trim())![1]!);
          if (faults.unreadable?.includes(name) || !(name in opts.folders)) return void w(`${tag} NO Permission denied\r\n`);
          selected = name;
          const msgs = opts.folders[name]!;
          w(`* FLAGS (\\Seen \\Flagged)\r\n* ${faults.exists?.[name] ?? msgs.length} EXISTS\r\n* OK [UIDVALIDITY ${uidValidity(name)}] ok\r\n* OK [UIDNEXT ${(msgs.at(-1)?.uid ?? 0) + 1}] ok\r\n`);
          return void ok(cmd === 'EXAMINE' ? '[READ-ONLY] examined' : '[READ-WRITE] selected');
        }
        case 'UID':
          return uid(tag!, rest);
        case 'LOGOUT':
          w('* BYE bye\r\n');
          ok();
          sock.end();
          return;
        default:
          return void ok();
      }
    }
    /** The provider's refusal of this command, when one is set (ProviderLimitFaults); true when it answered. */
    function limited(tag: string, cmd: string, rest: string): boolean {
      const pl = faults.providerLimits;
      if (!pl) return false;
      const items = rest.toUpperCase();
      const fetch = cmd === 'UID' && /^FETCH /.test(items);
      const names = [cmd];
      if (fetch) names.push('FETCH', items.includes('BODY.PEEK[]') || items.includes('BODY[]') ? 'BODYFETCH' : items.includes('BODY') ? 'HEADERFETCH' : 'METAFETCH');
      if (cmd === 'UID') names.push(items.split(' ')[0]!);
      const spent = pl.downloadBudgetBytes !== undefined && (pl.downloaded ?? 0) >= pl.downloadBudgetBytes;
      if (spent && fetch && items.includes('BODY')) {
        pl.refusals = (pl.refusals ?? 0) + 1;
        return void w(`${tag} ${GMAIL_OVERQUOTA}\r\n`), true;
      }
      if (spent && cmd === 'LOGIN' && pl.loginRefusedWhenSpent) return void w(`${tag} NO [ALERT] Account exceeded command or bandwidth limits. (Failure)\r\n`), true;
      const r = names.map((n) => pl.refuse?.[n]).find((x) => x && (x.times === undefined || x.times > 0));
      if (!r) return false;
      if (r.times !== undefined) r.times--; // a refusal for the next `times` such commands only
      for (const u of r.untagged ?? []) w(`${u}\r\n`);
      if (r.status) w(`${tag} ${r.status}\r\n`);
      if (r.bye) {
        w(`${r.bye}\r\n`);
        sock.end();
      }
      return true;
    }
    function uid(tag: string, rest: string): void {
      const msgs = selected ? opts.folders[selected]! : [];
      const [sub, set = '', ...more] = rest.split(' ');
      if (sub!.toUpperCase() === 'SEARCH') {
        w(`* SEARCH ${msgs.map((x) => x.uid).join(' ')}${faults.searchExtra ? ` ${faults.searchExtra}` : ''}\r\n${tag} OK search done\r\n`);
        return;
      }
      const wanted = new Set<number>();
      for (const part of set.split(',')) {
        const [a, b] = part.split(':');
        const lo = Number(a);
        const hi = b === undefined ? lo : b === '*' ? Infinity : Number(b);
        for (const x of msgs) if (x.uid >= Math.min(lo, hi) && x.uid <= Math.max(lo, hi)) wanted.add(x.uid);
      }
      const items = more.join(' ').toUpperCase();
      const body = items.includes('BODY.PEEK[]') || items.includes('BODY[]');
      // Any section (a header field included) needs the file: unreadable and dropping UIDs fail it too, as on Dovecot.
      const content = items.includes('BODY');
      let failed = false;
      const todo = msgs.map((x, i) => ({ x, i })).filter(({ x }) => wanted.has(x.uid));
      const next = (k: number): void => {
        for (; k < todo.length; k++) {
          const { x, i } = todo[k]!;
          if (content && faults.unreadableUids?.includes(x.uid)) {
            failed = true;
            continue;
          }
          if (body && faults.omitUids?.includes(x.uid)) continue;
          if (content && faults.dropOnUids?.includes(x.uid)) return void sock.destroy();
          const head = `* ${i + 1} FETCH (UID ${x.uid} FLAGS (${(x.flags ?? []).join(' ')}) INTERNALDATE "01-Jan-2020 00:00:00 +0000" RFC822.SIZE ${faults.sizeText?.[x.uid] ?? x.raw.length}`;
          if (!body) {
            w(`${head})\r\n`);
            continue;
          }
          if (faults.byeOnFetch) {
            w('* BYE server shutting down\r\n');
            sock.end();
            return;
          }
          if (faults.stallMidLiteral || faults.dropMidLiteral) {
            w(Buffer.concat([Buffer.from(`* ${i + 1} FETCH (UID ${x.uid} BODY[] {${x.raw.length}}\r\n`), x.raw.subarray(0, Math.floor(x.raw.length / 2))]));
            if (faults.dropMidLiteral) sock.destroy();
            return;
          }
          const partial = /BODY\.PEEK\[\]<(\d+)\.(\d+)>/.exec(items);
          let part = partial ? x.raw.subarray(Number(partial[1]), Number(partial[1]) + Number(partial[2])) : x.raw;
          part = part.subarray(0, part.length - (faults.truncatedBody?.[x.uid] ?? 0));
          const announced = part.length;
          if (faults.shortLiteral?.[x.uid]) part = part.subarray(0, part.length - faults.shortLiteral[x.uid]!);
          if (faults.longLiteral?.[x.uid]) part = Buffer.concat([part, Buffer.alloc(faults.longLiteral[x.uid]!, 'X')]);
          const forged = faults.smuggle?.[x.uid];
          if (forged !== undefined) part = Buffer.concat([part, Buffer.from(`)\r\n* ${forged} FETCH (UID ${forged} BODY[]<0> {5}\r\nHELLO`)]);
          if (faults.providerLimits) faults.providerLimits.downloaded = (faults.providerLimits.downloaded ?? 0) + part.length;
          const label = partial ? `BODY[]<${partial[1]}>` : 'BODY[]';
          const whole = Buffer.concat([Buffer.from(`${head} ${label} {${announced}}\r\n`), part, Buffer.from(')\r\n')]);
          if (faults.trickleUids?.includes(x.uid)) {
            // One byte at a time: every byte restarts a plain idle timeout, so only a rate deadline ends it.
            let at = 0;
            const timer = setInterval(() => {
              if (sock.destroyed) return void clearInterval(timer);
              w(whole.subarray(at, at + 1));
              if (++at >= whole.length) {
                clearInterval(timer);
                next(k + 1);
              }
            }, faults.trickleMs ?? 200);
            return;
          }
          w(whole);
        }
        w(failed ? `${tag} NO [SERVERBUG] Some messages could not be FETCHed\r\n` : `${tag} OK fetch done\r\n`);
      };
      next(0);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    faults,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
