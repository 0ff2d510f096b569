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
// Then memory: the peak RSS of a migrate of an account holding one very large message (100 MB by
// default) beside small ones, against the same without it (issue 9: less than 20 MB more).
//
// Environment: MAILKEEP_BENCH_MIGRATE_MESSAGES (default 20000; e.g. 2000 for a quick run),
// MAILKEEP_BENCH_FSYNC=1 (Dovecot's mail_fsync=optimized instead of never), MAILKEEP_BENCH_LARGE_MB
// (default 100; 0 skips the memory rows), MAILKEEP_BENCH_DIR.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from './bench-corpus.mjs';
import { benchWorkDir, HAS_MBSYNC, printLoadAverage, requireDovecot, root, startDovecot, timed as timedAll } from './bench-support.mjs';

const COUNT = Number(process.env.MAILKEEP_BENCH_MIGRATE_MESSAGES ?? 20000);
const LARGE_MB = Number(process.env.MAILKEEP_BENCH_LARGE_MB ?? 100);
const FSYNC = process.env.MAILKEEP_BENCH_FSYNC === '1';

requireDovecot();

const work = benchWorkDir('mk-bench-migrate-');
/** A failure names the command and its first two arguments; the output may be large. */
const timed = (cmd, args, env) => timedAll(cmd, args, env, { maxBuffer: 256 * 1024 * 1024, errorArgs: 2 });
const users = ['src', 'mk', 'mb', 'src-small', 'src-large', 'dst-small', 'dst-large'].map((name) => ({ name, password: `${name}pw` }));
const { largeMessageFixture, RSS_GROWTH_BUDGET_MB } = await import(path.join(root, 'test/support/large-message.ts'));

const side = (prefix, port, user) => [`--${prefix}-host`, '127.0.0.1', `--${prefix}-port`, String(port), `--${prefix}-security`, 'none', `--${prefix}-user`, user, `--${prefix}-password-env`, prefix === 'from' ? 'MK_SRC_PW' : 'MK_DST_PW'];
const migrate = (port, to, pw, from = 'src') =>
  timed(process.execPath, [path.join(root, 'bin/mailkeep.js'), 'migrate', ...side('from', port, from), ...side('to', port, to), '--json'], { MK_SRC_PW: `${from}pw`, MK_DST_PW: pw });

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

  if (LARGE_MB > 0) {
    // Memory, not time: the large message goes from partial FETCHes straight into the literal.
    await largeMessageFixture(dc, (u) => `${u}pw`, LARGE_MB);
    const rss = {};
    for (const size of ['small', 'large']) {
      const r = migrate(dc.port, `dst-${size}`, `dst-${size}pw`, `src-${size}`);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
      if (out.statusId !== 'completed') throw new Error(`migrate of src-${size}: ${JSON.stringify({ ...out, plan: undefined })}`);
      rss[size] = r.rssMb;
    }
    console.log(`\npeak RSS of a migrate (memory, issue 9: growth under ${RSS_GROWTH_BUDGET_MB} MB)`);
    console.log(`${'three small messages'.padEnd(44)} ${rss.small?.toFixed(1) ?? '?'} MB`);
    console.log(`${`the same plus one of ${LARGE_MB} MB`.padEnd(44)} ${rss.large?.toFixed(1) ?? '?'} MB  (+${(rss.large - rss.small).toFixed(1)} MB)`);
  }
  printLoadAverage();
} finally {
  await dc.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
