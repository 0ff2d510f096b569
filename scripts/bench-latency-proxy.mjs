#!/usr/bin/env node
// A loopback TCP proxy that delays every chunk by a fixed time in each direction: a server with a
// real round trip (a remote provider) for the benchmarks, where Dovecot on loopback answers in
// microseconds. A process of its own: the benchmarks run their peers with spawnSync, which would
// stop a proxy in their own event loop. Prints its port, then runs until killed.
// usage: node scripts/bench-latency-proxy.mjs <target port> <one-way delay ms>
import net from 'node:net';

const [target, delay] = process.argv.slice(2).map(Number);
const server = net.createServer((client) => {
  const upstream = net.connect(target, '127.0.0.1');
  // Timers of one delay fire in the order they were set: the byte order is kept.
  const relay = (from, to) => from.on('data', (d) => setTimeout(() => to.destroyed || to.write(d), delay));
  relay(client, upstream);
  relay(upstream, client);
  const end = () => setTimeout(() => (client.destroy(), upstream.destroy()), delay);
  for (const s of [client, upstream]) s.on('error', end).on('close', end);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
