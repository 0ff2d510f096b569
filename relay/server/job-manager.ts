import type { OAuthLogin } from '../imap/oauth-login.ts';
import { randomBytes } from 'node:crypto';
import { DOOR_LIMITS, SCHEDULE_LIMITS } from '../../lib/limits.ts';
import { errorCodeOf, mailkeepError, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import { ERROR_HINTS } from '../../lib/status/error-hints.ts';
import { isTlsCode } from '../imap/classify-error.ts';
import { JobSnapshot, type ImapAccount, type JobEvent, type JobProgress } from '../../lib/protocol/common.ts';
import { JobRequest, type JobParams, type JobStartBody } from '../../lib/protocol/job-kinds.ts';
import type { JobOutcome } from '../../lib/protocol/job-outcome.ts';
import { cannotSignIn, type AccountLookup, type JobRunContext, type JobRunner, type JobRunners } from '../jobs/job-runner.ts';
import type { JobKind } from '../../lib/protocol/status-ids.ts';
import { QUEUE_STATUS, statusInfo } from '../../lib/status/catalog.ts';
import { assertTransition, canTransition, pathTo } from '../../lib/status/state-machine.ts';
import { JobStore } from '../state/job-store.ts';
import { openAccountPacing } from '../state/transfer-budget.ts';
import { openStateDb } from '../state/state-db.ts';
import { completedStatus, queuedStatus, statusForError } from './job-status.ts';

/**
 * Jobs of the relay: one per idempotency key, persisted in state.sqlite (relay/state/job-store.ts;
 * an earlier relay's `jobs.json` is imported once) so a restart (or a service worker that lost
 * its memory) can list them. Work is done by injected runners, one per kind,
 * so tests use tiny real runners and `mailkeep relay` wires the backup engine.
 */

/** job.start's body: the kind with its own parameters (a union by kind). */
export type StartJobInput = JobStartBody;

/** What update() may change; the outcome comes from the job's own kind's runner. */
type JobPatch = Partial<Pick<JobSnapshot, 'status' | 'phase' | 'errorCode' | 'retryAt' | 'attempt' | 'progress'>> & { outcome?: JobOutcome };

interface Live {
  controller: AbortController;
  done: Promise<void>;
}

/** Whether a job of this kind signs in to the account's server: a download reads the archive only, so it needs no password. */
function logsIn(kind: JobKind): boolean {
  return kind !== 'download';
}

export class JobManager {
  private readonly jobs = new Map<string, JobSnapshot>();
  private readonly byKey = new Map<string, string>();
  private readonly live = new Map<string, Live>();
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private readonly lastProgressAt = new Map<string, number>();
  /** Jobs with progress not yet sent (throttled away): sent before their final status. */
  private readonly unsentProgress = new Set<string>();
  /** Each job's parameters, kept so an interrupted job can be resumed as it was asked for. */
  private readonly params = new Map<string, unknown>();
  /** Jobs this start found queued or active in the store: the previous relay stopped under them. */
  private readonly resumable: string[] = [];
  /**
   * Jobs the relay stopped under while they ran as a resume already (or left interrupted by an
   * earlier relay): this start ends them with a status instead of resuming them again.
   */
  private readonly stale: string[] = [];
  /** Jobs running as the resume of an interrupted run (persisted as StoredJob.resumedRun). */
  private readonly resumedRuns = new Set<string>();
  private stopping = false;
  private closed = false;
  private readonly store: JobStore;
  /** Closes the state database this manager opened itself (none when a store was given). */
  private readonly closeOwnDb: (() => void) | undefined;

  constructor(
    private readonly opts: {
      dataDir: string;
      runners: JobRunners;
      accounts: AccountLookup;
      now?: () => Date;
      /** The relay's job store; default: state.sqlite in dataDir, opened here. */
      store?: JobStore;
      /**
       * False for a command-line run on the data dir (no relay): it leaves the jobs an earlier relay
       * was running marked for that relay's next start to resume, instead of consuming the marks.
       */
      resumeInterrupted?: boolean;
      /** How long a job in an autoRetry status waits for its automatic retry; default SCHEDULE_LIMITS.autoRetryDelayMs. */
      retryDelayMs?: () => number;
    },
  ) {
    if (opts.store) this.store = opts.store;
    else {
      const db = openStateDb(opts.dataDir);
      this.store = new JobStore(db);
      this.closeOwnDb = () => db.close();
    }
    this.load();
  }

  private now(): string {
    return (this.opts.now?.() ?? new Date()).toISOString();
  }

  /** Jobs that were queued or active when the relay stopped (crash or SIGTERM) come back interrupted. */
  private load(): void {
    try {
      this.store.importLegacy(this.opts.dataDir);
    } catch (err) {
      this.closeOwnDb?.();
      throw err;
    }
    const consumed: JobSnapshot[] = [];
    for (const { job, params, resumeOnStart, resumedRun } of this.store.all()) {
      this.params.set(job.id, params);
      const cut = job.phase === 'queued' || job.phase === 'active' || job.phase === 'interrupted';
      this.jobs.set(job.id, cut ? { ...job, phase: 'interrupted' } : job);
      this.byKey.set(job.idempotencyKey, job.id);
      if (!cut) continue;
      // Resumed once already (or left interrupted by an earlier relay): ended, not resumed again,
      // so a job that stops the relay cannot keep it from starting.
      const again = job.phase === 'interrupted' ? !resumeOnStart : resumedRun;
      if (again) this.stale.push(job.id);
      else {
        this.resumable.push(job.id);
        consumed.push(this.jobs.get(job.id)!);
      }
    }
    if (this.opts.resumeInterrupted === false) {
      this.resumable.length = 0;
      this.stale.length = 0;
      return;
    }
    // Consumed: a later start does not resume them again.
    if (consumed.length > 0) this.store.putMany(consumed.map((job) => ({ job, params: this.params.get(job.id) ?? {}, resumeOnStart: false, resumedRun: false })));
  }

  /** Writes one job's row (with its parameters, and whether the next start resumes it). */
  private save(jobId: string, resumeOnStart = false): void {
    const job = this.jobs.get(jobId);
    if (!job || this.closed) return; // a runner that outlived stop()'s deadline: already recorded as interrupted
    const resumedRun = this.resumedRuns.has(jobId) && (job.phase === 'queued' || job.phase === 'active');
    if (job.phase === 'finished') this.resumedRuns.delete(jobId);
    this.store.put(job, this.params.get(jobId) ?? {}, resumeOnStart, resumedRun);
  }

  /** The history is bounded: a new job pushes the oldest finished ones out, from memory and the table. */
  private prune(): void {
    if (this.jobs.size <= DOOR_LIMITS.jobHistoryMax) return;
    const all = [...this.jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    for (const old of all.slice(DOOR_LIMITS.jobHistoryMax)) {
      if (this.live.has(old.id) || old.retryAt != null) continue; // a retry still owed is not history yet
      this.jobs.delete(old.id);
      this.byKey.delete(old.idempotencyKey);
      this.params.delete(old.id);
      this.store.delete(old.id);
    }
  }

  subscribe(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: JobEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* one broken socket must not stop the others' events */
      }
    }
  }

  /** Same key -> the same job (created: false), never a second run. */
  start(input: StartJobInput): { job: JobSnapshot; created: boolean } {
    const knownId = this.byKey.get(input.idempotencyKey);
    if (knownId !== undefined) {
      const known = this.jobs.get(knownId)!;
      if (known.kind !== input.kind || known.accountId !== input.accountId) {
        throw mailkeepError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key belongs to another job', { jobId: known.id });
      }
      return { job: known, created: false };
    }
    if (this.stopping) throw mailkeepError('CANCELLED', 'the relay is shutting down');
    const { runner, stored } = this.admit(input.accountId, input.kind);
    const at = this.now();
    const job: JobSnapshot = {
      id: `j_${randomBytes(6).toString('hex')}`,
      kind: input.kind,
      accountId: input.accountId,
      idempotencyKey: input.idempotencyKey,
      status: queuedStatus(input.kind),
      phase: 'queued',
      errorCode: null,
      progress: { folder: null, messagesDone: 0, messagesTotal: null, bytes: 0 },
      createdAt: at,
      updatedAt: at,
    };
    this.jobs.set(job.id, job);
    this.byKey.set(job.idempotencyKey, job.id);
    this.params.set(job.id, input.params);
    this.save(job.id);
    this.prune();
    this.launch(job.id, runner, stored.account, stored.password ?? '', input.params, stored.oauthLogin);
    return { job, created: true };
  }

  /**
   * The kind's runner, seen as taking any kind's params: run() checks the params against the job's
   * kind (JobRequest) before calling it, which is what makes the widening safe.
   */
  private runnerOf(kind: JobKind): JobRunner | undefined {
    return this.opts.runners[kind] as JobRunner | undefined;
  }

  /**
   * What a new run (job.start) and a run again (job.retry) must have, checked in one order, each
   * refusal with its own code: a runner, the account, a way to sign in (if the kind signs in), and
   * no other run of the kind on the account.
   */
  private admit(accountId: string, kind: JobKind): { runner: JobRunner; stored: NonNullable<ReturnType<AccountLookup['get']>> } {
    const runner = this.runnerOf(kind);
    if (!runner) throw mailkeepError('JOB_KIND_UNSUPPORTED', `this relay cannot run ${kind} jobs yet`);
    const stored = this.opts.accounts.get(accountId);
    if (!stored) throw mailkeepError('NOT_FOUND', `no account ${accountId}`);
    if (logsIn(kind) && cannotSignIn(stored)) throw mailkeepError('PASSWORD_NOT_STORED', `account ${accountId} has no stored password`);
    this.refuseSecondRun(accountId, kind);
    return { runner, stored };
  }

  private launch(jobId: string, runner: JobRunner, account: ImapAccount, password: string, params: unknown, oauth?: OAuthLogin): void {
    const controller = new AbortController();
    const done = this.run(jobId, runner, account, password, params, controller.signal, oauth);
    this.live.set(jobId, { controller, done });
    void done.finally(() => this.live.delete(jobId));
  }

  /**
   * At start: every job the previous relay stopped under (SIGTERM or crash) is the relay's to
   * settle, never the extension's. Each is restarted under the same id and key (the engine resumes
   * from its durable checkpoints, so nothing is fetched or appended twice), or, when it cannot be,
   * ended with a status of its kind reached through lib/status's state machine and pushed as a
   * status event: account gone (Cancelled; a backup Deactivated), no password (Authentication
   * Error; a download Cancelled), resumed once already (JOB_INTERRUPTED: the kind's error status,
   * whose automatic retry, if it has one, the relay runs later). One waiting for another run of its
   * kind on its account resumes when that run settles. Returns the jobs restarted now.
   */
  resumeInterrupted(log: (line: string) => void = () => undefined): JobSnapshot[] {
    this.logSettled = log;
    for (const id of this.stale.splice(0)) {
      const job = this.jobs.get(id);
      if (job?.phase === 'interrupted') this.settleUnresumable(id, statusForError(job.kind, 'JOB_INTERRUPTED'), 'JOB_INTERRUPTED');
    }
    const resumed: JobSnapshot[] = [];
    for (const id of this.resumable.splice(0)) {
      const again = this.resumeOne(id);
      if (again) resumed.push(again);
    }
    return resumed;
  }

  private resumeOne(id: string): JobSnapshot | null {
    const job = this.jobs.get(id);
    if (!job || job.phase !== 'interrupted' || this.closed || this.stopping) return null;
    const runner = this.runnerOf(job.kind);
    const stored = this.opts.accounts.get(job.accountId);
    const gone = job.kind === 'backup' ? 'deactivated' : 'cancelled';
    if (!stored) return this.settleUnresumable(id, gone, 'NOT_FOUND'), null;
    if (!runner) return this.settleUnresumable(id, gone, 'JOB_KIND_UNSUPPORTED'), null;
    if (logsIn(job.kind) && cannotSignIn(stored)) return this.settleUnresumable(id, 'authentication_error', 'PASSWORD_NOT_STORED'), null;
    const busy = this.liveRunOf(job.accountId, job.kind);
    if (busy) {
      void this.settled(busy).then(() => this.resumeOne(id));
      return null;
    }
    this.resumedRuns.add(id);
    const restarted = this.update(id, { phase: 'queued', status: queuedStatus(job.kind), errorCode: null }, true);
    this.launch(id, runner, stored.account, stored.password ?? '', this.params.get(id) ?? {}, stored.oauthLogin);
    return restarted;
  }

  /** Where resumeInterrupted() says which interrupted jobs it ended instead of resuming (the relay log). */
  private logSettled: (line: string) => void = () => undefined;

  /** Ends an interrupted job in `to` (or, where the state machine has no way there, the kind's Cancelled / Deactivated). */
  private settleUnresumable(id: string, to: string, errorCode: ErrorCode | null): void {
    const job = this.jobs.get(id)!;
    const fallback = job.kind === 'backup' ? 'deactivated' : 'cancelled';
    const status = pathTo(job.kind, job.status, to) ? to : fallback;
    this.update(id, { status, errorCode, phase: 'finished', retryAt: this.retryAtFor(job.kind, status) }, true);
    this.logSettled(`interrupted ${job.kind} job ${id} of account ${job.accountId} not resumed: ${status}${errorCode ? ` (${errorCode})` : ''}`);
  }

  private update(jobId: string, patch: JobPatch, emitStatus: boolean): JobSnapshot {
    // The outcome in a patch is the job's own kind's (JobRunner<K>), so the union by kind holds.
    const job = { ...this.jobs.get(jobId)!, ...patch, updatedAt: this.now() } as JobSnapshot;
    this.jobs.set(jobId, job);
    if (emitStatus) {
      this.save(jobId);
      this.emit({
        event: 'status',
        jobId,
        kind: job.kind,
        status: job.status,
        phase: job.phase,
        errorCode: job.errorCode,
        at: job.updatedAt,
        ...(job.attempt ? { attempt: job.attempt } : {}),
      });
    }
    return job;
  }

  private async run(
    jobId: string,
    runner: JobRunner,
    account: ImapAccount,
    password: string,
    params: unknown,
    signal: AbortSignal,
    oauth?: OAuthLogin,
  ): Promise<void> {
    // Let start() return (and its result frame go out) before the first event of this job.
    await Promise.resolve();
    const job = this.jobs.get(jobId)!;
    // Params from job.start were parsed with the frame; params read back from the store (a resumed
    // job) are checked here, so a runner only ever sees its own kind's params.
    const request = JobRequest.safeParse({ kind: job.kind, params });
    const ctx: JobRunContext = {
      job,
      account,
      password,
      ...(oauth ? { oauth } : {}),
      // Unused when the check failed: the job fails below before its runner is called.
      params: request.success ? request.data.params : ({} satisfies JobParams),
      dataDir: this.opts.dataDir,
      openPacing: (direction, other) => openAccountPacing(this.opts.dataDir, other ?? account, () => (this.opts.now?.() ?? new Date()).getTime(), direction),
      signal,
      setStatus: (status, errorCode = null) => {
        const current = this.jobs.get(jobId)!;
        if (current.phase !== 'active' || (current.status === status && current.errorCode === errorCode)) return;
        if (!JobSnapshot.safeParse({ ...current, status }).success) return; // not a status of this kind
        this.update(jobId, { status, errorCode }, true);
      },
      reportProgress: (p) => this.progress(jobId, p),
    };
    this.update(jobId, { phase: 'active' }, true);
    try {
      // Cancelled or shut down before it began: a listener added now would never fire.
      signal.throwIfAborted();
      if (!request.success) throw mailkeepError('INVALID_INPUT', `${job.kind} params: ${request.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const outcome = await runner(ctx);
      this.flushProgress(jobId);
      if (signal.aborted && signal.reason === 'shutdown') {
        this.update(jobId, { phase: 'interrupted' }, true);
        return;
      }
      const status = outcome?.status ?? completedStatus(job.kind);
      // A TLS failure's cause (untrusted certificate, name, expiry, wrong port) is the one thing
      // the user must fix by hand: relay.log names it (code, host, port: no secret).
      if (outcome?.errorCode && isTlsCode(outcome.errorCode)) this.logSettled(`${job.kind} job ${jobId} of account ${job.accountId}: ${status} (${outcome.errorCode}: ${ERROR_HINTS[outcome.errorCode]})`);
      this.update(
        jobId,
        { status, errorCode: outcome?.errorCode ?? null, phase: 'finished', retryAt: this.retryAtFor(job.kind, status, outcome?.outcome), ...(outcome?.outcome ? { outcome: outcome.outcome } : {}) },
        true,
      );
    } catch (err) {
      this.flushProgress(jobId);
      if (signal.aborted && signal.reason === 'shutdown') {
        this.update(jobId, { phase: 'interrupted' }, true);
        return;
      }
      const code = signal.aborted ? 'CANCELLED' : errorCodeOf(err);
      const status = statusForError(job.kind, code);
      if (isTlsCode(code)) this.logSettled(`${job.kind} job ${jobId} of account ${job.accountId}: ${status} (${code}: ${ERROR_HINTS[code]})`);
      this.update(jobId, { status, errorCode: code, phase: 'finished', retryAt: signal.aborted ? null : this.retryAtFor(job.kind, status) }, true);
    }
  }

  private progress(jobId: string, p: Partial<JobProgress>): void {
    const job = this.jobs.get(jobId);
    if (!job || job.phase !== 'active') return;
    this.jobs.set(jobId, { ...job, progress: { ...job.progress, ...p }, updatedAt: this.now() });
    this.unsentProgress.add(jobId);
    const now = Date.now();
    if (now - (this.lastProgressAt.get(jobId) ?? 0) < DOOR_LIMITS.jobProgressIntervalMs) return;
    this.flushProgress(jobId, now);
  }

  private flushProgress(jobId: string, now = Date.now()): void {
    if (!this.unsentProgress.delete(jobId)) return;
    const job = this.jobs.get(jobId)!;
    this.lastProgressAt.set(jobId, now);
    this.emit({ event: 'progress', jobId, progress: job.progress, at: job.updatedAt });
  }

  get(jobId: string): JobSnapshot {
    const job = this.jobs.get(jobId);
    if (!job) throw mailkeepError('NOT_FOUND', `no job ${jobId}`);
    return job;
  }

  list(filter: { accountId?: string; limit: number }): JobSnapshot[] {
    return [...this.jobs.values()]
      .filter((j) => filter.accountId === undefined || j.accountId === filter.accountId)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, filter.limit);
  }

  /**
   * A download's link has expired (relay/server/download-links.ts deleted the file): Completed /
   * Link -> Expired, and the link leaves the outcome. Anything else is left alone.
   */
  expire(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job || job.kind !== 'download' || job.status !== 'completed_link') return;
    const { link: _gone, ...rest } = job.outcome ?? {};
    this.update(jobId, { status: 'expired', outcome: rest }, true);
  }

  /** Aborts the job and waits (bounded) until its runner has stopped and its status is final. */
  async cancel(jobId: string): Promise<JobSnapshot> {
    const job = this.get(jobId);
    const live = this.live.get(jobId);
    if (!live) {
      // Waiting for its automatic retry: the retry is called off (Cancelled where the kind's
      // machine allows it from here, else the status stays and only the retry goes).
      if (job.retryAt == null) return job;
      const to = canTransition(job.kind, job.status, 'cancelled') ? 'cancelled' : job.status;
      return this.update(jobId, { status: to, errorCode: to === 'cancelled' ? 'CANCELLED' : job.errorCode, retryAt: null }, true);
    }
    live.controller.abort('cancel');
    await withDeadline(live.done, DOOR_LIMITS.relayShutdownDeadlineMs);
    return this.get(jobId);
  }

  /** When a job that just ended in `status` is run again by itself: restore, download and migrate only (a backup's retry is its account's, relay/state/scheduler.ts). */
  private retryAtFor(kind: JobKind, status: string, outcome?: JobOutcome): string | null {
    if (kind === 'backup') return null;
    // Paused under a provider's limit (Retrying, PROVIDER_LIMIT_PAUSED): run again when the budget
    // refills or the server's wait is over, not after the fixed retry delay.
    const pausedUntil = outcome && 'pause' in outcome && outcome.pause ? Date.parse(outcome.pause.resumeAt) : NaN;
    if (status === 'retrying' && Number.isFinite(pausedUntil)) return new Date(Math.max(Date.parse(this.now()), pausedUntil)).toISOString();
    if (!statusInfo(kind, status).autoRetry) return null;
    return new Date(Date.parse(this.now()) + (this.opts.retryDelayMs?.() ?? SCHEDULE_LIMITS.autoRetryDelayMs)).toISOString();
  }

  /** Resolves once the job's runner is done and it no longer counts as running (at once if it is not). */
  settled(jobId: string): Promise<void> {
    return this.live.get(jobId)?.done ?? Promise.resolve();
  }

  /** Calls off the retry a job waits for, its status unchanged (the retry can never start: account or runner gone). */
  dropRetry(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (job?.retryAt != null && !this.live.has(jobId)) this.update(jobId, { retryAt: null }, true);
  }

  /** Finished jobs that wait for their automatic retry, with when it is due (ms). */
  waitingRetries(): { jobId: string; retryAt: number }[] {
    const out: { jobId: string; retryAt: number }[] = [];
    for (const j of this.jobs.values()) if (j.phase === 'finished' && j.retryAt != null && !this.live.has(j.id)) out.push({ jobId: j.id, retryAt: Date.parse(j.retryAt) });
    return out;
  }

  /**
   * Runs a finished restore, download or migrate job again under its id, with the parameters it
   * was started with: the automatic retry (when its retryAt came) and "Retry now" (job.retry).
   * The move back to the kind's queue status goes through lib/status's state machine
   * (ILLEGAL_TRANSITION where it does not allow one, e.g. from Completed). A job already running
   * is returned as it is, so a second click does not start a second run.
   */
  retry(jobId: string): JobSnapshot {
    const job = this.get(jobId);
    if (this.live.has(jobId)) return job;
    if (job.kind === 'backup') throw mailkeepError('INVALID_INPUT', 'a backup is retried as a new run of its account');
    if (job.phase !== 'finished') throw mailkeepError('ILLEGAL_TRANSITION', `${job.kind}: job ${jobId} has not finished (${job.phase})`, { jobId });
    assertTransition(job.kind, job.status, QUEUE_STATUS[job.kind]);
    if (this.stopping) throw mailkeepError('CANCELLED', 'the relay is shutting down');
    const { runner, stored } = this.admit(job.accountId, job.kind);
    const { outcome: _last, ...rest } = job;
    this.jobs.set(jobId, rest);
    const again = this.update(
      jobId,
      { status: QUEUE_STATUS[job.kind], phase: 'queued', errorCode: null, retryAt: null, attempt: (job.attempt ?? 0) + 1, progress: { folder: null, messagesDone: 0, messagesTotal: null, bytes: 0 } },
      true,
    );
    this.launch(jobId, runner, stored.account, stored.password ?? '', this.params.get(jobId) ?? {}, stored.oauthLogin);
    return again;
  }

  /** Graceful shutdown: ask every runner to checkpoint and stop; they are reported as interrupted. */
  async stop(): Promise<void> {
    this.stopping = true;
    const running = [...this.live.entries()];
    for (const [, l] of running) l.controller.abort('shutdown');
    await withDeadline(Promise.all(running.map(([, l]) => l.done)), DOOR_LIMITS.relayShutdownDeadlineMs);
    // A runner that ignored the signal past the deadline is still recorded as interrupted.
    for (const [id] of running) if (this.jobs.get(id)?.phase === 'active' || this.jobs.get(id)?.phase === 'queued') this.update(id, { phase: 'interrupted' }, false);
    // Jobs this shutdown interrupted: the next start resumes them (once).
    for (const [id] of running) this.save(id, this.jobs.get(id)?.phase === 'interrupted');
    this.closed = true;
    this.closeOwnDb?.();
  }

  /** Whether a job of this kind runs (or waits to) for the account now. */
  isRunning(accountId: string, kind: JobKind): boolean {
    return this.liveRunOf(accountId, kind) !== undefined;
  }

  /** The id of the account's live job of this kind, if one runs (or waits to). */
  private liveRunOf(accountId: string, kind: JobKind): string | undefined {
    for (const id of this.live.keys()) {
      const j = this.jobs.get(id);
      if (j?.accountId === accountId && j.kind === kind) return id;
    }
    return undefined;
  }

  /** Two runs of one kind on one account would fight over the same archive or mailbox: ARCHIVE_LOCKED, naming the one that runs. */
  private refuseSecondRun(accountId: string, kind: JobKind): void {
    const running = this.liveRunOf(accountId, kind);
    if (running !== undefined) throw mailkeepError('ARCHIVE_LOCKED', `a ${kind} of ${accountId} is already running`, { jobId: running });
  }

  /** The account's newest job of a kind (only finished ones when asked), from memory (the store holds the same). */
  latest(accountId: string, kind: JobKind, finishedOnly = false): JobSnapshot | null {
    let best: JobSnapshot | null = null;
    for (const j of this.jobs.values()) {
      if (j.accountId !== accountId || j.kind !== kind || (finishedOnly && j.phase !== 'finished')) continue;
      if (!best || j.createdAt > best.createdAt) best = j;
    }
    return best;
  }
}

async function withDeadline(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
