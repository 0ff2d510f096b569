/**
 * Issue 14 part 2 for Migrate: Gmail -> Gmail over the source's daily download budget pauses
 * (Retrying, PROVIDER_LIMIT_PAUSED, the source's download limit), resumes day after day on a
 * simulated clock and ends Completed with every message once and its labels; Gmail's own
 * [OVERQUOTA] on a source FETCH pauses too and never marks a message as gone from the source.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runMigrate } from '../../relay/jobs/migrate/run-migrate.ts';
import type { MigrateResult } from '../../relay/jobs/migrate/migrate-types.ts';
import { jobPacing, TransferBudget, type Pacing } from '../../relay/state/transfer-budget.ts';
import { PROVIDER_LIMITS } from '../../lib/limits.ts';
import { pauseCondition } from '../../lib/status/pause-condition.ts';
import { startFakeGmail, type FakeGmail } from '../support/fake-gmail.ts';
import { gmailMailbox } from '../support/gmail-mailbox.ts';
import { sha256 } from '../support/mailbox-state.ts';

const servers: FakeGmail[] = [];
const dirs: string[] = [];
const box = gmailMailbox({ inAllMail: 60, memberships: 150, spam: 2, trash: 2, seed: 1403 });
const distinctBytes = box.seeds.reduce((a, s) => a + s.raw.length, 0);
const account = (g: FakeGmail) => ({ host: '127.0.0.1', port: g.port, security: 'none' as const, user: 'me@gmail.com', password: 'pw' });
const timeouts = { connectMs: 5000, greetingMs: 5000, socketMs: 20_000 };
async function gmail(opts: Parameters<typeof startFakeGmail>[0] = {}): Promise<FakeGmail> {
  const g = await startFakeGmail({ password: 'pw', ...opts });
  servers.push(g);
  return g;
}
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-migrate-pacing-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function byContent(g: FakeGmail): string[] {
  return g.messages.map((m) => `${sha256(m.raw)} ${m.spam ? 'spam' : m.trash ? 'trash' : 'mail'} ${g.labelsOf(m).join(',')} ${[...m.flags].sort().join(',')}`).sort();
}

describe('a migrate Gmail -> Gmail larger than the source\'s daily download budget', () => {
  it("pauses when the source's budget is spent (Retrying, PROVIDER_LIMIT_PAUSED, download limit), resumes at each refill, ends Completed with every message once and its labels; never Failed or Connection Error", async () => {
    const daily = Math.floor(distinctBytes / 3.5);
    // Gmail's own lock sits above the relay's budget (2,500 MB against 2,400 MB): the relay stops first.
    const source = await gmail({ messages: box.seeds, limits: { downloadBytes: Math.ceil(daily * 1.3) } });
    const dest = await gmail();
    const state = new Database(path.join(tmp(), 'state.sqlite'));
    let now = Date.UTC(2026, 0, 5, 9, 0, 0);
    const budget = new TransferBudget(state, () => now);
    const gmailPacing: Pacing = { provider: 'gmail', downBytesPerDay: daily, upBytesPerDay: null, maxConnections: 2 };
    const records = tmp();
    const statuses: string[] = [];
    const results: MigrateResult[] = [];
    for (let run = 1; ; run++) {
      expect(run, 'the migrate ends').toBeLessThan(10);
      const r = await runMigrate(
        {
          source: { ...account(source), maxConnections: 2 },
          destination: { ...account(dest), maxConnections: 2 },
          timeouts,
          retry: { maxAttempts: 1, baseDelayMs: 10 },
          appendRecordsDir: records,
          sourcePacing: jobPacing(budget, 'src', gmailPacing, 'down', () => now),
          destinationPacing: jobPacing(budget, 'dst', { ...gmailPacing, downBytesPerDay: null, upBytesPerDay: distinctBytes * 10 }, 'up', () => now),
        },
        { onStatus: (s) => statuses.push(s) },
      );
      results.push(r);
      now += 5 * 60_000;
      if (r.status === 'completed') break;
      expect(r.status, r.message ?? '').toBe('retrying');
      expect(r.errorCode).toBe('PROVIDER_LIMIT_PAUSED');
      expect(r.side).toBe('source');
      expect(r.pause).toMatchObject({ reason: 'budget', provider: 'gmail', direction: 'down' });
      expect(pauseCondition(r.pause!, 'UTC', now)).toMatch(/^Gmail's daily download limit reached; resumes /);
      const resumeAt = Date.parse(r.pause!.resumeAt);
      expect(resumeAt).toBeGreaterThan(now);
      now = resumeAt;
      source.resetDay();
    }
    expect(results.length).toBeGreaterThanOrEqual(4);
    expect(statuses).not.toContain('connection_error');
    expect(statuses).not.toContain('failed');
    expect(source.limits.refusedFetches ?? 0).toBe(0);
    expect(results.flatMap((r) => r.skipped)).toEqual([]);
    expect(dest.counters.appends).toBe(box.seeds.length);
    expect(byContent(dest)).toEqual(byContent(source));
    // Every message crossed once: the bytes of all runs are the distinct content's.
    expect(results.reduce((a, r) => a + r.bytes, 0)).toBe(distinctBytes);
    state.close();
  }, 300_000);

  it("Gmail's NO [OVERQUOTA] on a source FETCH pauses the migrate (source side, bandwidth), marks no message as gone, and the next day's run completes", async () => {
    const source = await gmail({ messages: box.seeds, limits: { downloadBytes: Math.floor(distinctBytes / 3) } });
    const dest = await gmail();
    const records = tmp();
    const now = Date.UTC(2026, 0, 5, 9, 0, 0);
    const pacing = jobPacing(new TransferBudget(new Database(':memory:'), () => now), 'src', { provider: 'gmail', downBytesPerDay: null, upBytesPerDay: null, maxConnections: 2 }, 'down', () => now);
    const statuses: string[] = [];
    const r = await runMigrate({ source: account(source), destination: account(dest), timeouts, retry: { maxAttempts: 3, baseDelayMs: 10 }, appendRecordsDir: records, sourcePacing: pacing }, { onStatus: (s) => statuses.push(s) });
    expect(r.status, r.message ?? '').toBe('retrying');
    expect(r.errorCode).toBe('PROVIDER_LIMIT_PAUSED');
    expect(r.side).toBe('source');
    expect(r.pause).toMatchObject({ reason: 'bandwidth', provider: 'gmail', direction: 'down' });
    expect(Date.parse(r.pause!.resumeAt) - now).toBe(PROVIDER_LIMITS.bandwidthPauseMs);
    expect(r.skipped).toEqual([]);
    expect(statuses).not.toContain('connection_error');
    // The refusal ended the traffic: no body FETCH went out after it on that session.
    expect(source.limits.refusedFetches).toBeLessThanOrEqual(2);

    source.resetDay();
    source.limits.downloadBytes = distinctBytes * 2;
    const again = await runMigrate({ source: account(source), destination: account(dest), timeouts, retry: { maxAttempts: 1, baseDelayMs: 10 }, appendRecordsDir: records });
    expect(again.status, again.message ?? '').toBe('completed');
    expect(dest.counters.appends).toBe(box.seeds.length);
    expect(byContent(dest)).toEqual(byContent(source));
  }, 300_000);
});
