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
//   - peak RSS of `mailkeep reindex` with a 100 MB message (text body, then attachment) against without.
// Needs notmuch (apt-get install notmuch) for the comparisons; without it, Mailkeep's figures only.
// Prints figures only; never passes or fails on time.
//
//   node scripts/bench-search.mjs [--messages N] [--runs N] [--no-notmuch]   (default 100,000 messages, 9 runs)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { benchWorkDir, dovecotAvailable, median, printLoadAverage, root, startDovecot, timed } from './bench-support.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('messages', Number(process.env.MAILKEEP_BENCH_SEARCH_MESSAGES ?? 100_000));
const RUNS = arg('runs', 9);
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
await writeRun(archive, [...byFolder].map(([folder, messages]) => ({ folder, messages })));
console.log(`archive written: ${all.length} messages, ${(all.reduce((a, m) => a + m.raw.length, 0) / 1048576).toFixed(0)} MiB, ${fmt((performance.now() - t) / 1000)}`);
if (HAS_NOTMUCH) all.forEach((m, i) => {
  const d = path.join(maildir, m.folder.replace('/', '.'), 'cur');
  if (i === 0 || !fs.existsSync(d)) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, `${i}.bench:2,${m.flags.includes('\\Seen') ? 'S' : ''}`), m.raw);
});
const nmConfig = path.join(work, 'notmuch-config');
fs.writeFileSync(nmConfig, `[database]\npath=${maildir}\n[user]\nname=Bench\nprimary_email=bench@example.org\n[new]\ntags=inbox\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n`);
// Both in UTC: before:/after: and notmuch's date: begin at local midnight.
const nmEnv = { NOTMUCH_CONFIG: nmConfig, TZ: 'UTC' };

// 2. Index build, each as a whole process.
const mk = timed(process.execPath, [bin, 'reindex', '--archive', archive, '--json'], { TZ: 'UTC' });
const mkReport = JSON.parse(mk.stdout.trim().split('\n').pop());
const nm = HAS_NOTMUCH ? timed('notmuch', ['new', '--quiet'], nmEnv) : null;
console.log('\nindex build (whole process)            wall        CPU        peak RSS');
console.log(`  mailkeep reindex                     ${fmt(mk.wall).padEnd(11)} ${fmt(mk.cpu).padEnd(10)} ${mk.rssMb?.toFixed(0)} MB   (${mkReport.indexed} messages, ${mkReport.unparsed} indexed by headers only)`);
if (nm) {
  console.log(`  notmuch new                          ${fmt(nm.wall).padEnd(11)} ${fmt(nm.cpu).padEnd(10)} ${nm.rssMb?.toFixed(0)} MB`);
  console.log(`  ratio Mailkeep / notmuch             ${(mk.wall / nm.wall).toFixed(2)}x wall, ${(mk.cpu / nm.cpu).toFixed(2)}x CPU   (target: within 1.5x)`);
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
  ['German word', 'Grüße', 'Grüße'],
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
console.log(`\nqueries: median of ${RUNS}, 50 hits; Mailkeep in-process (warm, as the relay answers archive.search), notmuch as a whole process (notmuch search --limit=50)`);
console.log('  query                                   mailkeep    notmuch     count mk / nm');
search.closeSearchSessions();
const inProcess = [];
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
  console.log(`  ${`${what}: ${mq}`.slice(0, 38).padEnd(39)} ${ms(mkTime).padEnd(11)} ${nmTime === null ? 'n/a'.padEnd(11) : ms(nmTime).padEnd(11)} ${counts}`);
  if (nmCount !== null && nmCount !== mkCount) {
    if (genNm === genMk) console.log(`      counts differ only in the real-world corpus (generated messages: ${genMk} / ${genNm}): ${CORPUS_WHY[what] ?? WHY.corpus}`);
    else console.log(`      counts differ (generated messages: ${genMk} / ${genNm}): ${why ?? WHY.default}`);
  } else if (nmCount === null && why) console.log(`      ${why}`);
}
console.log(`  slowest in-process query ${ms(Math.max(...inProcess))}, median ${ms(median(inProcess))}`);

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

// 6. A backup with the relay's search indexer following it (paced to 5 % of wall time) against the
// same backup alone, in turn, each into a fresh archive (Dovecot; in-process, as the relay runs both).
if (dovecotAvailable()) {
  const { runBackup } = await import(path.join(root, 'relay/jobs/backup/run-backup.ts'));
  const { BackgroundIndexer } = await import(path.join(root, 'relay/search/background-indexer.ts'));
  const B = Math.min(N, 20_000);
  const dc = await startDovecot({ users: [{ name: 'bench', password: 'bench-pw' }], dir: path.join(work, 'dovecot') });
  try {
    dc.writeMaildir('bench', '', msgs.slice(0, B).map((m) => ({ raw: m.raw, flags: 'S', date: m.internalDate })));
    dc.settle('bench');
    const backup = async (withIndexer) => {
      const dir = fs.mkdtempSync(path.join(work, 'backup-'));
      const indexer = new BackgroundIndexer(() => {});
      if (withIndexer) indexer.backupStarted(dir);
      const t0 = performance.now();
      const r = await runBackup({ archiveDir: dir, account: { host: '127.0.0.1', port: dc.port, security: 'none', user: 'bench', password: 'bench-pw' } });
      const wall = (performance.now() - t0) / 1000;
      if (r.messages !== B) throw new Error(`the backup stored ${r.messages} of ${B} messages (${r.errorCode ?? r.status})`);
      if (withIndexer) {
        indexer.backupEnded(dir);
        await indexer.idle();
        indexer.stop();
      }
      fs.rmSync(dir, { recursive: true, force: true });
      return wall;
    };
    await backup(false); // Dovecot's own index and the page cache, once
    const alone = [];
    const indexed = [];
    // In turn, and each first every other time: whatever warms up between runs favours neither.
    for (let i = 0; i < Math.max(4, Math.min(RUNS, 6)); i++) {
      if (i % 2) indexed.push(await backup(true));
      alone.push(await backup(false));
      if (!(i % 2)) indexed.push(await backup(true));
    }
    console.log(`\nbackup of ${B} messages from Dovecot (in-process), alone: ${alone.map(fmt).join(', ')}; with the search indexer following it: ${indexed.map(fmt).join(', ')}`);
    console.log(`  ratio of medians ${(median(indexed) / median(alone)).toFixed(2)}x (target: at most 1.10x)`);
  } finally {
    await dc.stop();
  }
}

printLoadAverage();
if (!process.env.MAILKEEP_BENCH_KEEP) fs.rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
