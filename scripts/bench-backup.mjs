#!/usr/bin/env node
// Backup benchmark (issue 3). Prints figures, never passes or fails on time.
//
// One Dovecot on loopback, one generated mailbox of realistic sizes (the generator of
// ../shared/notes/imap-lab.md, written straight into the maildir), then in the same run:
//   - Mailkeep full backup (the real CLI, a whole process), and an unchanged incremental run;
//   - mbsync (isync) full sync to a local Maildir and its unchanged run: the fastest common peer;
//   - a plain imapflow fetch of every body to nowhere: the practical limit.
// Then memory: the peak RSS of a backup, and of an export, of an account holding one very large
// message (100 MB by default) beside small ones, against the same without it (issue 9: less than
// 20 MB more). Then the "unchanged 100,000 messages in 50 folders" check: a second mailbox of small
// messages.
//
// Environment: MAILKEEP_BENCH_MESSAGES (default 20000), MAILKEEP_BENCH_REPEAT (default 1; medians
// when more), MAILKEEP_BENCH_LARGE_MB (default 100; 0 skips the memory rows),
// MAILKEEP_BENCH_LARGE_ACCOUNT (default 100000; 0 skips it), MAILKEEP_BENCH_DIR.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from './bench-corpus.mjs';
import { benchWorkDir, HAS_MBSYNC, median, printLoadAverage, requireDovecot, root, startDovecot, timed } from './bench-support.mjs';

const COUNT = Number(process.env.MAILKEEP_BENCH_MESSAGES ?? 20000);
const REPEAT = Math.max(1, Number(process.env.MAILKEEP_BENCH_REPEAT ?? 1));
const LARGE_MB = Number(process.env.MAILKEEP_BENCH_LARGE_MB ?? 100);
const LARGE = Number(process.env.MAILKEEP_BENCH_LARGE_ACCOUNT ?? 100000);

requireDovecot();

const work = benchWorkDir('mk-bench-');
const users = [
  { name: 'bench', password: 'benchpw' },
  { name: 'many', password: 'manypw' },
  { name: 'src-small', password: 'src-smallpw' },
  { name: 'src-large', password: 'src-largepw' },
];
const { largeMessageFixture, RSS_GROWTH_BUDGET_MB } = await import(path.join(root, 'test/support/large-message.ts'));

function mbsyncRc(dir, port) {
  const rc = path.join(dir, 'mbsyncrc');
  fs.writeFileSync(rc, `IMAPAccount bench\nHost 127.0.0.1\nPort ${port}\nUser bench\nPass benchpw\nSSLType None\nAuthMechs LOGIN\nPipelineDepth 50\n\nIMAPStore bench-remote\nAccount bench\n\nMaildirStore bench-local\nPath ${dir}/out/\nInbox ${dir}/out/INBOX\nSubFolders Verbatim\n\nChannel bench\nFar :bench-remote:\nNear :bench-local:\nPatterns *\nCreate Near\nSync Pull\nSyncState *\nCopyArrivalDate yes\n`);
  return rc;
}

const mailkeep = (archive, port, user, pw) => timed(process.execPath, [path.join(root, 'bin/mailkeep.js'), 'backup', '--archive', archive, '--host', '127.0.0.1', '--port', String(port), '--security', 'none', '--user', user, '--password-env', 'MK_BENCH_PW', '--json'], { MK_BENCH_PW: pw });

const dc = await startDovecot({ users, fsync: true, dir: path.join(work, 'dovecot') });
try {
  const t0 = Date.now();
  const bytes = generate(dc.maildir('bench'), COUNT, 42, { folders: [['', 0.6], ['.Archive', 0.25], ['.Sent', 0.15]] });
  dc.settle('bench');
  const mib = bytes / 1048576;
  console.log(`\ncorpus: ${COUNT} messages, ${mib.toFixed(0)} MiB in 3 folders, generated and indexed in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${os.cpus().length} cores; ${REPEAT} run(s) each, medians`);

  const runs = { fetch: [], fetchCpu: [], mk: [], mkCpu: [], mkRss: [], mkInc: [], mb: [], mbCpu: [], mbInc: [] };
  for (let i = 0; i < REPEAT; i++) {
    const f = timed(process.execPath, [path.join(root, 'scripts/bench-fetch-sink.mjs'), String(dc.port), 'bench'], { MK_BENCH_PW: 'benchpw' });
    runs.fetch.push(f.wall);
    runs.fetchCpu.push(f.cpu);
    const archive = path.join(work, `archive-${i}`);
    const full = mailkeep(archive, dc.port, 'bench', 'benchpw');
    const res = JSON.parse(full.stdout.trim().split('\n').at(-1));
    if (res.statusId !== 'completed' || res.messages !== COUNT) throw new Error(`mailkeep backup: ${JSON.stringify(res)}`);
    runs.mk.push(full.wall);
    runs.mkCpu.push(full.cpu);
    runs.mkRss.push(full.rssMb ?? NaN);
    runs.mkInc.push(mailkeep(archive, dc.port, 'bench', 'benchpw').wall);
    fs.rmSync(archive, { recursive: true, force: true });
    if (HAS_MBSYNC) {
      const mdir = path.join(work, `mbsync-${i}`);
      fs.mkdirSync(path.join(mdir, 'out'), { recursive: true });
      const rc = mbsyncRc(mdir, dc.port);
      const m = timed('mbsync', ['-q', '-c', rc, '-a']);
      runs.mb.push(m.wall);
      runs.mbCpu.push(m.cpu);
      runs.mbInc.push(timed('mbsync', ['-q', '-c', rc, '-a']).wall);
      fs.rmSync(mdir, { recursive: true, force: true });
    }
  }
  const row = (name, secs, cpu) => console.log(`${name.padEnd(44)} ${secs.toFixed(2).padStart(7)} s  ${(COUNT / secs).toFixed(0).padStart(6)} msg/s  ${(mib / secs).toFixed(1).padStart(6)} MiB/s  client CPU ${cpu.toFixed(2)} s`);
  printLoadAverage();
  const fetch = median(runs.fetch);
  const mk = median(runs.mk);
  console.log('\nfull backup (whole process, incl. Node start-up)');
  row('plain imapflow fetch to nowhere (limit)', fetch, median(runs.fetchCpu));
  row('Mailkeep full backup (fsync per group)', mk, median(runs.mkCpu));
  if (HAS_MBSYNC) row('mbsync full sync (default FSync yes)', median(runs.mb), median(runs.mbCpu));
  console.log(`Mailkeep peak RSS: ${median(runs.mkRss).toFixed(0)} MB`);
  console.log(`ratio Mailkeep / plain fetch: ${(mk / fetch).toFixed(2)}x wall, ${(median(runs.mkCpu) / median(runs.fetchCpu)).toFixed(2)}x CPU (target: within 2x wall, issue 9)`);
  if (HAS_MBSYNC) console.log(`ratio Mailkeep / mbsync:      ${(mk / median(runs.mb)).toFixed(2)}x (target <= 1.0x)`);
  console.log('\nincremental run, nothing changed (whole process)');
  console.log(`Mailkeep: ${median(runs.mkInc).toFixed(2)} s`);
  if (HAS_MBSYNC) console.log(`mbsync:   ${median(runs.mbInc).toFixed(2)} s   ratio ${(median(runs.mkInc) / median(runs.mbInc)).toFixed(1)}x (target <= 3x)`);
  else console.log('mbsync not installed (apt-get install isync): peer figures skipped');

  if (LARGE_MB > 0) {
    // Memory, not time: backup streams a large message in partial FETCHes and export reads its
    // blob in chunks, so neither peak RSS should move with the message's size.
    await largeMessageFixture(dc, (u) => `${u}pw`, LARGE_MB);
    const rss = { backup: {}, export: {} };
    for (const size of ['small', 'large']) {
      const archive = path.join(work, `archive-${size}`);
      const b = mailkeep(archive, dc.port, `src-${size}`, `src-${size}pw`);
      const res = JSON.parse(b.stdout.trim().split('\n').at(-1));
      if (res.statusId !== 'completed') throw new Error(`mailkeep backup of the ${size} account: ${JSON.stringify(res)}`);
      rss.backup[size] = b.rssMb;
      const zip = path.join(work, `export-${size}.zip`);
      const e = timed(process.execPath, [path.join(root, 'bin/mailkeep.js'), 'export', '--archive', archive, '--format', 'eml-zip', '--out', zip, '--json']);
      if (!JSON.parse(e.stdout.trim().split('\n').at(-1)).statusId?.startsWith('completed')) throw new Error(`mailkeep export of the ${size} archive: ${e.stdout.slice(-500)}`);
      rss.export[size] = e.rssMb;
      fs.rmSync(archive, { recursive: true, force: true });
      fs.rmSync(zip, { force: true });
    }
    for (const job of ['backup', 'export']) {
      const r = rss[job];
      console.log(`\npeak RSS of ${job === 'backup' ? 'a backup' : 'an export (eml-zip)'} (memory, issue 9: growth under ${RSS_GROWTH_BUDGET_MB} MB)`);
      console.log(`${'three small messages'.padEnd(46)} ${r.small?.toFixed(1) ?? '?'} MB`);
      console.log(`${`the same plus one of ${LARGE_MB} MB`.padEnd(46)} ${r.large?.toFixed(1) ?? '?'} MB  (+${(r.large - r.small).toFixed(1)} MB)`);
    }
  }

  if (LARGE > 0) {
    const t1 = Date.now();
    const folders = Array.from({ length: 50 }, (_, i) => [i === 0 ? '' : `.F${String(i).padStart(2, '0')}`]);
    const lbytes = generate(dc.maildir('many'), LARGE, 7, { folders, small: true });
    dc.settle('many');
    console.log(`\nlarge account: ${LARGE} small messages (${(lbytes / 1048576).toFixed(0)} MiB) in 50 folders, generated in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    const archive = path.join(work, 'archive-many');
    const first = mailkeep(archive, dc.port, 'many', 'manypw');
    console.log(`Mailkeep first backup: ${first.wall.toFixed(1)} s (${(LARGE / first.wall).toFixed(0)} msg/s), peak RSS ${first.rssMb?.toFixed(0)} MB`);
    const again = [];
    for (let i = 0; i < Math.max(REPEAT, 3); i++) again.push(mailkeep(archive, dc.port, 'many', 'manypw').wall);
    console.log(`Mailkeep unchanged run over ${LARGE} messages / 50 folders: ${median(again).toFixed(2)} s (runs: ${again.map((x) => x.toFixed(2)).join(', ')}; target: seconds)`);
  }
} finally {
  await dc.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
