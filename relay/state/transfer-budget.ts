import { PROVIDER_LIMITS } from '../../lib/limits.ts';
import type { ImapAccount } from '../../lib/protocol/common.ts';
import type { JobPacing } from '../jobs/pacing.ts';
import fs from 'node:fs';
import path from 'node:path';
import Database from '../archive/sqlite.ts';
import { openStateDb, STATE_FILE, type StateDb } from './state-db.ts';

export type Direction = 'down' | 'up';

/** A provider whose limits the relay knows (lib/limits.ts PROVIDER_LIMITS). */
export type Provider = 'gmail' | 'outlook' | 'other';

/** One account's pacing: bytes per rolling 24 h each way (null: no budget) and the connection cap. */
export interface Pacing {
  provider: Provider;
  downBytesPerDay: number | null;
  upBytesPerDay: number | null;
  maxConnections: number | null;
}

const GMAIL_HOST = /(^|\.)(gmail|googlemail)\.com$/i;
const OUTLOOK_HOST = /(^|\.)(outlook\.office365\.com|office365\.com|outlook\.com|hotmail\.com|live\.com)$/i;

/** The provider by the account's server name (Gmail mode also knows it by X-GM-EXT-1). */
export function providerOf(host: string): Provider {
  if (GMAIL_HOST.test(host)) return 'gmail';
  if (OUTLOOK_HOST.test(host)) return 'outlook';
  return 'other';
}

/** The provider's documented limits (lib/limits.ts, with reasons): Gmail's daily bytes, Outlook's connections only. */
export function defaultPacing(host: string): Pacing {
  return providerPacing(providerOf(host));
}

/** The defaults of a known provider (by host name, or by capability: X-GM-EXT-1 is Gmail). */
export function providerPacing(provider: Provider): Pacing {
  if (provider === 'gmail')
    return { provider, downBytesPerDay: PROVIDER_LIMITS.gmailDownloadBytesPerDay, upBytesPerDay: PROVIDER_LIMITS.gmailUploadBytesPerDay, maxConnections: PROVIDER_LIMITS.gmailMaxConnections };
  if (provider === 'outlook') return { provider, downBytesPerDay: null, upBytesPerDay: null, maxConnections: PROVIDER_LIMITS.outlookMaxConnections };
  return { provider, downBytesPerDay: null, upBytesPerDay: null, maxConnections: null };
}

/** Per-account overrides; a field left out keeps the provider's default, null turns that limit off. */
export type PacingOverride = Partial<Omit<Pacing, 'provider'>>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS transfer_tally (
  account_id TEXT NOT NULL,
  direction TEXT NOT NULL,          -- 'down' | 'up'
  bucket INTEGER NOT NULL,          -- ms: start of a PROVIDER_LIMITS.budgetBucketMs bucket
  bytes INTEGER NOT NULL,
  PRIMARY KEY (account_id, direction, bucket)
);
CREATE TABLE IF NOT EXISTS account_provider (
  account_id TEXT PRIMARY KEY,      -- or 'host:' || host for a destination that is no stored account
  provider TEXT NOT NULL            -- seen by capability (X-GM-EXT-1: 'gmail') after a first session
);
CREATE TABLE IF NOT EXISTS account_pacing (
  account_id TEXT PRIMARY KEY,
  override TEXT NOT NULL            -- PacingOverride JSON
);
`;

/**
 * Each account's bytes transferred per rolling 24 h, counted as they arrive and kept in
 * state.sqlite (a relay restart keeps the tally), and the budget they are measured against. The
 * clock is the relay's (injected in tests), so simulated days refill the budget.
 */
export class TransferBudget {
  constructor(
    private readonly db: StateDb,
    private readonly now: () => number,
  ) {
    db.exec(SCHEMA);
  }

  pacing(accountId: string, host: string): Pacing {
    const row = this.db.prepare<[string], { override: string }>('SELECT override FROM account_pacing WHERE account_id = ?').get(accountId);
    const seen = this.db.prepare<[string], { provider: Provider }>('SELECT provider FROM account_provider WHERE account_id = ?').get(accountId)?.provider;
    const base = providerPacing(seen ?? providerOf(host));
    if (!row) return base;
    try {
      return { ...base, ...(JSON.parse(row.override) as PacingOverride) };
    } catch {
      return base;
    }
  }

  /** The provider a session showed (X-GM-EXT-1: Gmail) although its host name did not say: its defaults apply from now on. */
  recordProvider(accountId: string, provider: Provider): void {
    this.db.prepare('INSERT INTO account_provider (account_id, provider) VALUES (?, ?) ON CONFLICT(account_id) DO UPDATE SET provider = excluded.provider').run(accountId, provider);
  }

  setPacing(accountId: string, override: PacingOverride): void {
    this.db.prepare('INSERT INTO account_pacing (account_id, override) VALUES (?, ?) ON CONFLICT(account_id) DO UPDATE SET override = excluded.override').run(accountId, JSON.stringify(override));
  }

  record(accountId: string, direction: Direction, bytes: number): void {
    if (bytes <= 0) return;
    const bucket = Math.floor(this.now() / PROVIDER_LIMITS.budgetBucketMs) * PROVIDER_LIMITS.budgetBucketMs;
    this.db
      .prepare('INSERT INTO transfer_tally (account_id, direction, bucket, bytes) VALUES (?, ?, ?, ?) ON CONFLICT(account_id, direction, bucket) DO UPDATE SET bytes = bytes + excluded.bytes')
      .run(accountId, direction, bucket, bytes);
  }

  /** Bytes in the rolling window ending now; older buckets are dropped on the way. */
  used(accountId: string, direction: Direction): number {
    const from = this.windowStart();
    this.db.prepare('DELETE FROM transfer_tally WHERE account_id = ? AND bucket < ?').run(accountId, from - PROVIDER_LIMITS.budgetBucketMs);
    return this.db.prepare<[string, string, number], { n: number | null }>('SELECT SUM(bytes) AS n FROM transfer_tally WHERE account_id = ? AND direction = ? AND bucket >= ?').get(accountId, direction, from)?.n ?? 0;
  }

  /**
   * When the window will hold at most `limit - need` bytes again (now if it already does): the
   * oldest buckets age out one by one. `need` defaults to one byte.
   */
  refillAt(accountId: string, direction: Direction, limit: number, need = 1): number {
    const from = this.windowStart();
    const rows = this.db
      .prepare<[string, string, number], { bucket: number; bytes: number }>('SELECT bucket, bytes FROM transfer_tally WHERE account_id = ? AND direction = ? AND bucket >= ? ORDER BY bucket')
      .all(accountId, direction, from);
    let used = rows.reduce((a, r) => a + r.bytes, 0);
    const target = Math.max(0, limit - Math.min(need, limit));
    if (used <= target) return this.now();
    for (const r of rows) {
      used -= r.bytes;
      // A bucket leaves the window once its end is a full window ago.
      // A bucket leaves the window (used() counts bucket >= now - window) just after its start is a full window ago.
      if (used <= target) return r.bucket + PROVIDER_LIMITS.budgetWindowMs + 1;
    }
    return this.now() + PROVIDER_LIMITS.budgetWindowMs;
  }

  private windowStart(): number {
    return this.now() - PROVIDER_LIMITS.budgetWindowMs;
  }
}

/** Pacing for one account from the stored overrides (`mailkeep account --daily-download ...`). */
export function pacingFor(budget: TransferBudget, account: ImapAccount): Pacing {
  return budget.pacing(account.id, account.host);
}

const PROVIDER_NAMES: Record<Provider, string> = { gmail: 'Gmail', outlook: 'Outlook', other: 'the mail server' };

/**
 * One job's view of its account's budget in one direction: bytes are tallied in memory as they
 * arrive and written to state.sqlite every RELAY flush step, so a restart loses at most that much.
 */
export function jobPacing(budget: TransferBudget, accountId: string, initial: Pacing, direction: Direction, now: () => number, host?: string): JobPacing {
  let pacing = initial;
  let limit = direction === 'down' ? pacing.downBytesPerDay : pacing.upBytesPerDay;
  let pending = 0;
  let used = limit === null ? 0 : budget.used(accountId, direction);
  const flush = (): void => {
    if (pending > 0) budget.record(accountId, direction, pending);
    pending = 0;
  };
  const name = (): string => `${PROVIDER_NAMES[pacing.provider]}'s daily ${direction === 'down' ? 'download' : 'upload'} limit`;
  const job: JobPacing = {
    provider: pacing.provider,
    direction,
    limitName: name(),
    dailyBytes: limit,
    maxConnections: pacing.maxConnections,
    now,
    sawCapabilities(caps) {
      // A Gmail server under another name (a Workspace alias, a proxy): Gmail's defaults, recorded
      // for the account's next jobs; the user's own overrides still win.
      if (pacing.provider !== 'other' || !caps.has('X-GM-EXT-1')) return;
      budget.recordProvider(accountId, 'gmail');
      pacing = host !== undefined ? budget.pacing(accountId, host) : { ...providerPacing('gmail') };
      limit = direction === 'down' ? pacing.downBytesPerDay : pacing.upBytesPerDay;
      if (limit !== null) used = budget.used(accountId, direction);
      Object.assign(job, { provider: pacing.provider, limitName: name(), dailyBytes: limit, maxConnections: pacing.maxConnections });
    },
    took(bytes) {
      pending += bytes;
      used += bytes;
      if (pending >= PROVIDER_LIMITS.budgetFlushBytes) flush();
    },
    spent: () => limit !== null && used >= limit,
    left: () => (limit === null ? Infinity : Math.max(0, limit - used)),
    refillAt(need = 1) {
      flush();
      used = budget.used(accountId, direction);
      return limit === null ? now() : budget.refillAt(accountId, direction, limit, need);
    },
    flush,
  };
  return job;
}


/**
 * A job's budget on its own connection to state.sqlite (WAL: the relay's connection goes on
 * meanwhile). Its traffic is counted even with no limit (a few writes per 4 MB), so `account
 * pacing` tells the truth about the last 24 h and a limit set later counts what was already used;
 * a session advertising X-GM-EXT-1 turns Gmail's defaults on (sawCapabilities). A state file that
 * does not exist or cannot be opened: null, and the job runs unpaced rather than not at all. A
 * destination that is no stored account (a restore into a server given only by host) passes
 * `{ id: 'host:' + host, host }`: the provider's defaults by host, tallied per host.
 */
export function openAccountPacing(dataDir: string, account: Pick<ImapAccount, 'id' | 'host'>, now: () => number, direction: Direction): { job: JobPacing; close: () => void } | null {
  let db: StateDb | undefined;
  try {
    // Never the one to create the relay's state file (a job run without a relay has none).
    if (!fs.existsSync(path.join(dataDir, STATE_FILE))) return null;
    db = openStateDb(dataDir);
    const budget = new TransferBudget(db, now);
    const pacing = budget.pacing(account.id, account.host);
    // Kept even without a limit: a session advertising X-GM-EXT-1 turns Gmail's defaults on (sawCapabilities).
    const open = db;
    return { job: jobPacing(budget, account.id, pacing, direction, now, account.host), close: () => open.close() };
  } catch {
    db?.close();
    return null;
  }
}

/**
 * Pacing for a server given only by host (a command-line restore into USER@HOST: no stored account,
 * no relay state): the provider's defaults by host, or Gmail's once the session shows X-GM-EXT-1,
 * tallied in memory for this run (the run stops before the provider's own lock and says when to
 * run again).
 */
export function hostPacing(host: string, direction: Direction, now: () => number = Date.now): { job: JobPacing; close: () => void } {
  const db = new Database(':memory:');
  const budget = new TransferBudget(db, now);
  const id = `host:${host.toLowerCase()}`;
  return { job: jobPacing(budget, id, budget.pacing(id, host), direction, now, host), close: () => db.close() };
}
