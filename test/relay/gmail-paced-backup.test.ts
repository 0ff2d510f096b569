/**
 * Issue 14: a Gmail first backup under the relay's daily budget (simulated clock), against the Gmail
 * fake. The server sends a FETCH's whole answer even after the run stopped reading at the budget,
 * so each body FETCH asks for a small share of the day's bytes: over all the paused runs the bytes
 * the server sent stay within 5 % of the distinct content, and the run's bytes total (for the bar
 * and the forecast) is the distinct content, not one copy per label folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import type { BackupProgress } from '../../relay/jobs/backup/types.ts';
import { jobPacing, TransferBudget, type Pacing } from '../../relay/state/transfer-budget.ts';
import { startFakeGmail, type FakeGmail } from '../support/fake-gmail.ts';
import { gmailMailbox, USER_LABELS } from '../support/gmail-mailbox.ts';

const MAILBOX = gmailMailbox({ inAllMail: 300, memberships: 750, spam: 5, trash: 5, seed: 1415 });

let fake: FakeGmail | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-gmail-paced-'));
  dirs.push(d);
  return d;
};

describe('a Gmail first backup paced over several days downloads each message once', () => {
  for (const days of [2.5, 6]) {
    it(`with a budget of 1/${days} of the mailbox: the server sends within 5 % of the distinct content in all, and the bytes total is that content`, async () => {
      fake = await startFakeGmail({ messages: MAILBOX.seeds, labels: USER_LABELS, password: 'pw' });
      const dir = tmp();
      const state = new Database(path.join(tmp(), 'state.sqlite'));
      let now = Date.UTC(2026, 0, 5, 9, 0, 0);
      const budget = new TransferBudget(state, () => now);
      const pacing: Pacing = { provider: 'gmail', downBytesPerDay: Math.floor(MAILBOX.distinctBytes / days), upBytesPerDay: null, maxConnections: 2 };
      const totals: number[] = [];
      const statuses: string[] = [];
      let runs = 0;
      for (;;) {
        expect(++runs, 'the backup ends').toBeLessThan(12);
        const p = jobPacing(budget, 'acct', pacing, 'down', () => now);
        const r = await runBackup(
          { archiveDir: dir, account: { host: '127.0.0.1', port: fake.port, security: 'none', user: 'gina@gmail.example', password: 'pw' }, timeouts: { connectMs: 3000, greetingMs: 3000, socketMs: 5000 }, pacing: p },
          { onStatus: (s) => statuses.push(s), onProgress: (pr: BackupProgress) => void (pr.bytesTotal && totals.push(pr.bytesTotal)) },
        );
        now += 5 * 60_000;
        if (r.status === 'completed') break;
        expect(r.errorCode, r.message ?? '').toBe('PROVIDER_LIMIT_PAUSED');
        now = Date.parse(r.pause!.resumeAt);
      }
      expect(runs).toBeGreaterThanOrEqual(Math.ceil(days));
      expect(statuses).not.toContain('connection_error');
      expect(totals[0]).toBe(MAILBOX.distinctBytes);
      const ratio = fake.counters.bodyBytesSent / MAILBOX.distinctBytes;
      console.log(`paced over ${runs} runs: body bytes sent / distinct content = ${ratio.toFixed(3)}`);
      expect(ratio).toBeGreaterThanOrEqual(1);
      expect(ratio).toBeLessThanOrEqual(1.05);
      state.close();
    }, 120_000);
  }
});
