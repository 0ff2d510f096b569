/**
 * A loopback TCP proxy in front of an IMAP server that can trickle the server's bytes (so a backup
 * is still running when a test acts) and be pointed at another port (Dovecot restarted on a new
 * one). A target that refuses makes the proxy drop the client at once, as a dead server would.
 */
import net from 'node:net';

export interface SlowProxy {
  port: number;
  /** Bytes per 30 ms tick sent to the client; Infinity for full speed. */
  throttle(bytesPerTick: number): void;
  retarget(port: number): void;
  close(): void;
}

export async function startSlowProxy(targetPort: number, tickMs = 30): Promise<SlowProxy> {
  let bytesPerTick = Infinity;
  let target = targetPort;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    let queue = Buffer.alloc(0);
    const flush = (): void => {
      if (queue.length === 0) return;
      const n = Number.isFinite(bytesPerTick) ? bytesPerTick : queue.length;
      client.write(queue.subarray(0, n));
      queue = queue.subarray(n);
    };
    const timer = setInterval(flush, tickMs);
    upstream.on('data', (d: Buffer) => {
      queue = Buffer.concat([queue, d]);
      if (!Number.isFinite(bytesPerTick)) flush();
    });
    client.on('data', (d) => upstream.write(d));
    const end = (): void => {
      clearInterval(timer);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    throttle(n) {
      bytesPerTick = n;
    },
    retarget(port) {
      target = port;
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
