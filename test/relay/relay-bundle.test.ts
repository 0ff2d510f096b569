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

/** A fake checkout: two source files and a bundle built at `builtAt` (ms since the epoch). */
function checkout(builtAt: number, sourceAt: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-bundle-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'src'));
  fs.mkdirSync(path.join(dir, '.output/relay'), { recursive: true });
  for (const f of ['src/a.ts', 'src/b.ts']) {
    fs.writeFileSync(path.join(dir, f), '');
    fs.utimesSync(path.join(dir, f), sourceAt / 1000, sourceAt / 1000);
  }
  fs.writeFileSync(path.join(dir, '.output/relay/inputs.json'), JSON.stringify(['src/a.ts', 'src/b.ts']));
  fs.writeFileSync(path.join(dir, '.output/relay/mailkeep.mjs'), '');
  fs.utimesSync(path.join(dir, '.output/relay/mailkeep.mjs'), builtAt / 1000, builtAt / 1000);
  return dir;
}

describe('the mailkeep launcher', () => {
  const t = Date.UTC(2030, 0, 1);

  it('runs the bundle when it is newer than every source file it was built from', () => {
    const dir = checkout(t, t - 60_000);
    expect(freshBundle(dir)).toBe(path.join(dir, '.output/relay/mailkeep.mjs'));
  });

  it('runs the sources when one of them was edited after the bundle was built', () => {
    const dir = checkout(t, t - 60_000);
    fs.utimesSync(path.join(dir, 'src/b.ts'), (t + 1000) / 1000, (t + 1000) / 1000);
    expect(freshBundle(dir)).toBeNull();
  });

  it('runs the sources when a file the bundle was built from is gone, or there is no bundle', () => {
    const dir = checkout(t, t - 60_000);
    fs.rmSync(path.join(dir, 'src/a.ts'));
    expect(freshBundle(dir)).toBeNull();
    expect(freshBundle(fs.mkdtempSync(path.join(os.tmpdir(), 'mk-nobundle-')))).toBeNull();
  });

  it('gives the same answer from the bundle as from the sources', () => {
    fs.mkdirSync(path.join(root, '.output'), { recursive: true });
    expect(spawnSync(process.execPath, ['scripts/build-relay.mjs'], { cwd: root }).status).toBe(0);
    expect(freshBundle(root)).not.toBeNull();
    const viaBundle = spawnSync(process.execPath, ['bin/mailkeep.js', 'backup', '--help'], { cwd: root, encoding: 'utf8' });
    const viaSources = spawnSync(process.execPath, ['bin/mailkeep.js', 'backup', '--help'], { cwd: root, encoding: 'utf8', env: { ...process.env, MAILKEEP_NO_BUNDLE: '1' } });
    expect(viaBundle.status).toBe(0);
    expect(viaBundle.stdout).toContain('--archive');
    expect(viaBundle.stdout).toBe(viaSources.stdout);
  });
});
