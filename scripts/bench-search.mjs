#!/usr/bin/env node
// Search (issue 15) side by side with notmuch, the reference for local mail search: the same
// generated messages (test/support/search-corpus.ts) plus the real-world corpus, written into a
// Mailkeep archive and exported as a Maildir.
//   - index build: `mailkeep reindex` against `notmuch new`, each a whole process (wall, CPU, peak RSS);
//   - queries: a set covering each operator, answered in-process (searchArchive, warm, as the relay
//     answers archive.search) against `notmuch search` as a whole process; result counts compared
//     with `notmuch count` where both languages mean the same thing (differences printed, with why);
//   - `mailkeep search` as a whole process against the floor for any Node process answering from
//     SQLite (start Node, load better-sqlite3, one FTS5 MATCH on the same index);
//   - peak RSS of `mailkeep reindex` with a 100 MB message (text body, then attachment) against without;
//   - a backup from Dovecot with the relay's search indexer following it against the same backup
//     alone, in interleaved pairs, with the indexer's own account of its share while the backup ran.
// Needs notmuch (apt-get install notmuch) for the comparisons; without it, Mailkeep's figures only.
// Prints figures only; never passes or fails on time.
//
//   node scripts/bench-search.mjs [--messages N] [--runs N] [--pairs N] [--backup-messages N] [--latency MS] [--no-notmuch] [--only SECTIONS]
//   (default 100,000 messages, 9 runs, 8 backup pairs; SECTIONS: comma-separated of build, queries,
//   process, memory, backup; e.g. --only backup runs the backup pairs alone)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { benchWorkDir, dovecotAvailable, median, printLoadAverage, root, startDovecot, startLatencyProxy, timed } from './bench-support.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('messages', Number(process.env.MAILKEEP_BENCH_SEARCH_MESSAGES ?? 100_000));
const RUNS = arg('runs', 9);
const PAIRS = arg('pairs', 8);
// --latency MS: section 6's backups through a proxy delaying each direction by MS (a longer backup, as from a server on the network).
const LATENCY = arg('latency', 0);
const SECTIONS = ['build', 'queries', 'process', 'memory', 'backup'];
const onlyAt = process.argv.indexOf('--only');
const ONLY = onlyAt > 0 ? (process.argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : SECTIONS;
const unknownSection = ONLY.find((x) => !SECTIONS.includes(x));
if (unknownSection || ONLY.length === 0) {
  console.error(`--only takes a comma-separated list of: ${SECTIONS.join(', ')}${unknownSection ? ` (not ${unknownSection})` : ''}`);
  process.exit(2);
}
const want = (section) => ONLY.includes(section);
// Queries and the whole-process search need the index (and notmuch's) that the build section makes.
const NEED_INDEX = want('build') || want('queries') || want('process');
// --no-notmuch: Mailkeep's figures only (notmuch new takes about 16 ms a message here: 26 min for 100,000).
const HAS_NOTMUCH = !process.argv.includes('--no-notmuch') && spawnSync('notmuch', ['--version']).status === 0;
const { searchBenchMessages, PEOPLE, rareWord } = await import(path.join(root, 'test/support/search-corpus.ts'));
const { writeRun } = await import(path.join(root, 'test/support/search-archive.ts'));
const { sharedCorpusMessages } = await import(path.join(root, 'test/support/corpus.ts'));
const { bigMessage } = await import(path.join(root, 'test/support/large-message.ts'));
const search = await import(path.join(root, 'relay/search/index.ts'));

const work = benchWorkDir('mk-bench-search-');
const archive = path.join(work, 'archive');
const maildir = path.join(work, 'maildir');
const bin = path.join(root, 'bin/mailkeep.js');
const fmt = (s) => `${s.toFixed(2)} s`;
const ms = (s) => `${(s * 1000).toFixed(1)} ms`;

console.log(`sections: ${ONLY.join(', ')}`);
console.log(`search bench: ${N} generated messages + the real-world corpus; notmuch ${HAS_NOTMUCH ? spawnSync('notmuch', ['--version']).stdout.toString().trim() : process.argv.includes('--no-notmuch') ? 'left out (--no-notmuch)' : 'not installed (apt-get install notmuch): Mailkeep figures only'}`);

// 1. The same messages into a Mailkeep archive and a Maildir.
const msgs = searchBenchMessages(N);
const corpus = sharedCorpusMessages().map((c) => ({ folder: 'Corpus', raw: c.raw, flags: ['\\Seen'], internalDate: new Date(Date.UTC(2020, 0, 1)) }));
const all = [...msgs, ...corpus];
const byFolder = new Map();
for (const m of all) {
  if (!byFolder.has(m.folder)) byFolder.set(m.folder, []);
  byFolder.get(m.folder).push(m);
}
let t = performance.now();
if (NEED_INDEX) await writeRun(archive, [...byFolder].map(([folder, messages]) => ({ folder, messages })));
if (NEED_INDEX) console.log(`archive written: ${all.length} messages, ${(all.reduce((a, m) => a + m.raw.length, 0) / 1048576).toFixed(0)} MiB, ${fmt((performance.now() - t) / 1000)}`);
if (HAS_NOTMUCH && NEED_INDEX) all.forEach((m, i) => {
  const d = path.join(maildir, m.folder.replace('/', '.'), 'cur');
  if (i === 0 || !fs.existsSync(d)) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, `${i}.bench:2,${m.flags.includes('\\Seen') ? 'S' : ''}`), m.raw);
});
const nmConfig = path.join(work, 'notmuch-config');
fs.writeFileSync(nmConfig, `[database]\npath=${maildir}\n[user]\nname=Bench\nprimary_email=bench@example.org\n[new]\ntags=inbox\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n`);
// Both in UTC: before:/after: and notmuch's date: begin at local midnight.
const nmEnv = { NOTMUCH_CONFIG: nmConfig, TZ: 'UTC' };

// 2. Index build, each as a whole process (also when only queries or process are asked for: they need it).
const mk = NEED_INDEX ? timed(process.execPath, [bin, 'reindex', '--archive', archive, '--json'], { TZ: 'UTC' }) : null;
const mkReport = mk ? JSON.parse(mk.stdout.trim().split('\n').pop()) : null;
const nm = HAS_NOTMUCH && NEED_INDEX ? timed('notmuch', ['new', '--quiet'], nmEnv) : null;
if (want('build')) {
  console.log('\nindex build (whole process)            wall        CPU        peak RSS');
  console.log(`  mailkeep reindex                     ${fmt(mk.wall).padEnd(11)} ${fmt(mk.cpu).padEnd(10)} ${mk.rssMb?.toFixed(0)} MB   (${mkReport.indexed} messages, ${mkReport.unparsed} indexed by headers only)`);
  if (nm) {
    console.log(`  notmuch new                          ${fmt(nm.wall).padEnd(11)} ${fmt(nm.cpu).padEnd(10)} ${nm.rssMb?.toFixed(0)} MB`);
    console.log(`  ratio Mailkeep / notmuch             ${(mk.wall / nm.wall).toFixed(2)}x wall, ${(mk.cpu / nm.cpu).toFixed(2)}x CPU   (target: within 1.5x)`);
  }
}

// 3. Queries: [what, Mailkeep query, notmuch query or null, why counts may differ].
const anna = PEOPLE[0].address;
const bob = PEOPLE[21].address;
const Q = [
  ['frequent word', 'meeting', 'meeting'],
  ['rare word', rareWord(500), rareWord(500)],
  ['phrase', '"contract review"', '"contract review"'],
  ['from:', `from:${anna}`, `from:${anna}`],
  ['to:', `to:${bob}`, `to:${bob}`],
  ['subject:', 'subject:budget', 'subject:budget'],
  ['folder: + word', 'folder:Archive invoice', 'folder:Archive invoice'],
  ['has:attachment', 'has:attachment', 'tag:attachment'],
  ['filename:', 'filename:pdf', 'attachment:pdf'],
  ['date range', 'after:2020-01-01 before:2020-02-01', 'date:2020-01-01..2020-01-31'],
  ['OR and -', '(invoice OR payment) -meeting', '(invoice OR payment) AND NOT meeting'],
  ['German word', 'Grüße', 'Grüße', 'Mailkeep reads ß as ss (a person typing "Grüsse" on a keyboard without ß finds "Grüße", and the other way); notmuch does not'],
  ['Russian word', 'Москва', 'Москва'],
  ['Japanese word', '会議', '会議', 'notmuch indexes a run of CJK characters as one word unless built for CJK n-grams; Mailkeep indexes each character'],
  ['larger:', 'larger:5K', null, 'notmuch has no size search'],
  ['is:deleted-on-server', 'is:deleted-on-server', null, 'notmuch knows no server'],
];
const WHY = {
  default: 'stemming and tokenization differ (Porter vs Xapian English; notmuch also indexes From/To words under their prefixes only)',
  corpus: 'mailparser and GMime read some malformed messages differently',
};
const CORPUS_WHY = {
  'has:attachment': 'mailparser and GMime decide differently which parts of some malformed corpus messages are attachments',
  'filename:': 'the same: names of parts the two parsers classify differently',
  'date range': 'corpus messages without a readable Date header: Mailkeep dates them by their INTERNALDATE (here 2020-01-01), notmuch does not',
};
if (want('queries')) {
  console.log(`\nqueries: median of ${RUNS}, 50 hits; Mailkeep in-process (warm, as the relay answers archive.search), notmuch as a whole process (notmuch search --limit=50)`);
  console.log('  query                                   mailkeep    notmuch     count mk / nm');
  search.closeSearchSessions();
  const inProcess = [];
  const nmTimes = [];
  for (const [what, mq, nq, why] of Q) {
    search.searchArchive(archive, mq, { timeZone: 'UTC', limit: 50 }); // warm the statement
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      search.searchArchive(archive, mq, { timeZone: 'UTC', limit: 50 });
      times.push((performance.now() - s) / 1000);
    }
    const mkTime = median(times);
    inProcess.push(mkTime);
    const mkCount = search.searchArchive(archive, mq, { timeZone: 'UTC', limit: 1, count: true }).total;
    let nmTime = null;
    let nmCount = null;
    if (HAS_NOTMUCH && nq) {
      const nt = [];
      for (let i = 0; i < RUNS; i++) nt.push(timed('notmuch', ['search', '--limit=50', '--output=summary', nq], nmEnv).wall);
      nmTime = median(nt);
      nmCount = Number(spawnSync('notmuch', ['count', nq], { env: { ...process.env, ...nmEnv } }).stdout.toString().trim());
    }
    // The same without the real-world corpus: malformed messages are where two MIME parsers disagree.
    const genMk = search.searchArchive(archive, `(${mq}) -folder:Corpus`, { timeZone: 'UTC', limit: 1, count: true }).total;
    const genNm = nmCount === null ? null : Number(spawnSync('notmuch', ['count', `(${nq}) AND NOT folder:Corpus`], { env: { ...process.env, ...nmEnv } }).stdout.toString().trim());
    const counts = nmCount === null ? `${mkCount}` : `${mkCount} / ${nmCount}`;
    nmTimes.push(nmTime);
    console.log(`  ${`${what}: ${mq}`.slice(0, 38).padEnd(39)} ${ms(mkTime).padEnd(11)} ${nmTime === null ? 'n/a'.padEnd(11) : ms(nmTime).padEnd(11)} ${counts}`);
    if (nmCount !== null && nmCount !== mkCount) {
      if (genNm === genMk) console.log(`      counts differ only in the real-world corpus (generated messages: ${genMk} / ${genNm}): ${CORPUS_WHY[what] ?? WHY.corpus}`);
      else console.log(`      counts differ (generated messages: ${genMk} / ${genNm}): ${why ?? WHY.default}`);
    } else if (nmCount === null && why) console.log(`      ${why}`);
  }
  console.log(`  slowest in-process query ${ms(Math.max(...inProcess))}, median ${ms(median(inProcess))}`);

  // The same queries through the running relay's API, as the Archive page asks them: the relay
  // process (bin/mailkeep.js relay) with this archive as an account's, paired, over its WebSocket;
  // timed from sending archive.search to its result frame (first page: 50 hits and the count).
  const { RelayProcess, jsonPost, helloClient } = await import(path.join(root, 'test/relay/relay-harness.ts'));
  const relayDir = path.join(work, 'relay-data');
  fs.mkdirSync(path.join(relayDir, 'archives'), { recursive: true });
  fs.symlinkSync(archive, path.join(relayDir, 'archives', 'bench'));
  const relay = await RelayProcess.start(relayDir, 60_000);
  try {
    const token = JSON.parse((await jsonPost(relay.port, '/pair', { code: relay.pairingCode })).body).token;
    const ws = await helloClient(relay.port, token);
    let n = 0;
    const ask = async (query) => {
      const s = performance.now();
      const f = await ws.call(`q${++n}`, 'archive.search', { accountId: 'bench', query, limit: 50, timeZone: 'UTC' });
      if (f.type !== 'result') throw new Error(`archive.search ${query}: ${JSON.stringify(f).slice(0, 300)}`);
      return (performance.now() - s) / 1000;
    };
    console.log(`
queries through the running relay's API (WebSocket request to its result, 50 hits and the count, as the Archive page asks; median of ${RUNS}) against notmuch as a whole process`);
    console.log('  query                                   relay API   notmuch');
    const viaRelay = [];
    for (const [i, [what, mq]] of Q.entries()) {
      await ask(mq); // the relay's first open of this archive, and the statement
      const times = [];
      for (let r = 0; r < RUNS; r++) times.push(await ask(mq));
      const t = median(times);
      viaRelay.push(t);
      const nmt = nmTimes[i];
      console.log(`  ${`${what}: ${mq}`.slice(0, 38).padEnd(39)} ${ms(t).padEnd(11)} ${nmt === null ? 'n/a' : `${ms(nmt).padEnd(11)} ${t < nmt ? 'faster' : 'SLOWER'}`}`);
    }
    console.log(`  slowest through the relay ${ms(Math.max(...viaRelay))}, median ${ms(median(viaRelay))}`);
    ws.close();
  } finally {
    await relay.stop();
  }
}

if (want('process')) {
  // 4. mailkeep search as a whole process against the floor. Both are timed by bash around the child
  // alone: wall from EPOCHREALTIME, CPU (user + sys) from `times`, to the ms (/usr/bin/time rounds CPU
  // to 10 ms, an eighth of the floor). One unmeasured run of each first (page cache), then at least 15
  // pairs (each well under a second; on a loaded machine fewer give wall medians that swing by 2x),
  // interleaved so both see the same load, which of the two goes first alternating.
  const floorScript = `const D=require(${JSON.stringify(path.join(root, 'node_modules/better-sqlite3'))});const db=new D(${JSON.stringify(path.join(archive, 'search.sqlite'))},{readonly:true});db.prepare("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid DESC LIMIT 50").all('meeting');`;
  const HAS_BASH_CLOCK = /^\d+[.,]\d+$/.test(spawnSync('bash', ['-c', 'echo $EPOCHREALTIME'], { encoding: 'utf8' }).stdout?.trim() ?? '');
  function childTimed(cmd, args, env = {}) {
    if (!HAS_BASH_CLOCK) return timed(cmd, args, env);
    const script = 's=$EPOCHREALTIME; "$@" >/dev/null || exit $?; e=$EPOCHREALTIME; echo "$s $e"; times';
    const r = spawnSync('bash', ['-c', script, 'bash', cmd, ...args], { env: { ...process.env, ...env, LC_NUMERIC: 'C' }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-500)}`);
    const [clock, , children] = r.stdout.trim().split('\n');
    const [s, e] = clock.split(' ').map(Number);
    const t = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(children.trim());
    return { wall: e - s, cpu: Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]) };
  }
  const floorRun = () => childTimed(process.execPath, ['-e', floorScript]);
  const wholeRun = () => childTimed(process.execPath, [bin, 'search', '--archive', archive, 'meeting', '--limit', '50'], { TZ: 'UTC' });
  floorRun();
  wholeRun();
  const PAIRS = Math.max(RUNS, 15);
  const floor = [];
  const whole = [];
  for (let i = 0; i < PAIRS; i++) {
    if (i % 2) whole.push(wholeRun());
    floor.push(floorRun());
    if (!(i % 2)) whole.push(wholeRun());
  }
  // Median and the middle half of the runs (the spread the machine's load gave).
  const spread = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${ms(median(s)).padEnd(9)} [${(s[Math.floor((s.length - 1) / 4)] * 1000).toFixed(0)}-${(s[Math.ceil((3 * (s.length - 1)) / 4)] * 1000).toFixed(0)}]`;
  };
  const fw = median(floor.map((r) => r.wall));
  const ww = median(whole.map((r) => r.wall));
  const fc = median(floor.map((r) => r.cpu));
  const wc = median(whole.map((r) => r.cpu));
  console.log(`\nwhole process: one search, 50 hits, median of ${PAIRS} interleaved [middle half]  wall                CPU (user+sys)`);
  console.log(`  floor: node + better-sqlite3 + one FTS5 MATCH    ${spread(floor.map((r) => r.wall)).padEnd(20)}${spread(floor.map((r) => r.cpu))}`);
  console.log(`  mailkeep search meeting                          ${spread(whole.map((r) => r.wall)).padEnd(20)}${spread(whole.map((r) => r.cpu))}`);
  console.log(`  ratio                                            ${(ww / fw).toFixed(2)}x wall, ${(wc / fc).toFixed(2)}x CPU (target: within 1.5x)`);
  if (HAS_NOTMUCH) console.log(`  notmuch search meeting                           ${ms(median(Array.from({ length: RUNS }, () => timed('notmuch', ['search', '--limit=50', 'meeting'], nmEnv).wall)))}`);
}

// Not indented under its `if`: another change may touch this section's lines.
if (want('memory')) {
// 5. Memory: a 100 MB message while indexing.
const head = 'From: big@example.org\r\nTo: b@example.net\r\nSubject: very large\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <big@example.org>\r\nMIME-Version: 1.0\r\n';
const bigs = {
  'text body': bigMessage(`${head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`, 100),
  attachment: bigMessage(`${head}Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee the file\r\n--B\r\nContent-Type: application/octet-stream; name="big.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n`, 100, '\r\n--B--\r\n'),
};
const small = searchBenchMessages(200, 7).map((m) => ({ raw: m.raw }));
const smallArchive = path.join(work, 'small');
await writeRun(smallArchive, [{ folder: 'INBOX', messages: small }]);
const base = median([1, 2, 3].map(() => timed(process.execPath, [bin, 'reindex', '--archive', smallArchive]).rssMb));
console.log(`\npeak RSS of mailkeep reindex: 200 small messages ${base.toFixed(1)} MB`);
for (const [name, raw] of Object.entries(bigs)) {
  const d = path.join(work, `big-${name.replace(' ', '-')}`);
  await writeRun(d, [{ folder: 'INBOX', messages: [...small, { raw }] }]);
  const peak = median([1, 2, 3].map(() => timed(process.execPath, [bin, 'reindex', '--archive', d]).rssMb));
  console.log(`  with a 100 MB message (${name}): ${peak.toFixed(1)} MB (+${(peak - base).toFixed(1)} MB; budget +20 MB)`);
}
}

// 6. A backup (Dovecot; in-process, as the relay runs it) alone, and with the relay's search indexer
// paced beside it (SEARCH_LIMITS.busyShare of wall time), each into a fresh archive:
//   - following: the indexer takes in the backup's own group commits, as after any backup;
//   - backlog: the indexer also has another archive of the same messages to index, its search index
//     empty (as at relay start after a reindex), so it has work every moment of the backup: the
//     worst case for the backup.
// PAIRS rounds, the order of the three rotating each round: whatever warms up or loads the machine
// between runs favours none. Printed: each run, the ratio of the medians, each round's ratio (the
// spread), the load, this process's CPU during each backup (backup + indexer; Dovecot's not
// included), and the indexer's own account of its work against the backup's wall time.
if (want('backup') && !dovecotAvailable()) console.log('\nbackup: dovecot is not installed (apt-get install dovecot-imapd): left out');
if (want('backup') && dovecotAvailable()) {
  const { runBackup } = await import(path.join(root, 'relay/jobs/backup/run-backup.ts'));
  const { BackgroundIndexer } = await import(path.join(root, 'relay/search/background-indexer.ts'));
  const { updateSearchIndex } = await import(path.join(root, 'relay/search/index-update.ts'));
  const { SEARCH_LIMITS } = await import(path.join(root, 'lib/limits.ts'));
  const Database = createRequire(path.join(root, 'package.json'))('better-sqlite3');
  const B = Math.min(N, arg('backup-messages', 20_000));
  const { openSearchDb } = await import(path.join(root, 'relay/search/search-db.ts'));
  const backlog = path.join(work, 'backlog');
  await writeRun(backlog, [{ folder: 'INBOX', messages: msgs.slice(0, B) }]);
  // An empty search index, as the relay has one for each archive: the pass does not create it.
  openSearchDb(backlog).close();
  const emptyIndex = fs.readFileSync(path.join(backlog, 'search.sqlite'));
  const emptyBacklog = () => {
    for (const x of ['-wal', '-shm']) fs.rmSync(path.join(backlog, `search.sqlite${x}`), { force: true });
    fs.writeFileSync(path.join(backlog, 'search.sqlite'), emptyIndex);
  };
  const docsIn = (dir) => {
    if (!fs.existsSync(path.join(dir, 'search.sqlite'))) return 0;
    const db = new Database(path.join(dir, 'search.sqlite'), { readonly: true });
    try {
      return db.prepare('SELECT COUNT(*) FROM docs').pluck().get();
    } finally {
      db.close();
    }
  };
  const dc = await startDovecot({ users: [{ name: 'bench', password: 'bench-pw' }], dir: path.join(work, 'dovecot') });
  try {
    dc.writeMaildir('bench', '', msgs.slice(0, B).map((m) => ({ raw: m.raw, flags: 'S', date: m.internalDate })));
    dc.settle('bench');
    const proxy = LATENCY > 0 ? await startLatencyProxy(dc.port, LATENCY) : null;
    const port = proxy ? proxy.port : dc.port;
    const backup = async (mode) => {
      const dir = fs.mkdtempSync(path.join(work, 'backup-'));
      const indexer = new BackgroundIndexer(() => {}, updateSearchIndex);
      if (mode !== 'alone') indexer.backupStarted(dir);
      if (mode === 'backlog') {
        emptyBacklog();
        indexer.schedule(backlog, true);
      }
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await runBackup({ archiveDir: dir, account: { host: '127.0.0.1', port, security: 'none', user: 'bench', password: 'bench-pw' } });
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(cpu0);
      const cpu = (c.user + c.system) / 1e6;
      if (r.messages !== B) throw new Error(`the backup stored ${r.messages} of ${B} messages (${r.errorCode ?? r.status})`);
      let pacing = null;
      let catchUp = null;
      let indexedDuring = null;
      if (mode !== 'alone') {
        indexer.backupEnded(dir);
        pacing = indexer.pacing();
        indexedDuring = docsIn(dir) + (mode === 'backlog' ? docsIn(backlog) : 0);
      }
      if (mode === 'following') {
        const t1 = performance.now();
        await indexer.idle();
        catchUp = (performance.now() - t1) / 1000;
      }
      indexer.stop();
      await indexer.idle();
      fs.rmSync(dir, { recursive: true, force: true });
      return { wall, cpu, pacing, catchUp, indexedDuring };
    };
    // Once each, not counted: Dovecot's own index and the page cache; loading the MIME parser (the
    // relay loads it at start, in its first pass over the archives, not during a backup).
    await backup('alone');
    await backup('following');
    const MODES = ['alone', 'following', 'backlog'];
    const runs = { alone: [], following: [], backlog: [] };
    const loads = [];
    for (let i = 0; i < PAIRS; i++) {
      loads.push(os.loadavg()[0]);
      for (let k = 0; k < MODES.length; k++) {
        const mode = MODES[(i + k) % MODES.length];
        runs[mode].push(await backup(mode));
      }
    }
    loads.push(os.loadavg()[0]);
    // The middle of an even count is the mean of the two middle values (8 rounds: no side gets the upper one).
    const median = (xs) => {
      const v = [...xs].sort((a, b) => a - b);
      const h = Math.floor(v.length / 2);
      return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
    };
    const walls = (xs) => xs.map((x) => x.wall);
    const range = (xs) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
    const cpuAlone = median(runs.alone.map((x) => x.cpu));
    proxy?.stop();
    console.log(`\nbackup of ${B} messages from Dovecot (in-process${LATENCY ? `, ${LATENCY} ms each way` : ''}), ${PAIRS} rounds of alone / following / backlog, the order rotating; 1-minute load ${range(loads)} over the rounds`);
    console.log(`  alone                    ${walls(runs.alone).map((x) => x.toFixed(2)).join(' ')} s; median ${fmt(median(walls(runs.alone)))}, range ${range(walls(runs.alone))} s; CPU median ${fmt(cpuAlone)}`);
    for (const mode of ['following', 'backlog']) {
      const xs = runs[mode];
      const ratios = xs.map((x, i) => x.wall / runs.alone[i].wall);
      const busyWork = xs.reduce((a, x) => a + x.pacing.busyWorkMs, 0);
      const busyWall = xs.reduce((a, x) => a + x.pacing.busyWallMs, 0);
      console.log(`  with the indexer, ${mode.padEnd(9)}  ${walls(xs).map((x) => x.toFixed(2)).join(' ')} s; median ${fmt(median(walls(xs)))}, range ${range(walls(xs))} s; CPU median ${fmt(median(xs.map((x) => x.cpu)))}`);
      console.log(`    ratio of medians ${(median(walls(xs)) / median(walls(runs.alone))).toFixed(2)}x wall (target: at most 1.10x), ${(median(xs.map((x) => x.cpu)) / cpuAlone).toFixed(2)}x CPU; round by round ${ratios.map((x) => x.toFixed(2)).join(' ')} (median ${median(ratios).toFixed(2)}, range ${range(ratios)})`);
      console.log(`    the indexer's own account while the backups ran: ${(busyWork / 1000).toFixed(2)} s of work in ${(busyWall / 1000).toFixed(1)} s = ${((100 * busyWork) / busyWall).toFixed(2)} % (limit ${(100 * SEARCH_LIMITS.busyShare).toFixed(0)} %); per backup ${xs.map((x) => ((100 * x.pacing.busyWorkMs) / x.pacing.busyWallMs).toFixed(2)).join(' ')} %; longest stretch of work per backup ${xs.map((x) => x.pacing.longestStretchMs.toFixed(0)).join(' ')} ms`);
      console.log(`    messages indexed when the backup ended: median ${median(xs.map((x) => x.indexedDuring))}${mode === 'following' ? ` of ${B}; the rest at full speed after it, median ${fmt(median(xs.map((x) => x.catchUp)))}` : ''}`);
    }
  } finally {
    await dc.stop();
  }
}

printLoadAverage();
if (!process.env.MAILKEEP_BENCH_KEEP) fs.rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
