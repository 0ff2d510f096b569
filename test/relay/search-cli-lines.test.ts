import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../relay/cli/search-main.ts';
import { hitLine } from '../../relay/cli/search-command.ts';
import { closeSearchSessions, searchArchive, updateSearchIndex } from '../../relay/search/index.ts';
import { mail, writeRun } from '../support/search-archive.ts';

/**
 * `mailkeep search` prints lines without snippets, so it asks for hits without them (making them
 * is a third of a one-shot query): the lines and the hits must be exactly those of a search with
 * snippets, and --json keeps them.
 */

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-search-lines-'));
  const m = (n: number, subject: string, body: string) => ({ raw: mail({ from: `Anna ${n} <anna${n}@example.org>`, subject, date: `Mon, ${10 + n} Mar 2024 10:00:00 +0000`, body }), flags: ['\\Seen'] });
  await writeRun(dir, [
    { folder: 'INBOX', messages: [m(1, 'Contract review', 'Please sign the contract by Friday.'), m(2, 'Lunch', 'Meeting at noon, then the contract.'), m(3, 'Budget', 'Numbers for next year.')] },
    { folder: 'Archive', messages: [m(1, 'Contract review', 'Please sign the contract by Friday.'), m(4, 'Old contract', 'Paid.')] },
  ]);
  await updateSearchIndex(dir);
});
afterAll(() => {
  closeSearchSessions();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stream = (add: (t: string) => void) => ({ isTTY: false, write: (t: string) => (add(t), true) }) as unknown as NodeJS.WriteStream;
  const code = await main(argv, { out: stream((t) => (out += t)), err: stream((t) => (err += t)) });
  return { code, out, err };
}

describe('mailkeep search lines and snippets', () => {
  it('finds the same hits without snippets as with them, for words, a phrase, a header and a filter query', () => {
    for (const q of ['contract', '"sign the contract"', 'from:anna1 contract', 'folder:Archive', 'contract -subject:old']) {
      const withSnippets = searchArchive(dir, q, { timeZone: 'UTC', limit: 3 });
      const without = searchArchive(dir, q, { timeZone: 'UTC', limit: 3, snippets: false });
      expect(without.hits.length).toBeGreaterThan(0);
      expect(without).toEqual({ ...withSnippets, hits: withSnippets.hits.map(({ snippet: _, ...h }) => h) });
    }
    expect(searchArchive(dir, 'contract', { timeZone: 'UTC' }).hits[0]!.snippet).toContain('\u0002contract\u0003');
  });

  it('prints one line per hit of a search with snippets, and --json carries the snippets', async () => {
    const page = searchArchive(dir, 'contract', { timeZone: 'local', limit: 2 });
    const lines = await run(['search', '--archive', dir, 'contract', '--limit', '2']);
    expect(lines.code).toBe(0);
    expect(lines.out).toBe(page.hits.map((h) => hitLine(h, 'local')).join(''));
    expect(lines.err).toContain(`--cursor ${page.nextCursor}`);
    const json = await run(['search', '--archive', dir, 'contract', '--limit', '2', '--json']);
    expect(JSON.parse(json.out)).toEqual({ kind: 'search', ...page });
  });

  it('the "more:" line, run as printed, gives the next page of the same search: its page size and its run kept', async () => {
    for (const extra of [['--limit', '2'], ['--limit', '1', '--at-run', '1']]) {
      const first = await run(['search', '--archive', dir, 'contract', ...extra]);
      const more = /^more: mailkeep (.*)$/m.exec(first.err)?.[1];
      expect(more, first.err).toBeTruthy();
      // The printed command's words, as a shell splits them (JSON.stringify quotes them).
      const argv = more!.match(/"(?:[^"\\]|\\.)*"|\S+/g)!.map((w) => (w.startsWith('"') ? (JSON.parse(w) as string) : w));
      const next = await run(argv);
      expect(next.code).toBe(0);
      const limit = Number(extra[1]);
      const atRun = extra.includes('--at-run') ? { atRun: 1 } : {};
      const page1 = searchArchive(dir, 'contract', { timeZone: 'local', limit, ...atRun });
      const page2 = searchArchive(dir, 'contract', { timeZone: 'local', limit, cursor: page1.nextCursor!, ...atRun });
      expect(page2.hits.length).toBeGreaterThan(0);
      expect(next.out).toBe(page2.hits.map((h) => hitLine(atRun.atRun ? { ...h, goneOnServer: false } : h, 'local')).join(''));
    }
  });
});
