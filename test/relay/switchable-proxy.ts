import net from 'node:net';

/** A loopback door to Dovecot that can be shut (connection refused) and opened again on the same port. */
export async function startSwitchableProxy(targetPort: number): Promise<{ port: number; down(): Promise<void>; up(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const make = (): net.Server =>
    net.createServer((client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      for (const s of [client, upstream]) s.on('error', end).on('close', end);
    });
  let server: net.Server | undefined = make();
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const down = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
  };
  return {
    port,
    down,
    async up() {
      server = make();
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    },
    close: down,
  };
}
