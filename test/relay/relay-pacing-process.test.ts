import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { RelayProcess, tempDataDir } from './relay-harness.ts';
import { runCli } from '../support/run-cli.ts';

// Issue 14 part 2 and 3 through the real relay process, the real CLI and a real Dovecot: a first
// backup larger than the account's daily budget pauses (Retrying, PROVIDER_LIMIT_PAUSED), resumes
// by itself each simulated day when the budget refills (the documented clock hook, docs/cli.md),
// completes, never shows Connection Error, and completes when `mailkeep status` forecast it would.

const USER = { name: 'paula', password: 'paula-Pace-pw-9031' };
const RAWS = generatedMessages(40, 1414);
const TOTAL = RAWS.reduce((a, r) => a + r.length, 0);
const DAILY = Math.floor(TOTAL / 3.4);

interface Account {
  statusId: string | null;
  errorCode: string | null;
  retryAt: string | null;
  lastSuccessAt: string | null;
  messages: number;
  pacing: { lines: string[]; resumeAt: string | null; forecastDoneAt: string | null };
}

describe.skipIf(!dovecotAvailable() && !process.env.CI)('a backup larger than the daily budget, through the real relay', () => {
  let dc: Dovecot;
  let dataDir: string;
  let clockFile: string;
  let relay: RelayProcess | undefined;
  let offsetMs = 0;
  let env: Record<string, string> = {};
  const D = (): string[] => ['--data-dir', dataDir];
  const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...env, ...extra }, { deadlineMs: 60_000 });
  const setClock = (offset: number): void => {
    offsetMs = offset;
    fs.writeFileSync(clockFile, JSON.stringify({ offsetMs, jitterMaxMs: 0 }));
  };
  const relayNow = (): number => Date.now() + offsetMs;
  const seen: string[] = [];

  async function account(): Promise<Account> {
    const r = await cli(['status', '--json', ...D()]);
    expect(r.stderr).toBe('');
    const a = (JSON.parse(r.stdout) as { accounts: Account[] }).accounts[0]!;
    seen.push(`${a.statusId}/${a.errorCode}`);
    return a;
  }
  async function until(ok: (a: Account) => boolean, timeoutMs = 60_000): Promise<Account> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const a = await account();
      if (ok(a)) return a;
      if (Date.now() > deadline) throw new Error(`never got there: ${JSON.stringify(a)}; relay said: ${relay?.stdout.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  beforeAll(async () => {
    dc = await startDovecot({ users: [USER] });
    const imap = await dc.client(USER.name, USER.password);
    for (const raw of RAWS) await imap.append('INBOX', raw, []);
    await imap.logout();
    dataDir = tempDataDir();
    clockFile = `${dataDir}-clock.json`;
    env = { MAILKEEP_TEST_CLOCK_FILE: clockFile };
    setClock(0);
    relay = await RelayProcess.start(dataDir, 20_000, env);
  });

  afterAll(async () => {
    await relay?.stop();
    await dc?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(clockFile, { force: true });
  });

  it('pauses each day the budget is spent, says why and when it resumes, resumes by itself, completes within 10 % of the forecast, never Connection Error', async () => {
    const add = await cli(['account', 'add', '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', USER.name, '--id', 'paula', ...D()], { MAILKEEP_PASSWORD: USER.password });
    expect(add.code, add.stderr).toBe(0);
    const pace = await cli(['account', 'pacing', 'paula', '--daily-download', String(DAILY), ...D()]);
    expect(pace.code, pace.stderr).toBe(0);
    expect(pace.stdout).toContain('per 24 h');

    const started = relayNow();
    setClock(3 * 60_000); // the first backup of a new account is due a minute after it was added
    const first = await until((a) => a.statusId === 'retrying' && a.errorCode === 'PROVIDER_LIMIT_PAUSED' && a.retryAt !== null);
    expect(first.messages).toBeGreaterThan(0);
    expect(first.messages).toBeLessThan(40);
    expect(first.pacing.lines[0]).toMatch(/^paused: The mail server's daily download limit reached; resumes (\w+ )?at \d\d:\d\d$/);
    expect(first.pacing.forecastDoneAt).not.toBeNull();
    const forecast = Date.parse(first.pacing.forecastDoneAt!);
    expect(Date.parse(first.retryAt!) - relayNow()).toBeGreaterThan(20 * 3_600_000); // when the budget refills, not a fixed retry delay
    const text = await cli(['status', ...D()]);
    expect(text.stdout).toMatch(/Retrying \(PROVIDER_LIMIT_PAUSED\)/);
    expect(text.stdout).toMatch(/forecast: about \d+ days? at the mail server's daily limit; [\d.]+ KB of [\d.]+ KB so far/);

    let last = first;
    let days = 0;
    while (last.statusId !== 'completed') {
      expect(++days, 'the backup ends').toBeLessThan(8);
      const resume = Date.parse(last.retryAt!);
      setClock(resume + 60_000 - Date.now()); // the next day, just after the budget refilled
      const before = last.retryAt;
      last = await until((a) => a.statusId === 'completed' || (a.statusId === 'retrying' && a.retryAt !== null && a.retryAt !== before));
    }
    expect(last.messages).toBe(40);
    expect(days).toBeGreaterThanOrEqual(3);
    const actual = Date.parse(last.lastSuccessAt!) - started;
    console.info(`[relay-pacing] forecast ${((forecast - started) / 3_600_000).toFixed(1)} h, completed after ${(actual / 3_600_000).toFixed(1)} h over ${days} simulated days: off by ${((100 * Math.abs(forecast - started - actual)) / actual).toFixed(1)} %`);
    expect(Math.abs(forecast - started - actual) / actual).toBeLessThanOrEqual(0.1);
    expect(seen.some((s) => s.startsWith('connection_error'))).toBe(false);
    expect(relay!.stdout + relay!.stderr).not.toContain(USER.password);
  });
});
