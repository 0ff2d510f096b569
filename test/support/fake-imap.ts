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
  /** UIDs whose body the server cannot read: a FETCH including them sends the others, then `NO`. */
  unreadableUids?: number[];
}

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
    sock.write('* OK [CAPABILITY IMAP4rev1 LITERAL+] fake ready\r\n');
    let selected: string | null = null;
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let nl;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        commands.push(line.replace(/^(\S+ LOGIN \S+) .*/i, '$1 ***'));
        handle(line);
      }
    });
    const w = (s: string | Buffer): boolean => !sock.destroyed && sock.write(s);
    const unquote = (s: string): string => (s.startsWith('"') ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s);
    function handle(line: string): void {
      const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return;
      const [, tag, rawCmd, rest = ''] = m;
      const cmd = rawCmd!.toUpperCase();
      const ok = (text = 'done'): boolean => w(`${tag} OK ${text}\r\n`);
      switch (cmd) {
        case 'CAPABILITY':
          w('* CAPABILITY IMAP4rev1 LITERAL+\r\n');
          return void ok();
        case 'LOGIN': {
          const pass = unquote(rest.split(' ').slice(1).join(' '));
          if (opts.password !== undefined && pass !== opts.password) return void w(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n`);
          return void ok('[CAPABILITY IMAP4rev1 LITERAL+] logged in');
        }
        case 'LSUB':
          return void ok();
        case 'LIST':
          if (rest.endsWith('""')) return void (w('* LIST (\\Noselect) "/" ""\r\n'), ok()); // delimiter probe
          for (const name of Object.keys(opts.folders)) w(`* LIST () "/" "${name}"\r\n`);
          return void ok();
        case 'STATUS': {
          const name = unquote(/^("(?:[^"\\]|\\.)*"|\S+)/.exec(rest)![1]!);
          const msgs = opts.folders[name] ?? [];
          const next = (msgs.at(-1)?.uid ?? 0) + 1;
          w(`* STATUS "${name}" (MESSAGES ${msgs.length} UIDNEXT ${next} UIDVALIDITY 7)\r\n`);
          return void ok();
        }
        case 'EXAMINE':
        case 'SELECT': {
          const name = unquote(/^("(?:[^"\\]|\\.)*"|\S+)/.exec(rest.trim())![1]!);
          if (faults.unreadable?.includes(name) || !(name in opts.folders)) return void w(`${tag} NO Permission denied\r\n`);
          selected = name;
          const msgs = opts.folders[name]!;
          w(`* FLAGS (\\Seen \\Flagged)\r\n* ${msgs.length} EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT ${(msgs.at(-1)?.uid ?? 0) + 1}] ok\r\n`);
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
    function uid(tag: string, rest: string): void {
      const msgs = selected ? opts.folders[selected]! : [];
      const [sub, set = '', ...more] = rest.split(' ');
      if (sub!.toUpperCase() === 'SEARCH') {
        w(`* SEARCH ${msgs.map((x) => x.uid).join(' ')}\r\n${tag} OK search done\r\n`);
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
      let failed = false;
      for (const [i, x] of msgs.entries()) {
        if (!wanted.has(x.uid)) continue;
        if (body && faults.unreadableUids?.includes(x.uid)) {
          failed = true;
          continue;
        }
        const head = `* ${i + 1} FETCH (UID ${x.uid} FLAGS (${(x.flags ?? []).join(' ')}) INTERNALDATE "01-Jan-2020 00:00:00 +0000" RFC822.SIZE ${x.raw.length}`;
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
        const partial = /BODY\.PEEK\[\]<0\.(\d+)>/.exec(items);
        const part = partial ? x.raw.subarray(0, Number(partial[1])) : x.raw;
        const label = partial ? 'BODY[]<0>' : 'BODY[]';
        w(Buffer.concat([Buffer.from(`${head} ${label} {${part.length}}\r\n`), part, Buffer.from(')\r\n')]));
      }
      w(failed ? `${tag} NO [SERVERBUG] Some messages could not be FETCHed\r\n` : `${tag} OK fetch done\r\n`);
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
