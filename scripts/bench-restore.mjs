#!/usr/bin/env node
// Restore benchmark (issue 5). Prints figures, never passes or fails on time.
//
// One Dovecot on loopback; a generated mailbox (the imap-lab generator, written straight into the
// maildir) backed up once with Mailkeep; then, in the same run, each into its own empty account:
//   - Mailkeep restore (the real CLI, a whole process): presence check, hash check, pipelined
//     APPENDs (relay/imap/append-pipeline.ts);
//   - mbsync (isync) pushing the same Maildir to the server (Sync Push, Create Far, PipelineDepth
//     50): the common peer, and the target (issue 10: restore at least as fast);
//   - a plain imapflow APPEND loop over the Maildir's files: the floor for one connection;
// and Mailkeep's second restore into the same account (everything present: nothing appended).
// APPEND costs the server 30-70x what a FETCH does (imap-lab.md §3.4): these figures mostly
// measure Dovecot, which is the point: the question is what Mailkeep adds on top.
//
// Then memory: the peak RSS of a restore whose archive holds one very large message (100 MB by
// default) beside small ones, against the same restore without it (issue 9: less than 20 MB more).
//
// Mailkeep and mbsync run in pairs, each round into fresh accounts, the order alternating; the
// ratio is the median of the rounds' ratios (a shared machine's load moves between rounds, less
// within one pair).
//
// Then the same three over a link with a round trip (MAILKEEP_BENCH_RTT_MS, default 10; 0 skips),
// a delaying proxy in front of Dovecot: a remote server, where a client that waits for each answer
// pays the round trip per message.
//
// Environment: MAILKEEP_BENCH_RESTORE_MESSAGES (default 2000), MAILKEEP_BENCH_ROUNDS (default 3),
// MAILKEEP_BENCH_BASELINE_CLI (another build's bin/mailkeep.js, e.g. main before a change, run in
// the same rounds: before and after side by side), MAILKEEP_BENCH_FSYNC=1 (Dovecot's default
// mail_fsync=optimized instead of never), MAILKEEP_BENCH_LARGE_MB (default 100; 0 skips the memory
// rows), MAILKEEP_BENCH_DIR.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from './bench-corpus.mjs';
import { benchWorkDir, HAS_MBSYNC, median, printLoadAverage, requireDovecot, root, startDovecot, startLatencyProxy, timed as timedAll } from './bench-support.mjs';

const COUNT = Number(process.env.MAILKEEP_BENCH_RESTORE_MESSAGES ?? 2000);
const LARGE_MB = Number(process.env.MAILKEEP_BENCH_LARGE_MB ?? 100);
const FSYNC = process.env.MAILKEEP_BENCH_FSYNC === '1';
const ROUNDS = Math.max(1, Number(process.env.MAILKEEP_BENCH_ROUNDS ?? 3));
const RTT_MS = Number(process.env.MAILKEEP_BENCH_RTT_MS ?? 10);
const BASELINE = process.env.MAILKEEP_BENCH_BASELINE_CLI ? path.resolve(process.env.MAILKEEP_BENCH_BASELINE_CLI) : null;

requireDovecot();

const work = benchWorkDir('mk-bench-restore-');
/** A failure names the command and its first two arguments. */
const timed = (cmd, args, env) => timedAll(cmd, args, env, { errorArgs: 2 });
const perRound = Array.from({ length: ROUNDS }, (_, r) => [`mk${r}`, `mb${r}`, `base${r}`]).flat();
const users = ['src', 'floor', ...perRound, 'mk-rtt', 'mb-rtt', 'base-rtt', 'src-small', 'src-large', 'dst-small', 'dst-large'].map((name) => ({ name, password: `${name}pw` }));
const { largeMessageFixture, RSS_GROWTH_BUDGET_MB } = await import(path.join(root, 'test/support/large-message.ts'));

const cli = (args, pw, bin = path.join(root, 'bin/mailkeep.js')) => timed(process.execPath, [bin, ...args, '--json'], { MK_BENCH_PW: pw });
const target = (port, user) => ['--host', '127.0.0.1', '--port', String(port), '--security', 'none', '--user', user, '--password-env', 'MK_BENCH_PW'];

function mbsyncRc(dir, port, maildir, user) {
  const rc = path.join(dir, 'mbsyncrc');
  fs.writeFileSync(rc, `IMAPAccount mb\nHost 127.0.0.1\nPort ${port}\nUser ${user}\nPass ${user}pw\nSSLType None\nAuthMechs LOGIN\nPipelineDepth 50\n\nIMAPStore mb-remote\nAccount mb\n\nMaildirStore local\nInbox ${maildir}\nSubFolders Maildir++\n\nChannel push\nFar :mb-remote:\nNear :local:\nPatterns *\nCreate Far\nSync Push\nSyncState ${dir}/state/\nCopyArrivalDate yes\n`);
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
  return rc;
}

/** A copy of the source Maildir without Dovecot's own files, for the peers (mbsync renames files). */
function copyMaildir(from, to) {
  fs.cpSync(from, to, { recursive: true, filter: (src) => !path.basename(src).startsWith('dovecot') });
  for (const sub of fs.readdirSync(to)) if (sub.startsWith('.')) for (const d of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(to, sub, d), { recursive: true });
}

/** Messages in every selectable folder of an account: each peer must have delivered all of them. */
async function countMessages(user) {
  const c = await dc.client(user, `${user}pw`);
  let n = 0;
  for (const f of await c.list({ statusQuery: { messages: true } })) n += f.status?.messages ?? 0;
  await c.logout();
  return n;
}

const dc = await startDovecot({ users, fsync: FSYNC, dir: path.join(work, 'dovecot') });
try {
  const t0 = Date.now();
  const bytes = generate(dc.maildir('src'), COUNT, 42, { folders: [['', 0.6], ['.Archive', 0.25], ['.Sent', 0.15]] });
  dc.settle('src');
  const mib = bytes / 1048576;
  const archive = path.join(work, 'archive');
  const b = cli(['backup', '--archive', archive, ...target(dc.port, 'src')], 'srcpw');
  console.log(`\ncorpus: ${COUNT} messages, ${mib.toFixed(0)} MiB in 3 folders, generated and backed up in ${((Date.now() - t0) / 1000).toFixed(1)} s (backup ${b.wall.toFixed(1)} s); mail_fsync=${FSYNC ? 'optimized' : 'never'}; ${os.cpus().length} cores`);

  const restoreInto = (user, bin, port = dc.port) => {
    const r = cli(['restore', '--archive', archive, '--source', `src@127.0.0.1:${dc.port}`, ...target(port, user)], `${user}pw`, bin);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
    if (out.statusId !== 'completed' || out.restored !== COUNT) throw new Error(`mailkeep restore (${bin ?? 'this build'}): ${JSON.stringify({ ...out, plan: undefined })}`);
    return r;
  };
  const mbsyncInto = async (user, port = dc.port) => {
    const mdir = path.join(work, `mbsync-${user}`);
    copyMaildir(dc.maildir('src'), path.join(mdir, 'Maildir'));
    const r = timed('mbsync', ['-q', '-c', mbsyncRc(mdir, port, path.join(mdir, 'Maildir'), user), '-a']);
    const pushed = await countMessages(user);
    if (pushed !== COUNT) throw new Error(`mbsync pushed ${pushed} of ${COUNT} messages`);
    return r;
  };
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round = {};
    // Alternate who goes first: a load change then favours neither side.
    const steps = [async () => (round.mk = restoreInto(`mk${r}`)), async () => HAS_MBSYNC && (round.mb = await mbsyncInto(`mb${r}`))];
    if (BASELINE) steps.push(async () => (round.base = restoreInto(`base${r}`, BASELINE)));
    for (const step of r % 2 ? steps.reverse() : steps) await step();
    rounds.push(round);
  }
  const mk = rounds.at(-1).mk;
  const again = cli(['restore', '--archive', archive, '--source', `src@127.0.0.1:${dc.port}`, ...target(dc.port, 'mk0')], 'mk0pw');
  const res2 = JSON.parse(again.stdout.trim().split('\n').at(-1));
  if (res2.restored !== 0 || res2.alreadyPresent !== COUNT) throw new Error(`mailkeep second restore appended: ${JSON.stringify({ ...res2, plan: undefined })}`);

  const floorDir = path.join(work, 'maildir-floor');
  copyMaildir(dc.maildir('src'), floorDir);
  const floor = timed(process.execPath, [path.join(root, 'scripts/bench-append-floor.mjs'), String(dc.port), 'floor', floorDir], { MK_BENCH_PW: 'floorpw' });
  const floorRes = JSON.parse(floor.stdout.trim());
  if (floorRes.messages !== COUNT) throw new Error(`append floor appended ${floorRes.messages}`);

  /** The median round of one peer (by wall time). */
  const mid = (key) => {
    const rs = rounds.map((r) => r[key]).filter(Boolean);
    return rs.length ? rs.find((r) => r.wall === median(rs.map((x) => x.wall))) : null;
  };
  const row = (name, r) => console.log(`${name.padEnd(46)} ${r.wall.toFixed(2).padStart(7)} s  ${(COUNT / r.wall).toFixed(0).padStart(6)} msg/s  ${(mib / r.wall).toFixed(1).padStart(5)} MiB/s  client CPU ${r.cpu.toFixed(2)} s`);
  const ratios = (key) => rounds.filter((r) => r[key] && r.mb).map((r) => r[key].wall / r.mb.wall);
  printLoadAverage();
  console.log(`\nrestore into an empty account (whole process, incl. Node start-up; median of ${ROUNDS} round${ROUNDS > 1 ? 's' : ''})`);
  row('plain imapflow APPEND loop (one run)', floor);
  row('Mailkeep restore (presence + hash check)', mid('mk'));
  if (BASELINE) row(`baseline build (${path.relative(process.cwd(), BASELINE)})`, mid('base'));
  if (HAS_MBSYNC) row('mbsync push of the same Maildir', mid('mb'));
  else console.log('mbsync not installed (apt-get install isync): peer figures skipped');
  console.log(`Mailkeep peak RSS: ${mk.rssMb?.toFixed(0) ?? '?'} MB`);
  console.log(`ratio Mailkeep / APPEND floor: ${(mid('mk').wall / floor.wall).toFixed(2)}x wall, ${(mid('mk').cpu / floor.cpu).toFixed(2)}x client CPU`);
  if (HAS_MBSYNC) {
    const fmt = (xs) => `${median(xs).toFixed(2)}x wall (rounds: ${xs.map((x) => x.toFixed(2)).join(', ')})`;
    console.log(`ratio Mailkeep / mbsync:       ${fmt(ratios('mk'))}, ${(mid('mk').cpu / mid('mb').cpu).toFixed(2)}x client CPU`);
    if (BASELINE) console.log(`ratio baseline / mbsync:       ${fmt(ratios('base'))}`);
  }
  console.log(`\nsame restore again, everything present (nothing appended): ${again.wall.toFixed(2)} s for ${COUNT} messages`);

  if (RTT_MS > 0) {
    const proxy = await startLatencyProxy(dc.port, RTT_MS / 2);
    try {
      const rtt = { mk: restoreInto('mk-rtt', undefined, proxy.port), mb: HAS_MBSYNC ? await mbsyncInto('mb-rtt', proxy.port) : null, base: BASELINE ? restoreInto('base-rtt', BASELINE, proxy.port) : null };
      console.log(`\nthe same over a ${RTT_MS} ms round trip (a delaying proxy in front of Dovecot; one run each)`);
      row('Mailkeep restore', rtt.mk);
      if (rtt.base) row('baseline build', rtt.base);
      if (rtt.mb) row('mbsync push', rtt.mb);
      if (rtt.mb) console.log(`ratio Mailkeep / mbsync:       ${(rtt.mk.wall / rtt.mb.wall).toFixed(2)}x wall${rtt.base ? `; baseline / mbsync ${(rtt.base.wall / rtt.mb.wall).toFixed(2)}x` : ''}`);
    } finally {
      proxy.stop();
    }
  }

  if (LARGE_MB > 0) {
    // Memory, not time: the restore streams a large blob in chunks, so its peak RSS hardly moves.
    await largeMessageFixture(dc, (u) => `${u}pw`, LARGE_MB);
    const rss = {};
    for (const size of ['small', 'large']) {
      const dir = path.join(work, `archive-${size}`);
      cli(['backup', '--archive', dir, ...target(dc.port, `src-${size}`)], `src-${size}pw`);
      const r = cli(['restore', '--archive', dir, ...target(dc.port, `dst-${size}`)], `dst-${size}pw`);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
      if (out.statusId !== 'completed') throw new Error(`restore of the ${size} archive: ${JSON.stringify({ ...out, plan: undefined })}`);
      rss[size] = r.rssMb;
    }
    console.log(`\npeak RSS of a restore (memory, issue 9: growth under ${RSS_GROWTH_BUDGET_MB} MB)`);
    console.log(`${'three small messages'.padEnd(46)} ${rss.small?.toFixed(1) ?? '?'} MB`);
    console.log(`${`the same plus one of ${LARGE_MB} MB`.padEnd(46)} ${rss.large?.toFixed(1) ?? '?'} MB  (+${(rss.large - rss.small).toFixed(1)} MB)`);
  }
} finally {
  await dc.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
