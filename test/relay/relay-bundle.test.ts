import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module of the launcher, no type declarations
import { freshBundle } from '../../bin/fresh-bundle.js';
import { mail, writeRun } from '../support/search-archive.ts';

const root = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * A fake checkout: three source files and a build stamped as made from them as they are now; the
 * search build (search.mjs) was made from src/a.ts and src/c.ts only, the show build from src/a.ts.
 */
function checkout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-bundle-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'src'));
  fs.mkdirSync(path.join(dir, '.output/relay/b-test'), { recursive: true });
  const t = Date.UTC(2030, 0, 1) / 1000;
  const files = ['src/a.ts', 'src/b.ts', 'src/c.ts'].map((f) => {
    fs.writeFileSync(path.join(dir, f), `// ${f}\n`);
    fs.utimesSync(path.join(dir, f), t, t);
    const st = fs.statSync(path.join(dir, f));
    return [f, st.size, st.mtimeMs];
  });
  fs.writeFileSync(path.join(dir, '.output/relay/stamp.json'), JSON.stringify({ v: 3, build: 'b-test', files, search: [0, 2], show: [0] }));
  for (const f of ['mailkeep.mjs', 'relay.mjs', 'search.mjs', 'show.mjs']) fs.writeFileSync(path.join(dir, '.output/relay/b-test', f), '');
  return dir;
}

describe('the mailkeep launcher', () => {
  const at = (dir: string, f: string, s: number): void => fs.utimesSync(path.join(dir, f), s, s);

  it('runs the build while every source file is exactly as stamped: the split CLI build, the one-file build for the relay, the search and show entries', () => {
    const dir = checkout();
    expect(freshBundle(dir, 'show')).toBe(path.join(dir, '.output/relay/b-test/show.mjs'));
    expect(freshBundle(dir)).toBe(path.join(dir, '.output/relay/b-test/mailkeep.mjs'));
    expect(freshBundle(dir, 'relay')).toBe(path.join(dir, '.output/relay/b-test/relay.mjs'));
    expect(freshBundle(dir, 'search')).toBe(path.join(dir, '.output/relay/b-test/search.mjs'));
  });

  it('runs the search entry while the sources it was built from are as stamped, though another source changed (which makes the full builds stale)', () => {
    const dir = checkout();
    fs.appendFileSync(path.join(dir, 'src/b.ts'), 'x');
    expect(freshBundle(dir, 'search')).toBe(path.join(dir, '.output/relay/b-test/search.mjs'));
    expect(freshBundle(dir)).toBeNull();
    expect(freshBundle(dir, 'relay')).toBeNull();
    expect(freshBundle(dir, 'show')).toBe(path.join(dir, '.output/relay/b-test/show.mjs'));
    fs.appendFileSync(path.join(dir, 'src/c.ts'), 'x');
    expect(freshBundle(dir, 'search')).toBeNull();
    expect(freshBundle(dir, 'show')).not.toBeNull();
    fs.appendFileSync(path.join(dir, 'src/a.ts'), 'x');
    expect(freshBundle(dir, 'show')).toBeNull();
  });

  it('runs the sources once a source file was saved after the build, also when its time moved back (a checkout, a restore) or only its size changed', () => {
    const later = checkout();
    at(later, 'src/b.ts', Date.UTC(2030, 0, 2) / 1000);
    expect(freshBundle(later)).toBeNull();
    const earlier = checkout();
    at(earlier, 'src/a.ts', Date.UTC(2020, 0, 1) / 1000);
    expect(freshBundle(earlier)).toBeNull();
    expect(freshBundle(earlier, 'relay')).toBeNull();
    expect(freshBundle(earlier, 'search')).toBeNull();
    const sameTime = checkout();
    fs.appendFileSync(path.join(sameTime, 'src/a.ts'), 'x');
    at(sameTime, 'src/a.ts', Date.UTC(2030, 0, 1) / 1000);
    expect(freshBundle(sameTime)).toBeNull();
    expect(freshBundle(sameTime, 'search')).toBeNull();
  });

  it('runs the sources when a file the bundle was built from is gone, the build folder is gone, the stamp is damaged or there is none', () => {
    const gone = checkout();
    fs.rmSync(path.join(gone, 'src/a.ts'));
    expect(freshBundle(gone)).toBeNull();
    expect(freshBundle(gone, 'search')).toBeNull();
    expect(freshBundle(gone, 'show')).toBeNull();
    const noBuild = checkout();
    fs.rmSync(path.join(noBuild, '.output/relay/b-test'), { recursive: true });
    expect(freshBundle(noBuild)).toBeNull();
    const damaged = checkout();
    fs.writeFileSync(path.join(damaged, '.output/relay/stamp.json'), '{"v":2,"build":"../../etc","files":[["src/a.ts",0,0]]}');
    expect(freshBundle(damaged)).toBeNull();
    fs.writeFileSync(path.join(damaged, '.output/relay/stamp.json'), '{"v":2,');
    expect(freshBundle(damaged)).toBeNull();
    // A stamp whose search list names no file, or a file it does not list; one of the format before
    // the search entry (v2: no list of the search build's sources); a kind there is no build of.
    const stamp = JSON.parse(fs.readFileSync(path.join(checkout(), '.output/relay/stamp.json'), 'utf8')) as { files: unknown[] };
    for (const bad of [{ ...stamp, search: [], show: [] }, { ...stamp, search: [0, 7], show: [7] }, { ...stamp, search: 'all', show: undefined }, { ...stamp, v: 2 }]) {
      fs.writeFileSync(path.join(damaged, '.output/relay/stamp.json'), JSON.stringify(bad));
      expect(freshBundle(damaged, 'search')).toBeNull();
      expect(freshBundle(damaged, 'show')).toBeNull();
    }
    expect(freshBundle(checkout(), 'no-such-kind')).toBeNull();
    expect(freshBundle(fs.mkdtempSync(path.join(os.tmpdir(), 'mk-nobundle-')))).toBeNull();
  });

  it('gives the same answer from the bundle as from the sources, and stamps every source it was built from', async () => {
    fs.mkdirSync(path.join(root, '.output'), { recursive: true });
    expect(spawnSync(process.execPath, ['scripts/build-relay.mjs'], { cwd: root }).status).toBe(0);
    expect(freshBundle(root)).not.toBeNull();
    expect(freshBundle(root, 'search')).not.toBeNull();
    expect(freshBundle(root, 'show')).not.toBeNull();
    // Every file esbuild read is in the stamp: the CLI's own modules, the engine's, the lock file;
    // the search and show builds' lists hold their own sources (also those of a lazily loaded MIME parser).
    const stamp = JSON.parse(fs.readFileSync(path.join(root, '.output/relay/stamp.json'), 'utf8')) as { files: [string][]; search: number[]; show: number[] };
    const stamped = stamp.files.map(([f]) => f);
    for (const f of ['relay/cli/main.ts', 'relay/cli/commands.ts', 'relay/jobs/backup/run-backup.ts', 'relay/server/relay-command.ts', 'lib/protocol/error-codes.ts', 'relay/cli/search-main.ts', 'relay/cli/show-main.ts', 'package-lock.json'])
      expect(stamped).toContain(f);
    const searchStamped = stamp.search.map((i) => stamp.files[i]![0]);
    for (const f of ['relay/cli/search-main.ts', 'relay/cli/run-command.ts', 'relay/cli/search-command.ts', 'relay/search/search.ts', 'relay/search/parse-message.ts', 'relay/archive/sqlite.ts', 'lib/limits.ts', 'package-lock.json'])
      expect(searchStamped).toContain(f);
    for (const f of ['relay/server/relay-command.ts', 'relay/cli/main.ts', 'relay/cli/show-command.ts']) expect(searchStamped).not.toContain(f);
    const showStamped = stamp.show.map((i) => stamp.files[i]![0]);
    for (const f of ['relay/cli/show-main.ts', 'relay/cli/show-command.ts', 'relay/search/show.ts', 'relay/search/parse-message.ts', 'relay/jobs/restore-blob.ts', 'package-lock.json']) expect(showStamped).toContain(f);
    // search and show (the search entry) against the sources (main.ts), on a small archive.
    const archive = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-bundle-archive-'));
    dirs.push(archive);
    const raw = (n: number) => mail({ from: `Anna <anna${n}@example.org>`, subject: `meeting notes ${n}`, date: `Mon, 0${n} Jan 2024 10:00:00 +0000`, body: `agenda ${n}` });
    await writeRun(archive, [{ folder: 'INBOX', messages: [1, 2, 3].map((n) => ({ raw: raw(n), flags: ['\\Seen'] })) }]);
    const env = { ...process.env, TZ: 'UTC' };
    expect(spawnSync(process.execPath, ['bin/mailkeep.js', 'reindex', '--archive', archive], { cwd: root, encoding: 'utf8', env }).status).toBe(0);
    const first = spawnSync(process.execPath, ['bin/mailkeep.js', 'search', '--archive', archive, 'meeting', '--json'], { cwd: root, encoding: 'utf8', env });
    const id = (JSON.parse(first.stdout) as { hits: { id: string }[] }).hits[0]!.id;
    for (const argv of [
      ['--help'], ['backup', '--help'], ['relay', '--help'], ['restore', '--help'], ['no-such-command'],
      ['search', '--help'], ['show', '-h'], ['search', 'meeting'], ['show', '--archive', archive],
      ['search', '--archive', archive, 'meeting'], ['search', '--archive', archive, 'meeting', '--json', '--limit', '2'], ['search', '--archive', archive, 'from:(anna'],
      ['show', '--archive', archive, id], ['show', '--archive', archive, id, '--json'], ['show', '--archive', archive, id, '--raw'], ['show', '--archive', archive, '0000000000000000-1'],
    ]) {
      const viaBundle = spawnSync(process.execPath, ['bin/mailkeep.js', ...argv], { cwd: root, encoding: 'utf8', env });
      const viaSources = spawnSync(process.execPath, ['bin/mailkeep.js', ...argv], { cwd: root, encoding: 'utf8', env: { ...env, MAILKEEP_NO_BUNDLE: '1' } });
      expect(viaBundle.stdout + viaBundle.stderr).toBe(viaSources.stdout + viaSources.stderr);
      expect(viaBundle.status).toBe(viaSources.status);
    }
    expect(spawnSync(process.execPath, ['bin/mailkeep.js', 'backup', '--help'], { cwd: root, encoding: 'utf8' }).stdout).toContain('--archive');
    expect(spawnSync(process.execPath, ['bin/mailkeep.js', 'search', '--archive', archive, 'agenda 2'], { cwd: root, encoding: 'utf8', env }).stdout).toContain('meeting notes 2');
  });

  it('runs mailkeep search from its own entry, one or two files without zod, the journal, mailparser, imapflow or the relay server: a search starts about as fast as Node with SQLite', () => {
    fs.mkdirSync(path.join(root, '.output'), { recursive: true });
    expect(spawnSync(process.execPath, ['scripts/build-relay.mjs'], { cwd: root }).status).toBe(0);
    const entry = freshBundle(root, 'search') as string;
    expect(path.basename(entry)).toBe('search.mjs');
    const build = path.dirname(entry);
    // What `mailkeep search` loads: the entry and every chunk it imports statically; import("...")
    // (show, the MIME parser for indexing) loads later, if ever.
    const loaded = new Set<string>();
    const visit = (file: string): void => {
      if (loaded.has(file)) return;
      loaded.add(file);
      const text = fs.readFileSync(path.join(build, file), 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\b[^;()]*?\bfrom\s*"\.\/([\w-]+\.mjs)"|^import\s*"\.\/([\w-]+\.mjs)"/gm)) visit((m[1] ?? m[2])!);
    };
    visit('search.mjs');
    expect(loaded.size).toBeLessThanOrEqual(2);
    // esbuild heads each module's code with a comment naming its file.
    const modules = [...loaded].flatMap((f) => [...fs.readFileSync(path.join(build, f), 'utf8').matchAll(/^\/\/ (\S+\.[cm]?[jt]s)$/gm)].map((m) => m[1]!));
    for (const m of ['relay/cli/search-command.ts', 'relay/search/search.ts', 'relay/search/index-update.ts', 'relay/archive/sqlite.ts']) expect(modules).toContain(m);
    for (const heavy of [/node_modules\//, /^lib\/zod\.ts$/, /^relay\/archive\/journal(-ops)?\.ts$/, /^relay\/search\/parse-message\.ts$/, /^relay\/search\/show\.ts$/, /^relay\/cli\/main\.ts$/, /^relay\/server\//]) {
      expect(modules.filter((m) => heavy.test(m) && m !== 'relay/server/exit-codes.ts')).toEqual([]);
    }
    // better-sqlite3 is required, not imported (an ES import of it costs a scan of its source).
    const text = [...loaded].map((f) => fs.readFileSync(path.join(build, f), 'utf8')).join('\n');
    expect(text).not.toMatch(/^import\b[^;]*"better-sqlite3"/m);
  });
});
