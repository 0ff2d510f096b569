/**
 * A loopback TCP proxy in front of an IMAP server that records every command line the client
 * sends, so a test can prove what a backup did (and did not) ask the server. LOGIN arguments are
 * masked: secrets never reach test output.
 */
import net from 'node:net';

export interface ImapProxy {
  port: number;
  /** Command lines as sent, tag included, e.g. "5 EXAMINE INBOX". */
  lines: string[];
  /** Command verbs (UID FETCH -> "UID FETCH"). */
  verbs(): string[];
  clear(): void;
  close(): Promise<void>;
}

export async function startImapProxy(target: { host: string; port: number }): Promise<ImapProxy> {
  const lines: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    let buf = '';
    client.on('data', (d) => {
      buf += d.toString('latin1');
      let nl;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        lines.push(line.replace(/^(\S+ (?:LOGIN|AUTHENTICATE) \S+).*/i, '$1 ***'));
      }
      upstream.write(d);
    });
    upstream.on('data', (d) => client.write(d));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    lines,
    verbs() {
      return lines
        .map((l) => l.split(' '))
        .filter((p) => p.length >= 2 && /^[A-Za-z0-9.]+$/.test(p[0]!))
        .map((p) => (p[1]!.toUpperCase() === 'UID' ? `UID ${(p[2] ?? '').toUpperCase()}` : p[1]!.toUpperCase()));
    },
    clear() {
      lines.length = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
