/**
 * `mailkeep account pacing` after a backup of an account with no limit said "used in the last 24 h:
 * 0 KB down": nothing was counted without a limit, so a limit set later ignored traffic already used.
 * Every job's traffic is counted now, and sizes are read one way (search and pacing alike).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImapAccount } from '../../lib/protocol/common.ts';
import { parseByteSize } from '../../lib/byte-size.ts';
import { formatBytes } from '../../lib/format.ts';
import { openStateDb } from '../../relay/state/state-db.ts';
import { openAccountPacing, TransferBudget } from '../../relay/state/transfer-budget.ts';
import { describePacing, sizeOption } from '../../relay/cli/pacing-command.ts';
import { parseQuery } from '../../relay/search/query-parser.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const NOW = Date.parse('2026-12-01T10:00:00Z');
const clock = () => NOW;

function stateDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-tally-'));
  dirs.push(d);
  openStateDb(d).close(); // the relay made its state file
  return d;
}

describe('transfer is counted whether or not a limit is set', () => {
  for (const host of ['mail.example.org', 'outlook.office365.com']) {
    it(`a 9 KB backup of an account with no daily limit (${host}) shows as 9.0 KB used, and a limit set later counts it`, () => {
      const dir = stateDir();
      const account = { id: 'acc1', host } as ImapAccount;
      const opened = openAccountPacing(dir, account, clock, 'down');
      expect(opened, 'a job is counted even with no limit').not.toBeNull();
      expect(opened!.job.spent()).toBe(false);
      opened!.job.took(9 * 1024);
      opened!.job.flush();
      opened!.close();

      const db = openStateDb(dir);
      try {
        const budget = new TransferBudget(db, clock);
        expect(budget.used('acc1', 'down')).toBe(9 * 1024);
        expect(formatBytes(budget.used('acc1', 'down'))).toBe('9.0 KB');
        // A limit set afterwards below what was used: the next job starts spent, not with a fresh day.
        budget.setPacing('acc1', { downBytesPerDay: sizeOption('daily-download', '8K') as number });
      } finally {
        db.close();
      }
      const next = openAccountPacing(dir, account, clock, 'down');
      expect(next!.job.spent()).toBe(true);
      next!.close();
    });
  }

  it('a job run without a relay (no state file) is not paced and creates no state file', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-tally-'));
    dirs.push(d);
    expect(openAccountPacing(d, { id: 'a', host: 'mail.example.org' } as ImapAccount, clock, 'down')).toBeNull();
    expect(fs.readdirSync(d)).toEqual([]);
  });
});

describe('one reading of sizes for search and pacing', () => {
  const cases: [string, number][] = [
    ['1M', 1024 ** 2], ['2.4G', Math.round(2.4 * 1024 ** 3)], ['500K', 500 * 1024], ['2400MB', 2400 * 1024 ** 2],
    ['2.5 GB', Math.round(2.5 * 1024 ** 3)], ['10KiB', 10 * 1024], ['300000', 300000], ['12b', 12], ['1m', 1024 ** 2],
  ];
  it.each(cases)('"%s" is %d bytes in --daily-download and in larger:', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
    expect(sizeOption('daily-download', text)).toBe(bytes);
    if (!/\s/.test(text)) expect(parseQuery(`larger:${text}`)).toMatchObject({ kind: 'size', op: 'larger', bytes });
  });

  it.each(['', 'M', '1.5.2G', '-1M', '1T', '1 M B', 'lots', '9'.repeat(30)])('"%s" is no size, with a clear error in either place', (text) => {
    expect(parseByteSize(text)).toBeNull();
    expect(() => sizeOption('daily-download', text)).toThrow(/must be a size such as 2400MB, 2\.4G or 500K/);
  });

  it('a zero budget is refused (off says "no limit"), and off and default still mean what they say', () => {
    expect(() => sizeOption('daily-download', '0K')).toThrow(/must be a size/);
    expect(sizeOption('daily-download', 'off')).toBeNull();
    expect(sizeOption('daily-download', 'default')).toBe('default');
  });

  it('the CLI writes sizes as the pages do (9 KB is "9.0 KB", never rounded up to "10 KB")', () => {
    expect(describePacing({ provider: 'other', downBytesPerDay: 9 * 1024, upBytesPerDay: null, maxConnections: null })).toBe('downloads 9.0 KB per 24 h, uploads no limit, no connection cap');
    expect(formatBytes(9 * 1024 + 100)).toBe('9.1 KB');
    expect(formatBytes(100)).toBe('100 bytes'); // a few bytes never read as "0 KB"
  });
});
