import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module of the launcher, no type declarations
import { freshBundle } from '../../bin/fresh-bundle.js';

const root = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fake checkout: two source files and a build stamped as made from them as they are now. */
function checkout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-bundle-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'src'));
  fs.mkdirSync(path.join(dir, '.output/relay/b-test'), { recursive: true });
  const t = Date.UTC(2030, 0, 1) / 1000;
  const files = ['src/a.ts', 'src/b.ts'].map((f) => {
    fs.writeFileSync(path.join(dir, f), `// ${f}\n`);
    fs.utimesSync(path.join(dir, f), t, t);
    const st = fs.statSync(path.join(dir, f));
    return [f, st.size, st.mtimeMs];
  });
  fs.writeFileSync(path.join(dir, '.output/relay/stamp.json'), JSON.stringify({ v: 2, build: 'b-test', files }));
  for (const f of ['mailkeep.mjs', 'relay.mjs']) fs.writeFileSync(path.join(dir, '.output/relay/b-test', f), '');
  return dir;
}

describe('the mailkeep launcher', () => {
  const at = (dir: string, f: string, s: number): void => fs.utimesSync(path.join(dir, f), s, s);

  it('runs the build while every source file is exactly as stamped: the split CLI build, and the one-file build for the relay', () => {
    const dir = checkout();
    expect(freshBundle(dir)).toBe(path.join(dir, '.output/relay/b-test/mailkeep.mjs'));
    expect(freshBundle(dir, 'relay')).toBe(path.join(dir, '.output/relay/b-test/relay.mjs'));
  });

  it('runs the sources once a source file was saved after the build, also when its time moved back (a checkout, a restore) or only its size changed', () => {
    const later = checkout();
    at(later, 'src/b.ts', Date.UTC(2030, 0, 2) / 1000);
    expect(freshBundle(later)).toBeNull();
    const earlier = checkout();
    at(earlier, 'src/a.ts', Date.UTC(2020, 0, 1) / 1000);
    expect(freshBundle(earlier)).toBeNull();
    expect(freshBundle(earlier, 'relay')).toBeNull();
    const sameTime = checkout();
    fs.appendFileSync(path.join(sameTime, 'src/a.ts'), 'x');
    at(sameTime, 'src/a.ts', Date.UTC(2030, 0, 1) / 1000);
    expect(freshBundle(sameTime)).toBeNull();
  });

  it('runs the sources when a file the bundle was built from is gone, the build folder is gone, the stamp is damaged or there is none', () => {
    const gone = checkout();
    fs.rmSync(path.join(gone, 'src/a.ts'));
    expect(freshBundle(gone)).toBeNull();
    const noBuild = checkout();
    fs.rmSync(path.join(noBuild, '.output/relay/b-test'), { recursive: true });
    expect(freshBundle(noBuild)).toBeNull();
    const damaged = checkout();
    fs.writeFileSync(path.join(damaged, '.output/relay/stamp.json'), '{"v":2,"build":"../../etc","files":[["src/a.ts",0,0]]}');
    expect(freshBundle(damaged)).toBeNull();
    fs.writeFileSync(path.join(damaged, '.output/relay/stamp.json'), '{"v":2,');
    expect(freshBundle(damaged)).toBeNull();
    expect(freshBundle(fs.mkdtempSync(path.join(os.tmpdir(), 'mk-nobundle-')))).toBeNull();
  });

  it('gives the same answer from the bundle as from the sources, and stamps every source it was built from', () => {
    fs.mkdirSync(path.join(root, '.output'), { recursive: true });
    expect(spawnSync(process.execPath, ['scripts/build-relay.mjs'], { cwd: root }).status).toBe(0);
    expect(freshBundle(root)).not.toBeNull();
    // Every file esbuild read is in the stamp: the CLI's own modules, the engine's, the lock file.
    const stamped = (JSON.parse(fs.readFileSync(path.join(root, '.output/relay/stamp.json'), 'utf8')) as { files: [string][] }).files.map(([f]) => f);
    for (const f of ['relay/cli/main.ts', 'relay/cli/commands.ts', 'relay/jobs/backup/run-backup.ts', 'relay/server/relay-command.ts', 'lib/protocol/error-codes.ts', 'package-lock.json']) expect(stamped).toContain(f);
    for (const argv of [['--help'], ['backup', '--help'], ['relay', '--help'], ['restore', '--help'], ['no-such-command']]) {
      const viaBundle = spawnSync(process.execPath, ['bin/mailkeep.js', ...argv], { cwd: root, encoding: 'utf8' });
      const viaSources = spawnSync(process.execPath, ['bin/mailkeep.js', ...argv], { cwd: root, encoding: 'utf8', env: { ...process.env, MAILKEEP_NO_BUNDLE: '1' } });
      expect(viaBundle.stdout + viaBundle.stderr).toBe(viaSources.stdout + viaSources.stderr);
      expect(viaBundle.status).toBe(viaSources.status);
    }
    expect(spawnSync(process.execPath, ['bin/mailkeep.js', 'backup', '--help'], { cwd: root, encoding: 'utf8' }).stdout).toContain('--archive');
  });

  it('runs mailkeep search from the split build without loading zod, the journal, mailparser, imapflow or the relay server: a search starts about as fast as Node with SQLite', () => {
    fs.mkdirSync(path.join(root, '.output'), { recursive: true });
    expect(spawnSync(process.execPath, ['scripts/build-relay.mjs'], { cwd: root }).status).toBe(0);
    const build = path.dirname(freshBundle(root) as string);
    const chunks = fs.readdirSync(build).map((f) => [f, fs.readFileSync(path.join(build, f), 'utf8')] as const);
    const start = chunks.find(([, text]) => /^\/\/ relay\/cli\/search-command\.ts$/m.test(text));
    expect(start).toBeDefined();
    // What `mailkeep search` loads: main's chunk, the search command's chunk (main imports it when
    // the command runs) and every chunk they import statically; import("...") loads later, if ever.
    const loaded = new Set<string>();
    const visit = (file: string): void => {
      if (loaded.has(file)) return;
      loaded.add(file);
      const text = fs.readFileSync(path.join(build, file), 'utf8');
      for (const m of text.matchAll(/^(?:import|export)\b[^;()]*?\bfrom\s*"\.\/([\w-]+\.mjs)"|^import\s*"\.\/([\w-]+\.mjs)"/gm)) visit((m[1] ?? m[2])!);
    };
    visit('mailkeep.mjs');
    visit(start![0]);
    // esbuild heads each module's code with a comment naming its file.
    const modules = [...loaded].flatMap((f) => [...fs.readFileSync(path.join(build, f), 'utf8').matchAll(/^\/\/ (\S+\.[cm]?[jt]s)$/gm)].map((m) => m[1]!));
    expect(modules).toContain('relay/search/search.ts');
    expect(modules).toContain('relay/search/index-update.ts');
    for (const heavy of [/node_modules\/zod\//, /^lib\/zod\.ts$/, /^relay\/archive\/journal(-ops)?\.ts$/, /node_modules\/mailparser\//, /^relay\/search\/parse-message\.ts$/, /node_modules\/imapflow\//, /^relay\/server\//]) {
      expect(modules.filter((m) => heavy.test(m) && m !== 'relay/server/exit-codes.ts')).toEqual([]);
    }
  });
});
