#!/usr/bin/env node
// "Starts fast" (issue 11 item 5). Prints figures, never passes or fails on time.
//
// One Dovecot on loopback with a small unchanged mailbox (3 folders), backed up once; then, each
// a whole process, medians of several runs taken in turn:
//   - `node bin/mailkeep.js --help`: start-up alone;
//   - the floor: a bare Node script that loads imapflow, connects, LISTs with STATUS and logs out
//     (scripts/bench-nochange-floor.mjs);
//   - `node bin/mailkeep.js backup` of the unchanged mailbox (target: within 1.5x of the floor);
//   - mbsync's no-change sync of the same mailbox to a local Maildir.
// And inside a running relay: the same no-change backup as a job of the relay's JobManager with
// the relay's backup runner, warm (target: faster than mbsync's whole process).
//
// Environment: MAILKEEP_BENCH_NOCHANGE_MESSAGES (default 300), MAILKEEP_BENCH_NOCHANGE_RUNS
// (default 9), MAILKEEP_BENCH_DIR.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { generate } from './bench-corpus.mjs';
import { benchWorkDir, HAS_MBSYNC, median, printLoadAverage, requireDovecot, root, startDovecot, timed } from './bench-support.mjs';

const COUNT = Number(process.env.MAILKEEP_BENCH_NOCHANGE_MESSAGES ?? 300);
const RUNS = Math.max(1, Number(process.env.MAILKEEP_BENCH_NOCHANGE_RUNS ?? 9));
const USER = 'quiet';
const PW = 'quietpw';

requireDovecot();
const work = benchWorkDir('mk-bench-nochange-');
const cli = path.join(root, 'bin/mailkeep.js');

const dc = await startDovecot({ users: [{ name: USER, password: PW }], dir: path.join(work, 'dovecot') });
try {
  generate(dc.maildir(USER), COUNT, 11, { folders: [['', 0.6], ['.Archive', 0.25], ['.Sent', 0.15]] });
  dc.settle(USER);
  const archive = path.join(work, 'archive');
  const backupArgs = [cli, 'backup', '--archive', archive, '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', USER, '--password-env', 'MK_BENCH_PW', '--json'];
  const env = { MK_BENCH_PW: PW };
  const first = JSON.parse(timed(process.execPath, backupArgs, env).stdout.trim().split('\n').at(-1));
  if (first.statusId !== 'completed' || first.messages !== COUNT) throw new Error(`first backup: ${JSON.stringify(first)}`);

  let rc = null;
  if (HAS_MBSYNC) {
    fs.mkdirSync(path.join(work, 'mbsync', 'out'), { recursive: true });
    rc = path.join(work, 'mbsync', 'mbsyncrc');
    fs.writeFileSync(rc, `IMAPAccount q\nHost 127.0.0.1\nPort ${dc.port}\nUser ${USER}\nPass ${PW}\nSSLType None\nAuthMechs LOGIN\nPipelineDepth 50\n\nIMAPStore q-remote\nAccount q\n\nMaildirStore q-local\nPath ${work}/mbsync/out/\nInbox ${work}/mbsync/out/INBOX\nSubFolders Verbatim\n\nChannel q\nFar :q-remote:\nNear :q-local:\nPatterns *\nCreate Near\nSync Pull\nSyncState *\nCopyArrivalDate yes\n`);
    timed('mbsync', ['-q', '-c', rc, '-a']);
  }

  // Inside the relay: its JobManager running its backup runner, as `mailkeep relay` wires them.
  const { JobManager } = await import(path.join(root, 'relay/server/job-manager.ts'));
  const { backupRunner } = await import(path.join(root, 'relay/jobs/backup/backup-runner.ts'));
  const { archiveDirOf } = await import(path.join(root, 'relay/jobs/data-dirs.ts'));
  const dataDir = path.join(work, 'relay-data');
  fs.mkdirSync(path.dirname(archiveDirOf(dataDir, 'acct')), { recursive: true });
  fs.cpSync(archive, archiveDirOf(dataDir, 'acct'), { recursive: true });
  const account = { id: 'acct', host: '127.0.0.1', port: dc.port, security: 'none', user: USER };
  const jobs = new JobManager({ dataDir, runners: { backup: backupRunner }, accounts: { get: () => ({ account, password: PW }) } });
  // The manager lets go of a finished job a tick after its last event: the next one starts after that.
  const job = async (key) => {
    await new Promise((r) => setImmediate(r));
    return await new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      let id = null;
      const off = jobs.subscribe((e) => {
        if (e.event !== 'status' || e.jobId !== id || e.phase !== 'finished') return;
        off();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const c = process.cpuUsage(c0);
        if (e.status !== 'completed') reject(new Error(`relay job ended ${e.status} ${e.errorCode ?? ''}`));
        else resolve({ ms, cpuMs: (c.user + c.system) / 1000 });
      });
      id = jobs.start({ kind: 'backup', accountId: 'acct', idempotencyKey: key, params: {} }).job.id;
    });
  };
  await job('warm-up');
  const inRelay = [];
  const inRelayCpu = [];

  // Taken in turn, so that the machine's load (others share it) falls alike on every figure.
  const t = { help: [], floor: [], backup: [], mbsync: [] };
  const cpu = { help: [], floor: [], backup: [], mbsync: [] };
  for (let i = 0; i < RUNS; i++) {
    const add = (k, r) => {
      t[k].push(r.wall);
      cpu[k].push(r.cpu);
      return r;
    };
    add('help', timed(process.execPath, [cli, '--help']));
    add('floor', timed(process.execPath, [path.join(root, 'scripts/bench-nochange-floor.mjs'), String(dc.port), USER], env));
    const b = add('backup', timed(process.execPath, backupArgs, env));
    const res = JSON.parse(b.stdout.trim().split('\n').at(-1));
    if (res.statusId !== 'completed' || res.messages !== 0) throw new Error(`no-change backup: ${JSON.stringify(res)}`);
    if (rc) add('mbsync', timed('mbsync', ['-q', '-c', rc, '-a']));
    spawnSync('sync'); // as timed() does before each process
    const r = await job(`run-${i}`);
    inRelay.push(r.ms);
    inRelayCpu.push(r.cpuMs);
  }

  const ms = (s) => `${(s * 1000).toFixed(0).padStart(5)} ms`;
  const both = (k) => `${ms(median(t[k]))} wall ${ms(median(cpu[k]))} CPU`;
  printLoadAverage();
  console.log(`\nno-change backup of an unchanged mailbox: ${COUNT} messages in 3 folders on Dovecot; medians of ${RUNS} runs`);
  console.log(`${'node bin/mailkeep.js --help (start-up)'.padEnd(52)} ${both('help')}`);
  console.log(`${'floor: node + imapflow connect, LIST-STATUS, logout'.padEnd(52)} ${both('floor')}`);
  console.log(`${'mailkeep backup, nothing changed (whole process)'.padEnd(52)} ${both('backup')}`);
  if (rc) console.log(`${'mbsync, nothing changed (whole process)'.padEnd(52)} ${both('mbsync')}`);
  console.log(`${'the same backup as a job inside a running relay'.padEnd(52)} ${ms(median(inRelay) / 1000)} wall ${ms(median(inRelayCpu) / 1000)} CPU (relay process only)`);
  console.log(`ratio whole process / floor:      ${(median(t.backup) / median(t.floor)).toFixed(2)}x wall, ${(median(cpu.backup) / median(cpu.floor)).toFixed(2)}x CPU (target <= 1.5x)`);
  if (rc) console.log(`ratio inside the relay / mbsync:  ${(median(inRelay) / 1000 / median(t.mbsync)).toFixed(2)}x wall (target < 1.0x)`);
  else console.log('mbsync not installed (apt-get install isync): its figures skipped');
} finally {
  await dc.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
