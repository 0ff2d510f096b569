/**
 * Issue 14 part 2 for Restore: the destination's daily upload budget and Gmail's own bandwidth
 * refusal. A restore into Gmail larger than the budget pauses (Retrying, PROVIDER_LIMIT_PAUSED,
 * never Failed or Connection Error), resumes day after day (simulated clock) and ends Completed with
 * every message once and its labels; an [OVERQUOTA] on APPEND stops the traffic at the first refusal;
 * a server advertising X-GM-EXT-1 under another host name gets Gmail's defaults.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../relay/jobs/backup/run-backup.ts';
import { runRestore } from '../../relay/jobs/restore/run-restore.ts';
import type { RestoreOptions, RestoreResult } from '../../relay/jobs/restore/restore-types.ts';
import { hostPacing, jobPacing, TransferBudget, type Pacing } from '../../relay/state/transfer-budget.ts';
import { PROVIDER_LIMITS, RELAY_LIMITS } from '../../lib/limits.ts';
import { pacedForecast, pauseCondition } from '../../lib/status/pause-condition.ts';
import type { PauseInfo } from '../../lib/protocol/job-outcome.ts';
import { JobManager } from '../../relay/server/job-manager.ts';
import { restoreRunner } from '../../relay/jobs/restore/restore-runner.ts';
import { openStateDb } from '../../relay/state/state-db.ts';
import type { ImapAccount, JobEvent } from '../../lib/protocol/common.ts';
import { startFakeGmail, type FakeGmail, type GmailMessage } from '../support/fake-gmail.ts';
import { gmailMailbox } from '../support/gmail-mailbox.ts';
import { sha256 } from '../support/mailbox-state.ts';

const dirs: string[] = [];
const servers: FakeGmail[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-restore-pacing-'));
  dirs.push(d);
  return d;
}
async function gmailServer(opts: Parameters<typeof startFakeGmail>[0] = {}): Promise<FakeGmail> {
  const g = await startFakeGmail({ password: 'pw', ...opts });
  servers.push(g);
  return g;
}
const account = (g: FakeGmail) => ({ host: '127.0.0.1', port: g.port, security: 'none' as const, user: 'me@gmail.com', password: 'pw' });
const timeouts = { connectMs: 5000, greetingMs: 5000, socketMs: 20_000 };

/** Each message by content with its labels, flags and place: what a user sees in Gmail. */
function byContent(g: FakeGmail): Map<string, { labels: string[]; flags: string[]; place: string }[]> {
  const out = new Map<string, { labels: string[]; flags: string[]; place: string }[]>();
  for (const m of g.messages) {
    const h = sha256(m.raw);
    out.set(h, [...(out.get(h) ?? []), summary(g, m)].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
  }
  return out;
}
function summary(g: FakeGmail, m: GmailMessage) {
  return { labels: g.labelsOf(m), flags: [...m.flags].sort(), place: m.spam ? 'spam' : m.trash ? 'trash' : 'mail' };
}

let source: FakeGmail;
let archive: string;
let distinct: number;
let distinctBytes: number;
beforeAll(async () => {
  const box = gmailMailbox({ inAllMail: 60, memberships: 150, spam: 2, trash: 2, seed: 1402 });
  distinct = box.seeds.length;
  distinctBytes = box.seeds.reduce((a, s) => a + s.raw.length, 0);
  source = await gmailServer({ messages: box.seeds });
  archive = tmp();
  const r = await runBackup({ archiveDir: archive, account: account(source), timeouts, retry: { maxAttempts: 1, baseDelayMs: 10 } });
  expect(r.status).toBe('completed');
}, 120_000);
afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('a restore into Gmail larger than the daily upload budget', () => {
  it('pauses when the budget is spent (Retrying, PROVIDER_LIMIT_PAUSED, upload limit), resumes at each refill, ends Completed with every message once and its labels; never Failed or Connection Error', async () => {
    // Gmail's own lock sits just above the relay's budget, as 500 MB does above 450 MB: the relay stops first.
    const daily = Math.floor(distinctBytes / 3.5);
    const dest = await gmailServer({ limits: { uploadBytes: Math.ceil(daily * 1.1) } });
    const state = new Database(path.join(tmp(), 'state.sqlite'));
    let now = Date.UTC(2026, 0, 5, 9, 0, 0);
    const budget = new TransferBudget(state, () => now);
    const pacing: Pacing = { provider: 'gmail', downBytesPerDay: null, upBytesPerDay: daily, maxConnections: 2 };
    const records = tmp();
    const statuses: string[] = [];
    const results: RestoreResult[] = [];
    for (let run = 1; ; run++) {
      expect(run, 'the restore ends').toBeLessThan(10);
      const opts: RestoreOptions = { archiveDir: archive, target: account(dest), timeouts, retry: { maxAttempts: 1, baseDelayMs: 10 }, appendRecordsDir: records, pacing: jobPacing(budget, 'dest', pacing, 'up', () => now) };
      const r = await runRestore(opts, { onStatus: (s) => statuses.push(s) });
      results.push(r);
      now += 5 * 60_000;
      if (r.status === 'completed') break;
      expect(r.status, r.message ?? '').toBe('retrying');
      expect(r.errorCode).toBe('PROVIDER_LIMIT_PAUSED');
      expect(r.pause).toMatchObject({ reason: 'budget', provider: 'gmail', direction: 'up' });
      expect(pauseCondition(r.pause!, 'UTC', now)).toMatch(/^Gmail's daily upload limit reached; resumes /);
      const resumeAt = Date.parse(r.pause!.resumeAt);
      expect(resumeAt).toBeGreaterThan(now);
      now = resumeAt;
      dest.resetDay(); // Gmail's own day turned too
    }
    expect(results.length).toBeGreaterThanOrEqual(4);
    expect(statuses).not.toContain('connection_error');
    expect(statuses).not.toContain('failed');
    // Gmail never had to refuse: the relay stopped first.
    expect(dest.limits.refusedAppends ?? 0).toBe(0);
    expect(dest.counters.appends).toBe(distinct);
    expect(dest.messages).toHaveLength(distinct);
    expect(byContent(dest)).toEqual(byContent(source));
    state.close();
  }, 300_000);

  it("Gmail's NO [OVERQUOTA] on an APPEND stops the traffic at the first refusal: no APPEND after the ones already in flight, no new session, Retrying until the bandwidth pause is over; the next day's run completes", async () => {
    const dest = await gmailServer({ limits: { uploadBytes: Math.floor(distinctBytes / 3) } });
    const records = tmp();
    const now = Date.UTC(2026, 0, 5, 9, 0, 0);
    const statuses: string[] = [];
    const r = await runRestore({ archiveDir: archive, target: account(dest), timeouts, retry: { maxAttempts: 3, baseDelayMs: 10 }, appendRecordsDir: records, pacing: jobPacing(new TransferBudget(new Database(':memory:'), () => now), 'dest', { provider: 'gmail', downBytesPerDay: null, upBytesPerDay: null, maxConnections: 2 }, 'up', () => now) }, { onStatus: (s) => statuses.push(s) });
    expect(r.status, r.message ?? '').toBe('retrying');
    expect(r.errorCode).toBe('PROVIDER_LIMIT_PAUSED');
    expect(r.pause).toMatchObject({ reason: 'bandwidth', provider: 'gmail', direction: 'up' });
    expect(Date.parse(r.pause!.resumeAt) - now).toBe(PROVIDER_LIMITS.bandwidthPauseMs);
    expect(statuses).not.toContain('connection_error');
    expect(statuses).not.toContain('partially_complete');
    // One session; after the first refusal nothing more was sent but the APPENDs already on the wire.
    expect(dest.counters.logins).toBe(1);
    const appends = dest.commands.filter((c) => / APPEND /i.test(c));
    const firstRefused = dest.counters.appends; // accepted ones come first, in order
    expect(appends.length - firstRefused).toBe(dest.limits.refusedAppends);
    expect(dest.limits.refusedAppends).toBeGreaterThanOrEqual(1);
    // At most the APPENDs pipelined before the refusal arrived (the window), not one per remaining message.
    expect(dest.limits.refusedAppends).toBeLessThanOrEqual(RELAY_LIMITS.appendPipelineMessages);
    expect(appends.length).toBeLessThan(distinct);
    expect(r.restored).toBe(dest.counters.appends);

    dest.resetDay();
    dest.limits.uploadBytes = distinctBytes * 2;
    const again = await runRestore({ archiveDir: archive, target: account(dest), timeouts, retry: { maxAttempts: 1, baseDelayMs: 10 }, appendRecordsDir: records });
    expect(again.status, again.message ?? '').toBe('completed');
    expect(dest.messages).toHaveLength(distinct);
    expect(byContent(dest)).toEqual(byContent(source));
  }, 300_000);
});

describe('Gmail is known by its capability, not only by its host name', () => {
  it('a server advertising X-GM-EXT-1 at a host that is not gmail.com gets Gmail\'s upload budget for this restore, recorded for the account\'s next jobs', async () => {
    const dest = await gmailServer();
    const state = new Database(path.join(tmp(), 'state.sqlite'));
    const now = Date.UTC(2026, 0, 5, 9, 0, 0);
    const budget = new TransferBudget(state, () => now);
    const before = budget.pacing('acct-x', 'imap.example-proxy.net');
    expect(before).toMatchObject({ provider: 'other', upBytesPerDay: null, downBytesPerDay: null });
    const pacing = jobPacing(budget, 'acct-x', before, 'up', () => now, 'imap.example-proxy.net');
    const r = await runRestore({ archiveDir: archive, target: account(dest), timeouts, retry: { maxAttempts: 1, baseDelayMs: 10 }, appendRecordsDir: tmp(), pacing });
    expect(r.status, r.message ?? '').toBe('completed');
    expect(pacing).toMatchObject({ provider: 'gmail', dailyBytes: PROVIDER_LIMITS.gmailUploadBytesPerDay, limitName: "Gmail's daily upload limit" });
    // What was appended is counted against it.
    expect(budget.used('acct-x', 'up')).toBe(r.bytes);
    expect(budget.pacing('acct-x', 'imap.example-proxy.net')).toEqual({
      provider: 'gmail',
      downBytesPerDay: PROVIDER_LIMITS.gmailDownloadBytesPerDay,
      upBytesPerDay: PROVIDER_LIMITS.gmailUploadBytesPerDay,
      maxConnections: PROVIDER_LIMITS.gmailMaxConnections,
    });
    state.close();
  }, 120_000);
});

describe('Gmail is known by its capability in a backup too', () => {
  it("a backup of a server advertising X-GM-EXT-1 at 127.0.0.1 runs under Gmail's download budget, and the account keeps Gmail's defaults", async () => {
    const state = new Database(':memory:');
    const now = Date.UTC(2026, 0, 5, 9, 0, 0);
    const budget = new TransferBudget(state, () => now);
    const pacing = jobPacing(budget, 'acct-b', budget.pacing('acct-b', '127.0.0.1'), 'down', () => now, '127.0.0.1');
    expect(pacing.provider).toBe('other');
    const r = await runBackup({ archiveDir: tmp(), account: account(source), timeouts, retry: { maxAttempts: 1, baseDelayMs: 10 }, pacing });
    expect(r.status, r.message ?? '').toBe('completed');
    expect(pacing).toMatchObject({ provider: 'gmail', dailyBytes: PROVIDER_LIMITS.gmailDownloadBytesPerDay, limitName: "Gmail's daily download limit" });
    expect(budget.used('acct-b', 'down')).toBeGreaterThanOrEqual(distinctBytes);
    expect(budget.pacing('acct-b', '127.0.0.1').provider).toBe('gmail');
    state.close();
  }, 120_000);
});

describe('a destination given only by host (mailkeep restore --host: no stored account)', () => {
  it("gets its provider's defaults by host name: Gmail's upload budget and connection cap for imap.gmail.com, none for another host until it shows X-GM-EXT-1", () => {
    const g = hostPacing('imap.gmail.com', 'up');
    expect(g.job).toMatchObject({ provider: 'gmail', dailyBytes: PROVIDER_LIMITS.gmailUploadBytesPerDay, maxConnections: PROVIDER_LIMITS.gmailMaxConnections, limitName: "Gmail's daily upload limit" });
    g.job.took(PROVIDER_LIMITS.gmailUploadBytesPerDay);
    expect(g.job.spent()).toBe(true);
    g.close();
    const other = hostPacing('mail.example.org', 'up');
    expect(other.job).toMatchObject({ provider: 'other', dailyBytes: null, maxConnections: null });
    other.job.sawCapabilities?.(new Map([['IMAP4rev1', true]]));
    expect(other.job.provider).toBe('other');
    other.job.sawCapabilities?.(new Map([['IMAP4rev1', true], ['X-GM-EXT-1', true]]));
    expect(other.job).toMatchObject({ provider: 'gmail', dailyBytes: PROVIDER_LIMITS.gmailUploadBytesPerDay, maxConnections: PROVIDER_LIMITS.gmailMaxConnections });
    other.close();
  });
});

describe('through the relay\'s job manager', () => {
  it('a restore job over the account\'s upload budget ends each day as Retrying (PROVIDER_LIMIT_PAUSED, the pause in its outcome) with its automatic retry at the resume time, and its retries complete it; never Failed or Connection Error', async () => {
    const dest = await gmailServer();
    const dataDir = tmp();
    fs.cpSync(archive, path.join(dataDir, 'archives', 'acct'), { recursive: true });
    const acct: ImapAccount = { id: 'acct', host: '127.0.0.1', port: dest.port, security: 'none', user: 'me@gmail.com' };
    let now = Date.UTC(2026, 0, 5, 9, 0, 0);
    const m = new JobManager({ dataDir, runners: { restore: restoreRunner }, accounts: { get: (id) => (id === 'acct' ? { account: acct, password: 'pw' } : undefined) }, now: () => new Date(now) });
    const events: JobEvent[] = [];
    m.subscribe((e) => events.push(e));
    // The account's own budget (mailkeep account pacing --daily-upload); its host says nothing of Gmail.
    const db = openStateDb(dataDir);
    new TransferBudget(db, () => now).setPacing('acct', { upBytesPerDay: Math.floor(distinctBytes / 2.5) });
    db.close();
    const { job } = m.start({ kind: 'restore', accountId: 'acct', idempotencyKey: 'restore-paced', params: {} });
    for (let run = 1; ; run++) {
      expect(run, 'the restore ends').toBeLessThan(10);
      const done = await settledJob(m, job.id);
      if (done.status === 'completed') break;
      expect(done).toMatchObject({ status: 'retrying', errorCode: 'PROVIDER_LIMIT_PAUSED', outcome: { pause: { reason: 'budget', provider: 'gmail', direction: 'up' } } });
      const resumeAt = (done.outcome as { pause: { resumeAt: string } }).pause.resumeAt;
      // Not the fixed retry delay: the budget's refill.
      expect(done.retryAt).toBe(resumeAt);
      // What the popup's forecast reads: this run's bytes of its total under the day's budget.
      expect(done.progress).toMatchObject({ bytesTotal: expect.any(Number), dailyBudgetBytes: Math.floor(distinctBytes / 2.5), budgetName: "Gmail's daily upload limit" });
      expect(pacedForecast(done.progress, (done.outcome as { pause: PauseInfo }).pause, now)?.text).toMatch(/^about .* at Gmail's daily limit/);
      expect(Date.parse(resumeAt)).toBeGreaterThan(now);
      now = Date.parse(resumeAt);
      m.retry(job.id); // what relay/state/job-retries.ts does when retryAt comes
    }
    const statuses = events.flatMap((e) => (e.event === 'status' ? [e.status] : []));
    expect(statuses.filter((s) => s === 'retrying').length).toBeGreaterThanOrEqual(2);
    expect(statuses).not.toContain('connection_error');
    expect(statuses).not.toContain('failed');
    expect(dest.counters.appends).toBe(distinct);
    expect(byContent(dest)).toEqual(byContent(source));
    await m.stop();
  }, 300_000);
});

async function settledJob(m: JobManager, jobId: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = m.get(jobId);
    if (job.phase === 'finished' || job.phase === 'interrupted') return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.phase}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
