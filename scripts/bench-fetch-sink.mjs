#!/usr/bin/env node
// The practical limit for a backup: imapflow fetching every message body of every folder to
// nowhere (bytes counted, then dropped). Used by bench-backup.mjs as a peer.
// usage: node scripts/bench-fetch-sink.mjs <port> <user>   (password in MK_BENCH_PW)
import { ImapFlow } from 'imapflow';

const [port, user] = process.argv.slice(2);
const client = new ImapFlow({ host: '127.0.0.1', port: Number(port), secure: false, doSTARTTLS: false, auth: { user, pass: process.env.MK_BENCH_PW }, logger: false });
client.on('error', () => undefined);
await client.connect();
let messages = 0;
let bytes = 0;
for (const f of await client.list()) {
  if (f.flags.has('\\Noselect') || f.flags.has('\\NonExistent')) continue;
  const box = await client.mailboxOpen(f.path, { readOnly: true });
  if (!box.exists) continue;
  for await (const m of client.fetch('1:*', { uid: true, source: true, flags: true, internalDate: true, size: true }, { uid: true })) {
    messages++;
    bytes += m.source.length;
  }
}
await client.logout();
console.log(JSON.stringify({ messages, bytes }));
