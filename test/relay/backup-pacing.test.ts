/**
 * Issue 14 part 2 and 3: a backup larger than the provider's daily limit. Against the fake server's
 * Gmail byte budget, the first [OVERQUOTA] stops all traffic (no per-message FETCH after it) and
 * pauses; under the relay's own budget (relay/state/transfer-budget.ts, simulated clock) the backup
 * pauses day after day and completes, never as Connection Error, when the forecast said it would.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import type { BackupProgress } from '../../relay/jobs/backup/types.ts';
import { jobPacing, TransferBudget, type Pacing } from '../../relay/state/transfer-budget.ts';
import { budgetForecast } from '../../lib/ui/progress-view.ts';
import { generatedMessages } from '../support/corpus.ts';
import { startFakeImap, type FakeImap, type FakeMessage } from '../support/fake-imap.ts';
import { archiveState } from '../support/mailbox-state.ts';
import { PROVIDER_LIMITS } from '../../lib/limits.ts';

const raws = generatedMessages(60, 1414);
const folders = (): Record<string, FakeMessage[]> => ({
  INBOX: raws.slice(0, 40).map((raw, i) => ({ uid: i + 1, raw })),
  Archive: raws.slice(40).map((raw, i) => ({ uid: i + 1, raw })),
});
const totalBytes = raws.reduce((a, r) => a + r.length, 0);

let fake: FakeImap | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-pacing-'));
  dirs.push(d);
  return d;
};
const storedCount = (dir: string): number => [...archiveState(dir).values()].reduce((a, ms) => a + ms.length, 0);
const account = () => ({ host: '127.0.0.1', port: fake!.port, security: 'none' as const, user: 'u', password: 'pw' });
const timeouts = { connectMs: 3000, greetingMs: 3000, socketMs: 5000 };

describe('a bandwidth refusal from the server stops the traffic at once', () => {
  it('the first NO [OVERQUOTA] on a body FETCH ends the session: no FETCH after it, nothing stored is lost, Retrying (PROVIDER_LIMIT_PAUSED), not MESSAGE_UNREADABLE or Connection Error', async () => {
    const limits = { downloadBudgetBytes: Math.floor(totalBytes / 3) };
    fake = await startFakeImap({ folders: folders(), faults: { providerLimits: limits }, password: 'pw' });
    const dir = tmp();
    const statuses: string[] = [];
    const r = await runBackup({ archiveDir: dir, account: account(), timeouts, retry: { maxAttempts: 3, baseDelayMs: 10 } }, { onStatus: (s) => statuses.push(s) });
    expect(r.status, r.message ?? '').toBe('retrying');
    expect(r.errorCode).toBe('PROVIDER_LIMIT_PAUSED');
    expect(r.pause?.reason).toBe('bandwidth');
    expect(r.skipped).toEqual([]);
    expect(statuses).not.toContain('connection_error');
    // One refused FETCH, then silence: not one FETCH per message (3,099 before this fix).
    expect(limits).toMatchObject({ refusals: 1 });
    const refusedAt = fake.commands.findIndex((c, i) => / UID FETCH /.test(c) && i === fake!.commands.length - 1);
    expect(refusedAt).toBe(fake.commands.length - 1);
    const kept = storedCount(dir);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(60);

    // The next day (the fake's budget refilled): the same archive resumes and completes, nothing twice.
    (limits as { downloaded?: number }).downloaded = 0;
    (limits as { downloadBudgetBytes?: number }).downloadBudgetBytes = totalBytes * 2;
    const again = await runBackup({ archiveDir: dir, account: account(), timeouts });
    expect(again.status, again.message ?? '').toBe('completed');
    expect(storedCount(dir)).toBe(60);
  });

  it('a LOGIN refused with NO [ALERT] Account exceeded command or bandwidth limits pauses the backup, never Authentication Error', async () => {
    const limits = { downloadBudgetBytes: 0, loginRefusedWhenSpent: true };
    fake = await startFakeImap({ folders: folders(), faults: { providerLimits: limits }, password: 'pw' });
    const r = await runBackup({ archiveDir: tmp(), account: account(), timeouts, retry: { maxAttempts: 3, baseDelayMs: 10 } });
    expect(r.status).toBe('retrying');
    expect(r.errorCode).toBe('PROVIDER_LIMIT_PAUSED');
    expect(r.pause?.reason).toBe('bandwidth');
    expect(fake.commands.filter((c) => / LOGIN /.test(c))).toHaveLength(1);
  });

  it("Microsoft's Suggested Backoff Time is the pause: resumes 299961 ms later, not after a fixed delay", async () => {
    fake = await startFakeImap({
      folders: folders(),
      faults: { providerLimits: { refuse: { BODYFETCH: { status: 'BAD Request is throttled. Suggested Backoff Time: 299961 milliseconds', bye: '* BYE Connection is closed. 14' } } } },
      password: 'pw',
    });
    const before = Date.now();
    const r = await runBackup({ archiveDir: tmp(), account: account(), timeouts });
    expect(r.status).toBe('retrying');
    expect(r.pause?.reason).toBe('throttled');
    const wait = Date.parse(r.pause!.resumeAt) - before;
    expect(wait).toBeGreaterThanOrEqual(299_961 - 1000);
    expect(wait).toBeLessThan(299_961 + 60_000);
    expect(fake.commands.filter((c) => / UID FETCH .*BODY\.PEEK\[\]/i.test(c))).toHaveLength(1);
  });
});

describe('a server\'s own wait is believed up to a day', () => {
  for (const n of ['99999999999', '9'.repeat(40)])
    it(`a Suggested Backoff Time of ${n.length} digits pauses the backup until a day later at most (never years away, never a crash)`, async () => {
      fake = await startFakeImap({
        folders: folders(),
        faults: { providerLimits: { refuse: { BODYFETCH: { status: `BAD Request is throttled. Suggested Backoff Time: ${n} milliseconds`, bye: '* BYE Connection is closed. 14' } } } },
        password: 'pw',
      });
      const before = Date.now();
      const r = await runBackup({ archiveDir: tmp(), account: account(), timeouts });
      expect(r.status, r.message ?? '').toBe('retrying');
      expect(r.pause?.reason).toBe('throttled');
      const wait = Date.parse(r.pause!.resumeAt) - before;
      expect(wait).toBeGreaterThanOrEqual(PROVIDER_LIMITS.serverWaitMaxMs - 1000);
      expect(wait).toBeLessThan(PROVIDER_LIMITS.serverWaitMaxMs + 60_000);
    });
});

describe('a session the server ends is not a fault', () => {
  for (const bye of ['* BYE Session expired, please login again.', '* BYE System Error']) {
    it(`"${bye}" mid-backup: a short pause (Retrying with PROVIDER_LIMIT_PAUSED), a new login, then Completed; never Connection Error`, async () => {
      fake = await startFakeImap({ folders: folders(), faults: { providerLimits: { refuse: { BODYFETCH: { bye, times: 1 } } } }, password: 'pw' });
      const dir = tmp();
      const seen: string[] = [];
      const r = await runBackup({ archiveDir: dir, account: account(), timeouts, retry: { maxAttempts: 1 } }, { onStatus: (s, d) => seen.push(`${s}${d.errorCode ? `/${d.errorCode}` : ''}`) });
      expect(r.status, r.message ?? '').toBe('completed');
      expect(seen).toEqual(['preparing', 'running', 'retrying/PROVIDER_LIMIT_PAUSED', 'running', 'completed']);
      expect(storedCount(dir)).toBe(60);
      expect(fake.commands.filter((c) => / LOGIN /.test(c))).toHaveLength(2);
    });
  }
});

describe('the relay paces a backup larger than the daily budget over several days', () => {
  it('pauses when the budget is spent, resumes when it refills, completes on the day the forecast named (within 10 %), never Connection Error', async () => {
    fake = await startFakeImap({ folders: folders(), password: 'pw' });
    const dir = tmp();
    const state = new Database(path.join(tmp(), 'state.sqlite'));
    let now = Date.UTC(2026, 0, 5, 9, 0, 0);
    const budget = new TransferBudget(state, () => now);
    const daily = Math.floor(totalBytes / 3.4);
    const pacing: Pacing = { provider: 'gmail', downBytesPerDay: daily, upBytesPerDay: null, maxConnections: 2 };
    const started = now;
    let forecast: number | null = null;
    const statuses: string[] = [];
    let runs = 0;
    for (;;) {
      runs++;
      expect(runs, 'the backup ends').toBeLessThan(10);
      const p = jobPacing(budget, 'acct', pacing, 'down', () => now);
      const r = await runBackup(
        { archiveDir: dir, account: account(), timeouts, pacing: p },
        {
          onStatus: (s) => statuses.push(s),
          onProgress: (pr: BackupProgress) => {
            if (forecast === null && pr.bytesTotal) forecast = budgetForecast({ bytesDone: pr.bytes, bytesTotal: pr.bytesTotal, dailyBytes: daily, limitName: p.limitName }, now)!.doneAt;
          },
        },
      );
      // Each run takes simulated minutes; the waits between them take days.
      now += 5 * 60_000;
      if (r.status === 'completed') break;
      expect(r.status, r.message ?? '').toBe('retrying');
      expect(r.errorCode).toBe('PROVIDER_LIMIT_PAUSED');
      expect(r.pause?.reason).toBe('budget');
      const resumeAt = Date.parse(r.pause!.resumeAt);
      expect(resumeAt).toBeGreaterThan(now);
      now = resumeAt;
    }
    expect(statuses).not.toContain('connection_error');
    expect(storedCount(dir)).toBe(60);
    expect(runs).toBeGreaterThanOrEqual(4);
    expect(forecast).not.toBeNull();
    const actual = now - started;
    console.info(`[backup-pacing] forecast ${((forecast! - started) / 3_600_000).toFixed(1)} h, completed after ${(actual / 3_600_000).toFixed(1)} h (${runs} runs): off by ${((100 * Math.abs(forecast! - started - actual)) / actual).toFixed(1)} %`);
    expect(Math.abs(forecast! - started - actual) / actual).toBeLessThanOrEqual(0.1);
    state.close();
  });
});
