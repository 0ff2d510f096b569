#!/usr/bin/env node
// The floor for a no-change backup as a whole Node process: load imapflow, connect, LIST with
// STATUS (what Mailkeep asks to decide that nothing changed), log out. Used by bench-nochange.mjs.
// usage: node scripts/bench-nochange-floor.mjs <port> <user>   (password in MK_BENCH_PW)
import { ImapFlow } from 'imapflow';

const [port, user] = process.argv.slice(2);
const client = new ImapFlow({ host: '127.0.0.1', port: Number(port), secure: false, doSTARTTLS: false, auth: { user, pass: process.env.MK_BENCH_PW }, logger: false });
client.on('error', () => undefined);
await client.connect();
const list = await client.list({ statusQuery: { messages: true, uidNext: true, uidValidity: true, highestModseq: true } });
await client.logout();
console.log(JSON.stringify({ folders: list.length }));
