#!/usr/bin/env node
// Migrate benchmark (issue 6). Prints figures, never passes or fails on time.
//
// One Dovecot on loopback; a generated mailbox (the imap-lab generator, written straight into the
// source's maildir: 20,000 messages by default, as the issue asks); then, in the same run, each
// into its own empty account:
//   - Mailkeep migrate (the real CLI, a whole process): read both sides, presence check, APPEND;
//   - mbsync (isync) configured IMAP to IMAP (two IMAPStores, Sync Pull, Create Near): the peer;
// then Mailkeep's second migrate into the same account (everything present: nothing copied).
// APPEND dominates (imap-lab.md §3.4): the question is what Mailkeep adds on top of the server.
//
// Environment: MAILKEEP_BENCH_MIGRATE_MESSAGES (default 20000; e.g. 2000 for a quick run),
// MAILKEEP_BENCH_FSYNC=1 (Dovecot's mail_fsync=optimized instead of never), MAILKEEP_BENCH_DIR.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from './bench-corpus.mjs';
import { benchWorkDir, HAS_MBSYNC, printLoadAverage, requireDovecot, root, startDovecot, timed as timedAll } from './bench-support.mjs';

const COUNT = Number(process.env.MAILKEEP_BENCH_MIGRATE_MESSAGES ?? 20000);
const FSYNC = process.env.MAILKEEP_BENCH_FSYNC === '1';

requireDovecot();

const work = benchWorkDir('mk-bench-migrate-');
/** A failure names the command and its first two arguments; the output may be large. */
const timed = (cmd, args, env) => timedAll(cmd, args, env, { maxBuffer: 256 * 1024 * 1024, errorArgs: 2 });
const users = ['src', 'mk', 'mb'].map((name) => ({ name, password: `${name}pw` }));

const side = (prefix, port, user) => [`--${prefix}-host`, '127.0.0.1', `--${prefix}-port`, String(port), `--${prefix}-security`, 'none', `--${prefix}-user`, user, `--${prefix}-password-env`, prefix === 'from' ? 'MK_SRC_PW' : 'MK_DST_PW'];
const migrate = (port, to, pw) =>
  timed(process.execPath, [path.join(root, 'bin/mailkeep.js'), 'migrate', ...side('from', port, 'src'), ...side('to', port, to), '--json'], { MK_SRC_PW: 'srcpw', MK_DST_PW: pw });

function mbsyncRc(dir, port) {
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
  const rc = path.join(dir, 'mbsyncrc');
  const account = (name) => `IMAPAccount ${name}\nHost 127.0.0.1\nPort ${port}\nUser ${name}\nPass ${name}pw\nSSLType None\nAuthMechs LOGIN\nPipelineDepth 50\n\nIMAPStore ${name}-store\nAccount ${name}\n\n`;
  fs.writeFileSync(rc, `${account('src')}${account('mb')}Channel migrate\nFar :src-store:\nNear :mb-store:\nPatterns *\nCreate Near\nSync Pull\nSyncState ${dir}/state/\nCopyArrivalDate yes\n`);
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
  return rc;
}

/** Messages in every folder of a user, counted by Dovecot itself. */
function countOf(dc, user) {
  const r = spawnSync('doveadm', ['-c', dc.confFile, 'mailbox', 'status', '-u', user, 'messages', '*'], { encoding: 'utf8' });
  return [...r.stdout.matchAll(/messages=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

const dc = await startDovecot({ users, fsync: FSYNC, dir: path.join(work, 'dovecot') });
try {
  const t0 = Date.now();
  const bytes = generate(dc.maildir('src'), COUNT, 42, { folders: [['', 0.6], ['.Archive', 0.25], ['.Sent', 0.15]] });
  dc.settle('src');
  const mib = bytes / 1048576;
  console.log(`\ncorpus: ${COUNT} messages, ${mib.toFixed(0)} MiB in 3 folders, generated in ${((Date.now() - t0) / 1000).toFixed(1)} s; mail_fsync=${FSYNC ? 'optimized' : 'never'}; ${os.cpus().length} cores`);

  const mk = migrate(dc.port, 'mk', 'mkpw');
  const res = JSON.parse(mk.stdout.trim().split('\n').at(-1));
  if (res.statusId !== 'completed' || res.migrated !== COUNT || countOf(dc, 'mk') !== COUNT) throw new Error(`mailkeep migrate: ${JSON.stringify({ ...res, plan: undefined })}`);
  const again = migrate(dc.port, 'mk', 'mkpw');
  const res2 = JSON.parse(again.stdout.trim().split('\n').at(-1));
  if (res2.migrated !== 0 || countOf(dc, 'mk') !== COUNT) throw new Error(`second migrate copied ${res2.migrated}`);

  let mb = null;
  if (HAS_MBSYNC) {
    const mdir = path.join(work, 'mbsync');
    mb = timed('mbsync', ['-q', '-c', mbsyncRc(mdir, dc.port), '-a']);
    const got = countOf(dc, 'mb');
    if (got !== COUNT) throw new Error(`mbsync copied ${got} of ${COUNT} messages`);
  }

  const row = (name, r) => console.log(`${name.padEnd(44)} ${r.wall.toFixed(2).padStart(7)} s  ${(COUNT / r.wall).toFixed(0).padStart(6)} msg/s  ${(mib / r.wall).toFixed(1).padStart(6)} MiB/s  client CPU ${r.cpu.toFixed(2)} s${r.rssMb ? `  peak RSS ${r.rssMb.toFixed(0)} MB` : ''}`);
  console.log('\nIMAP -> IMAP, into an empty account (whole process, incl. Node start-up)');
  row('Mailkeep migrate', mk);
  if (mb) row('mbsync IMAP -> IMAP (Sync Pull)', mb);
  else console.log('mbsync not installed (apt-get install isync): peer figures skipped');
  if (mb) console.log(`ratio Mailkeep / mbsync: ${(mk.wall / mb.wall).toFixed(2)}x wall, ${(mk.cpu / mb.cpu).toFixed(2)}x client CPU`);
  console.log(`\nsecond Mailkeep migrate, everything already there: ${again.wall.toFixed(2)} s (nothing copied)`);
  printLoadAverage();
} finally {
  await dc.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
