import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { exportFileName, safeStem } from '../../relay/export/export-file-name.ts';
import { downloadRunner } from '../../relay/jobs/download/download-runner.ts';
import { DownloadLinks } from '../../relay/server/download-links.ts';
import { fixedClock } from '../../lib/clock.ts';

// The export itself is tested against real archives elsewhere (download-export.test.ts); here it
// only has to leave a file where it was told, so the runner's naming is what is looked at.
vi.mock('../../relay/jobs/download/run-download.ts', () => ({
  runDownload: async (opts: { out: string }) => {
    fs.writeFileSync(opts.out, 'zip');
    return { status: 'completed_link', messages: 1, bytes: 3, folders: 1 };
  },
}));

// 23:30 UTC on 30 November is already 1 December in Berlin and still 30 November in New York.
const AT = Date.parse('2026-11-30T23:30:00Z');

describe('names of exported files', () => {
  it('are the account\'s address and the day in the user\'s zone, not the machine\'s', () => {
    expect(exportFileName({ address: 'alice@example.com', format: 'mbox', at: AT, timeZone: 'Europe/Berlin' })).toBe('alice@example.com-2026-12-01.mbox.zip');
    expect(exportFileName({ address: 'alice@example.com', format: 'eml-zip', at: AT, timeZone: 'America/New_York' })).toBe('alice@example.com-2026-11-30.eml.zip');
    expect(exportFileName({ address: 'alice@example.com', format: 'mbox', at: AT, timeZone: 'UTC' })).toBe('alice@example.com-2026-11-30.mbox.zip');
  });

  it('a second export the same day gets " (2)", a third " (3)", never a name given before (also in other case)', () => {
    const base = { address: 'alice@example.com', format: 'mbox' as const, at: AT, timeZone: 'Europe/Berlin' };
    expect(exportFileName({ ...base, taken: ['alice@example.com-2026-12-01.mbox.zip'] })).toBe('alice@example.com-2026-12-01 (2).mbox.zip');
    expect(exportFileName({ ...base, taken: ['ALICE@example.com-2026-12-01.mbox.zip', 'alice@example.com-2026-12-01 (2).mbox.zip'] })).toBe('alice@example.com-2026-12-01 (3).mbox.zip');
    // Another day or another format is another name.
    expect(exportFileName({ ...base, taken: ['alice@example.com-2026-11-30.mbox.zip', 'alice@example.com-2026-12-01.eml.zip'] })).toBe('alice@example.com-2026-12-01.mbox.zip');
  });

  it.each([
    ['a/b\\c@x.org', 'a_b_c@x.org'],
    ['we:ird*"<>|?@x.org', 'we_ird______@x.org'],
    ['tab\there@x.org', 'tab_here@x.org'],
    ['..hidden@x.org', '_hidden@x.org'],
    ['trailing@x.org. ', 'trailing@x.org'],
    ['CON', '_CON'],
    ['', 'mailbox'],
    ['müller@beispiel.de', 'müller@beispiel.de'],
  ])('replaces what a file system refuses: %j -> %j', (address, stem) => {
    expect(safeStem(address)).toBe(stem);
  });

  it('stays within file name limits for a very long address', () => {
    const name = exportFileName({ address: `${'x'.repeat(300)}@example.com`, format: 'mbox', at: AT, timeZone: 'UTC' });
    expect(Buffer.byteLength(name)).toBeLessThan(255);
  });

  it('the download runner names the link after the account\'s email, else its login, on the clock\'s day in its zone, and a second the same day " (2)"', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-name-'));
    try {
      const links = new DownloadLinks(dir, () => AT);
      const run = downloadRunner(links, fixedClock(AT, 'Europe/Berlin'));
      const names: string[] = [];
      for (const [n, email] of ['alice@example.com', 'alice@example.com', undefined].entries()) {
        const account = { id: 'acct_1', host: '127.0.0.1', port: 1, security: 'none' as const, user: 'alice', ...(email ? { email } : {}) };
        const ctx = { job: { id: `j_${n}` }, account, password: '', params: { format: 'mbox' }, dataDir: dir, signal: new AbortController().signal, reportProgress: () => undefined, setStatus: () => undefined };
        const result = await run(ctx as never);
        names.push(result && 'outcome' in result ? (result.outcome as { link: { fileName: string } }).link.fileName : '');
      }
      expect(names).toEqual(['alice@example.com-2026-12-01.mbox.zip', 'alice@example.com-2026-12-01 (2).mbox.zip', 'alice-2026-12-01.mbox.zip']);
      expect(links.namesGiven()).toEqual(names);
      // The store remembers them across a relay restart (it reads downloads.json).
      expect(new DownloadLinks(dir, () => AT).namesGiven()).toEqual(names);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
