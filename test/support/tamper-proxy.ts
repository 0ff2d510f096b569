/**
 * A loopback TCP proxy in front of an IMAP server that can change what the client sees: rewrite
 * the server's bytes (e.g. advertise APPENDLIMIT) and cut every connection after the client has
 * sent a number of bytes (a server that keeps dropping mid-run), or refuse connections past a limit,
 * or cut a connection instead of passing on a server answer (the answer is lost, the server acted).
 */
import net from 'node:net';

export interface TamperProxy {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export async function startTamperProxy(
  target: { host: string; port: number },
  opts: { rewrite?: (serverText: string) => string; cutAfterClientBytes?: number; maxConnections?: number; cutBeforeServerText?: (serverText: string) => boolean } = {},
): Promise<TamperProxy> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((client) => {
    state.connections++;
    if (opts.maxConnections !== undefined && sockets.size >= opts.maxConnections * 2) {
      // A per-user connection limit: the server greets and says goodbye at once.
      client.end('* BYE [LIMIT] too many connections\r\n');
      return;
    }
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let sent = 0;
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (d: Buffer) => {
      const cut = opts.cutAfterClientBytes;
      // Exactly that many bytes get through, however the client's writes are chunked (pipelined
      // APPENDs arrive as one large chunk).
      if (cut !== undefined && sent + d.length > cut) {
        upstream.write(d.subarray(0, Math.max(0, cut - sent)), end);
        sent = cut;
        return;
      }
      sent += d.length;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (opts.cutBeforeServerText?.(d.toString('latin1'))) return end();
      client.write(opts.rewrite ? Buffer.from(opts.rewrite(d.toString('latin1')), 'latin1') : d);
    });
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return state.connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
