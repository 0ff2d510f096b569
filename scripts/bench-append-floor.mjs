#!/usr/bin/env node
// The practical floor for a restore: imapflow appending every file of a Maildir++ tree, one
// APPEND after another (imapflow has no MULTIAPPEND or pipelining), with flags from the file name
// and INTERNALDATE from its mtime; no duplicate check, no hash check, no archive. Used by
// bench-restore.mjs as a peer.
// usage: node scripts/bench-append-floor.mjs <port> <user> <maildir>   (password in MK_BENCH_PW)
import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';

const [port, user, root] = process.argv.slice(2);
const FLAGS = { S: '\\Seen', F: '\\Flagged', R: '\\Answered', D: '\\Draft', T: '\\Deleted' };
const client = new ImapFlow({ host: '127.0.0.1', port: Number(port), secure: false, doSTARTTLS: false, auth: { user, pass: process.env.MK_BENCH_PW }, logger: false });
client.on('error', () => undefined);
await client.connect();
let messages = 0;
let bytes = 0;
const folders = ['', ...fs.readdirSync(root).filter((d) => d.startsWith('.') && fs.statSync(path.join(root, d)).isDirectory())];
for (const dir of folders) {
  const name = dir ? dir.slice(1).replaceAll('.', '/') : 'INBOX';
  if (dir) await client.mailboxCreate(name);
  for (const sub of ['cur', 'new']) {
    const d = path.join(root, dir, sub);
    if (!fs.existsSync(d)) continue;
    for (const file of fs.readdirSync(d)) {
      const p = path.join(d, file);
      const raw = fs.readFileSync(p);
      const info = file.split(':2,')[1] ?? '';
      const flags = [...info].map((c) => FLAGS[c]).filter(Boolean);
      await client.append(name, raw, flags, fs.statSync(p).mtime);
      messages++;
      bytes += raw.length;
    }
  }
}
await client.logout();
console.log(JSON.stringify({ messages, bytes }));
