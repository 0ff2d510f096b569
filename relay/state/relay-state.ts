import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock } from '../../lib/clock.ts';
import { SCHEDULE_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { ImapAccount, JobEvent, JobSnapshot } from '../../lib/protocol/common.ts';
import type { AccountEvent, AccountState, ArchiveTotals, Schedule, StateRevision } from '../../lib/protocol/account-state.ts';
import { hasCredential, type OAuthTokens, type StoredAccount } from '../secrets/credential-store.ts';
import { CALLBACK_PATH, OAuthFlows } from '../oauth/flows.ts';
import { TokenManager } from '../oauth/token-manager.ts';
import { archiveDirOf } from '../jobs/data-dirs.ts';
import type { AccountLookup, JobRunners } from '../jobs/job-runner.ts';
import { JobManager } from '../server/job-manager.ts';
import { AccountStore, type AccountRow } from './account-store.ts';
import { readArchiveTotals } from './archive-totals.ts';
import { JobStore } from './job-store.ts';
import { Scheduler, type Timers } from './scheduler.ts';
import { JobRetries } from './job-retries.ts';
import { RecheckAfterRestore } from './recheck-after-restore.ts';
import { canTransition } from '../../lib/status/state-machine.ts';
import { openStateDb, type StateDb } from './state-db.ts';

/** The credential store's surface used here (relay/secrets/credential-store.ts). */
export interface Credentials {
  upsert(account: ImapAccount, password?: string): { hasPassword: boolean };
  delete(accountId: string): boolean;
  get(accountId: string): StoredAccount | undefined;
  list(): { account: ImapAccount; hasPassword: boolean }[];
  getOAuth(accountId: string): OAuthTokens | undefined;
  setOAuth(account: ImapAccount, tokens: OAuthTokens): void;
}

export interface RelayStateOptions {
  dataDir: string;
  credentials: Credentials;
  runners: JobRunners;
  clock?: Clock;
  monotonic?: () => number;
  timers?: Timers;
  random?: () => number;
  log?: (line: string) => void;
  /** The documented test hook only (docs/cli.md): overrides the missed-run jitter. */
  jitterMaxMs?: () => number;
  /** False for the CLI's direct mode (see JobManager). */
  resumeInterrupted?: boolean;
  /** OAuth2 provider configuration (client IDs) comes from the data dir and this environment. */
  env?: NodeJS.ProcessEnv;
}

const nodeTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref(); // the door keeps the relay alive, not the scheduler
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * The relay's state, in one place: accounts (settings and schedule in state.sqlite, passwords in
 * the encrypted credential store), the job manager with its history, and the scheduler. The
 * dispatcher and the CLI's direct mode both work through it; every change to an account is pushed
 * to subscribers as account.changed / account.removed.
 */
export class RelayState {
  readonly db: StateDb;
  readonly accounts: AccountStore;
  readonly jobStore: JobStore;
  readonly jobs: JobManager;
  /** Each account with its password or its OAuth login: what the job runners log in with. */
  readonly accountLookup: AccountLookup;
  readonly scheduler: Scheduler;
  /** The automatic retry of restore, download and migrate jobs (a backup's is the scheduler's). */
  readonly retries: JobRetries;
  /** The backup that follows a restore into an archived account (its "deleted on server" marks). */
  private readonly recheck: RecheckAfterRestore;
  readonly clock: Clock;
  /** This process among the relay's runs, and how many account states it has read (StateRevision). */
  private readonly instance = randomBytes(6).toString('hex');
  private readings = 0;
  private readonly listeners = new Set<(e: AccountEvent) => void>();
  private readonly totals = new Map<string, ArchiveTotals | null>();
  private readonly log: (line: string) => void;
  /** OAuth2 access tokens of oauth2 accounts, renewed ahead of expiry (relay/oauth). */
  readonly tokens: TokenManager;
  /** OAuth2 sign-ins; their redirect goes to `oauthCallbackBase` + /oauth/callback. */
  readonly oauth: OAuthFlows;
  /** `http://127.0.0.1:PORT`, set by whoever serves /oauth/callback (the relay's door, or the CLI's listener). */
  oauthCallbackBase: string | undefined;

  constructor(private readonly opts: RelayStateOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? (() => undefined);
    this.db = openStateDb(opts.dataDir);
    this.accounts = new AccountStore(this.db);
    this.jobStore = new JobStore(this.db);
    this.adoptCredentialAccounts();
    const now = (): number => this.clock.now();
    this.tokens = new TokenManager({ dataDir: opts.dataDir, credentials: opts.credentials, now, log: this.log, ...(opts.env ? { env: opts.env } : {}) });
    this.oauth = new OAuthFlows({
      dataDir: opts.dataDir,
      now,
      log: this.log,
      ...(opts.env ? { env: opts.env } : {}),
      redirectUri: () => {
        if (!this.oauthCallbackBase) throw mailkeepError('INVALID_INPUT', 'nothing listens for the sign-in callback');
        return `${this.oauthCallbackBase}${CALLBACK_PATH}`;
      },
      saveAccount: (account, tokens) => this.saveOAuthAccount(account, tokens),
    });
    const lookup: AccountLookup = (this.accountLookup = {
      get: (id) => {
        const row = this.accounts.get(id);
        const stored = opts.credentials.get(id);
        if (!row && !stored) return undefined;
        const account = row?.account ?? stored!.account;
        return {
          account,
          ...(stored?.password !== undefined ? { password: stored.password } : {}),
          ...(account.auth?.kind === 'oauth2' && stored?.oauth ? { oauthLogin: this.tokens.loginFor(id) } : {}),
        };
      },
    });
    try {
      this.jobs = new JobManager({ dataDir: opts.dataDir, runners: opts.runners, accounts: lookup, store: this.jobStore, now: () => new Date(this.clock.now()), ...(opts.resumeInterrupted === false ? { resumeInterrupted: false } : {}) });
    } catch (err) {
      this.db.close();
      throw err;
    }
    this.scheduler = new Scheduler({
      clock: this.clock,
      monotonic: opts.monotonic ?? (() => performance.now()),
      timers: opts.timers ?? nodeTimers,
      random: opts.random ?? Math.random,
      accounts: this.accounts,
      jobs: {
        isRunning: (id) => this.jobs.isRunning(id, 'backup'),
        // A run that was interrupted and not resumed is not the account's status: the last finished one is.
        latest: (id) => (this.jobs.isRunning(id, 'backup') ? this.jobs.latest(id, 'backup') : this.jobs.latest(id, 'backup', true)),
        startBackup: (id, key) => void this.jobs.start({ kind: 'backup', accountId: id, idempotencyKey: key, params: {} }),
      },
      onChanged: (id) => this.changed(id),
      log: this.log,
      ...(opts.jitterMaxMs ? { jitterMaxMs: opts.jitterMaxMs } : {}),
    });
    this.retries = new JobRetries({ clock: this.clock, timers: opts.timers ?? nodeTimers, jobs: this.jobs, log: this.log });
    const backupJobs = {
      isRunning: (id: string) => this.jobs.isRunning(id, 'backup'),
      latest: (id: string) => (this.jobs.isRunning(id, 'backup') ? this.jobs.latest(id, 'backup') : this.jobs.latest(id, 'backup', true)),
      startBackup: (id: string, key: string) => void this.jobs.start({ kind: 'backup', accountId: id, idempotencyKey: key, params: {} }),
    };
    this.recheck = new RecheckAfterRestore({ dataDir: opts.dataDir, jobs: backupJobs, log: this.log });
    this.jobs.subscribe((e) => this.onJobEvent(e));
  }

  /**
   * "Retry now" (job.retry) of any job: a restore, download or migrate job runs again under its id
   * (JobManager.retry); a backup starts a new run of its account, where the backup machine allows
   * Preparing from the account's status, under a key derived from the job retried (a second click
   * gets the same run).
   */
  retryJob(jobId: string): JobSnapshot {
    const job = this.jobs.get(jobId);
    if (job.kind !== 'backup') return this.jobs.retry(jobId);
    const current = this.jobs.isRunning(job.accountId, 'backup') ? this.jobs.latest(job.accountId, 'backup') : this.jobs.latest(job.accountId, 'backup', true);
    const key = `retry-of-${jobId}`;
    if (current && current.idempotencyKey !== key && !canTransition('backup', current.status, 'preparing')) {
      throw mailkeepError('ILLEGAL_TRANSITION', `backup: ${current.status} -> preparing is not allowed`, { jobId: current.id });
    }
    return this.jobs.start({ kind: 'backup', accountId: job.accountId, idempotencyKey: key, params: {} }).job;
  }

  /** Where state.sqlite and the accounts' archives live (account.history reads both). */
  get dataDir(): string {
    return this.opts.dataDir;
  }

  /** Accounts an earlier relay stored only in the credential store get a row with the default schedule. */
  private adoptCredentialAccounts(): void {
    const now = this.clock.now();
    for (const { account } of this.opts.credentials.list()) {
      if (!this.accounts.get(account.id)) this.accounts.upsert(account, { now, passwordChanged: false });
    }
  }

  private onJobEvent(e: JobEvent): void {
    if (e.event !== 'status') return;
    // A job that ended owing a retry, or one whose retry was called off: the retry timer looks again.
    // Once the job no longer counts as running: a retry that waited for it may start now.
    if (e.kind !== 'backup') {
      if (e.phase === 'finished') void this.jobs.settled(e.jobId).then(() => this.retries.check());
      if (e.kind === 'restore' && e.phase === 'finished') void this.jobs.settled(e.jobId).then(() => this.recheck.restoreFinished(this.jobs.get(e.jobId)));
      return;
    }
    const job = this.jobs.get(e.jobId);
    if (e.phase === 'finished') {
      this.totals.delete(job.accountId); // re-read once: the run stored new mail
      this.scheduler.backupFinished(job);
      void this.jobs.settled(e.jobId).then(() => this.recheck.backupFinished(job.accountId));
    } else if (e.phase === 'active' && this.accounts.get(job.accountId)?.retryAt != null) {
      // Any backup that starts (Retry now, a scheduled run) pays the retry that was owed.
      this.accounts.patch(job.accountId, { retryAt: null }, this.clock.now());
    }
    this.changed(job.accountId);
  }

  /** Starts the scheduler: missed runs (relay down, machine asleep) are found now and run once, soon. */
  start(): void {
    this.scheduler.start();
    this.retries.start();
  }

  async stop(): Promise<void> {
    this.scheduler.stop();
    this.retries.stop();
    await this.jobs.stop();
    this.db.close();
  }

  subscribe(listener: (e: AccountEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: AccountEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* one broken socket must not stop the others' events */
      }
    }
  }

  /** Pushes the account's whole state (after the archive totals are read, when they must be). */
  private changed(accountId: string): void {
    void this.accountState(accountId).then(
      (account) => this.emit({ event: 'account.changed', account, at: new Date(this.clock.now()).toISOString() }),
      () => undefined, // deleted meanwhile: account.removed says so
    );
  }

  upsertAccount(account: ImapAccount, password: string | undefined, schedule: Schedule | undefined): { hasPassword: boolean } {
    // A settings form that does not know about OAuth2 (an older extension, `account edit`) must not
    // turn a signed-in account back into a password one: without a new password, its auth stays.
    const previous = this.accounts.get(account.id)?.account.auth;
    if (account.auth === undefined && password === undefined && previous) account = { ...account, auth: previous };
    // Likewise its trusted certificate (the extension's form has none): absent keeps it, null forgets it.
    const { ca, ...rest } = account;
    const keptCa = ca === undefined ? this.accounts.get(account.id)?.account.ca : ca;
    account = { ...rest, ...(keptCa ? { ca: keptCa } : {}) };
    const { hasPassword } = this.opts.credentials.upsert(account, password);
    this.accounts.upsert(account, { ...(schedule ? { schedule } : {}), now: this.clock.now(), passwordChanged: password !== undefined });
    this.scheduler.check('change');
    this.changed(account.id);
    return { hasPassword };
  }

  /** A finished OAuth2 sign-in: settings and tokens stored; like a new password, it clears an Authentication Error. */
  private saveOAuthAccount(account: ImapAccount, tokens: OAuthTokens): void {
    const existing = this.accounts.get(account.id);
    this.opts.credentials.setOAuth(account, tokens);
    this.accounts.upsert(account, { now: this.clock.now(), passwordChanged: true });
    this.log(`account ${account.id} ${existing ? 'signed in again' : 'added'} (OAuth2, ${account.auth?.kind === 'oauth2' ? account.auth.provider : '?'})`);
    this.scheduler.check('change');
    this.changed(account.id);
  }

  deleteAccount(accountId: string): boolean {
    const stored = this.opts.credentials.get(accountId);
    // Not awaited: removing the account must not wait on (or fail with) the provider.
    if (stored?.oauth) void this.tokens.revoke(stored.account, stored.oauth);
    const had = this.opts.credentials.delete(accountId);
    const hadRow = this.accounts.delete(accountId);
    this.totals.delete(accountId);
    if (had || hadRow) this.emit({ event: 'account.removed', accountId, at: new Date(this.clock.now()).toISOString() });
    return had || hadRow;
  }

  setSchedule(accountId: string, schedule: Schedule): void {
    if (!this.accounts.get(accountId)) throw mailkeepError('NOT_FOUND', `no account ${accountId}`);
    this.accounts.setSchedule(accountId, schedule, this.clock.now());
    this.scheduler.check('change');
    this.changed(accountId);
  }

  async accountState(accountId: string): Promise<AccountState> {
    if (!this.accounts.get(accountId)) throw mailkeepError('NOT_FOUND', `no account ${accountId}`);
    if (!this.totals.has(accountId)) this.totals.set(accountId, await readArchiveTotals(archiveDirOf(this.opts.dataDir, accountId)));
    // Everything else is read after the await: of two pushes in flight, the later one is never older.
    const row = this.accounts.get(accountId);
    if (!row) throw mailkeepError('NOT_FOUND', `no account ${accountId}`);
    const running = this.jobs.isRunning(accountId, 'backup');
    const revision = { instance: this.instance, seq: (this.readings += 1) };
    return accountStateOf(row, revision, {
      hasPassword: hasCredential(this.opts.credentials.get(accountId)),
      // Not running: an interrupted run's "running" is not the account's status; the last finished one's is.
      latestBackup: running ? this.jobs.latest(accountId, 'backup') : this.jobs.latest(accountId, 'backup', true),
      running,
      lastSuccessAt: this.jobStore.lastSuccessAt(accountId),
      nextRunAt: this.scheduler.nextRunAt(row),
      retryAt: this.scheduler.retryAt(row),
      archive: this.totals.get(accountId) ?? null,
    });
  }

  async snapshot(jobLimit: number = SCHEDULE_LIMITS.stateJobsDefault): Promise<{ relayTime: string; timeZone: string; accounts: AccountState[]; jobs: JobSnapshot[] }> {
    const accounts: AccountState[] = [];
    for (const row of this.accounts.list()) accounts.push(await this.accountState(row.account.id));
    return { relayTime: new Date(this.clock.now()).toISOString(), timeZone: this.clock.timeZone(), accounts, jobs: this.jobs.list({ limit: jobLimit }) };
  }
}

/**
 * The account's status through lib/status's backup statuses: a backup that runs shows its own;
 * with the schedule off and nothing running, Deactivated; else the latest backup's; null before
 * the first one.
 */
export function accountStateOf(
  row: AccountRow,
  revision: StateRevision,
  s: { hasPassword: boolean; latestBackup: JobSnapshot | null; running: boolean; lastSuccessAt: string | null; nextRunAt: number | null; retryAt: number | null; archive: ArchiveTotals | null },
): AccountState {
  const latest = s.latestBackup;
  const status = s.running && latest ? latest.status : row.schedule.kind === 'off' ? 'deactivated' : (latest?.status ?? null);
  return {
    account: row.account,
    hasPassword: s.hasPassword,
    schedule: row.schedule,
    status: status as AccountState['status'],
    nextRunAt: s.nextRunAt === null ? null : new Date(s.nextRunAt).toISOString(),
    retryAt: s.retryAt === null ? null : new Date(s.retryAt).toISOString(),
    lastSuccessAt: s.lastSuccessAt,
    latestBackup: latest,
    archive: s.archive,
    revision,
  };
}
