import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mail, writeRun } from '../support/search-archive.ts';

const root = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-sqlite-uri-'));
  dirs.push(d);
  return d;
};

/** Every .ts file under relay/ and lib/, relative to the root. */
function sources(): string[] {
  return ['relay', 'lib'].flatMap((top) =>
    (fs.readdirSync(path.join(root, top), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join(top, f).split(path.sep).join('/')),
  );
}

/**
 * A fresh Node process (SQLite's URI setting is taken once per process, as better-sqlite3's addon
 * loads) that opens its first database as the relay does (state.sqlite), then reads `archive` by URI:
 * the immutable open of a read-only location and the search index's read-only attach.
 */
function relayLikeProcess(archive: string, env: Record<string, string | undefined> = {}): { status: number | null; out: string } {
  const script = `
    const { openStateDb } = await import(${JSON.stringify(path.join(root, 'relay/state/state-db.ts'))});
    openStateDb(${JSON.stringify(tmp())}).close();
    const { openArchiveIndex } = await import(${JSON.stringify(path.join(root, 'relay/archive/archive-reader.ts'))});
    const ro = openArchiveIndex(${JSON.stringify(archive)}, { immutable: true });
    const n = ro.db.prepare('SELECT COUNT(*) FROM messages').pluck().get();
    ro.db.close();
    const { searchArchive } = await import(${JSON.stringify(path.join(root, 'relay/search/index.ts'))});
    await (await import(${JSON.stringify(path.join(root, 'relay/search/index-update.ts'))})).updateSearchIndex(${JSON.stringify(archive)});
    console.log(ro.mode, n, searchArchive(${JSON.stringify(archive)}, 'agenda', { timeZone: 'UTC' }).hits.length);`;
  const base = { ...process.env };
  delete base.SQLITE_USE_URI;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...base, ...env } });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('SQLite URI filenames (relay/archive/sqlite.ts)', () => {
  it('every relay module that opens a database takes better-sqlite3 from relay/archive/sqlite.ts, which turns URI filenames on before any can', () => {
    const direct = sources().filter((f) => f !== 'relay/archive/sqlite.ts' && /^import\s+(?!type\b)[^;]*from\s+'better-sqlite3'|require\(\s*'better-sqlite3'\s*\)/m.test(fs.readFileSync(path.join(root, f), 'utf8')));
    expect(direct).toEqual([]);
    // No other module sets SQLITE_USE_URI: one place decides it.
    const setters = [...sources(), 'bin/mailkeep.js', 'bin/fresh-bundle.js'].filter((f) => /\.SQLITE_USE_URI\s*(\?\?=|\|\|=|=(?!=))/.test(fs.readFileSync(path.join(root, f), 'utf8')));
    expect(setters).toEqual(['relay/archive/sqlite.ts']);
  });

  it('reads an archive by URI in a process whose first database is the relay state database: read-only by immutable open and attached to search', async () => {
    const archive = tmp();
    await writeRun(archive, [{ folder: 'INBOX', messages: [1, 2].map((n) => ({ raw: mail({ subject: `notes ${n}`, body: `agenda ${n}` }) })) }]);
    const r = relayLikeProcess(archive);
    expect(r.out.trim()).toBe('immutable 2 2');
    expect(r.status).toBe(0);
  });

  it('keeps a SQLITE_USE_URI=0 the user set, and then says why an archive on a read-only location cannot be opened', async () => {
    const archive = tmp();
    await writeRun(archive, [{ folder: 'INBOX', messages: [{ raw: mail({ subject: 'notes', body: 'agenda' }) }] }]);
    const r = relayLikeProcess(archive, { SQLITE_USE_URI: '0' });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('URI filenames turned off: SQLITE_USE_URI=0');
  });
});
