import { setTimeout as sleep } from 'node:timers/promises';
import type { ImapFlow } from 'imapflow';
import { RELAY_LIMITS } from '../../../lib/limits.ts';
import { MailkeepError, mailkeepError, type ErrorCode } from '../../../lib/protocol/error-codes.ts';
import type { BackupStatus } from '../../../lib/protocol/status-ids.ts';
import { disappearedInRun } from '../../archive/archive-reader.ts';
import { ArchiveWriter } from '../../archive/archive-writer.ts';
import { describeImapError, isAuthCode, isConnectionCode } from '../../imap/classify-error.ts';
import { closeSession, openSession } from '../../imap/session.ts';
import { sessionErrorCode } from '../../imap/session-error-code.ts';
import { backupAccount } from './backup-account.ts';
import type { SessionContext, Tally } from './backup-folder.ts';
import { throttledProgress } from '../progress.ts';
import { UIDS_UNSTABLE_MESSAGE } from '../source-rekey.ts';
import type { BackupHooks, BackupOptions, BackupResult } from './types.ts';
import type { PauseInfo } from '../pacing.ts';
import { budgetSpent, pauseOf } from './pause.ts';
import { PROVIDER_LIMITS } from '../../../lib/limits.ts';

/** The backup job: see types.ts for the contract. */
export async function runBackup(opts: BackupOptions, hooks: BackupHooks = {}): Promise<BackupResult> {
  const started = Date.now();
  const limits = {
    messageBaseMs: opts.deadlines?.messageBaseMs ?? RELAY_LIMITS.backupMessageDeadlineBaseMs,
    minBytesPerSecond: opts.deadlines?.minBytesPerSecond ?? RELAY_LIMITS.backupMinBytesPerSecond,
    runMs: opts.deadlines?.runMs ?? RELAY_LIMITS.backupRunDeadlineMs,
    maxReconnects: opts.deadlines?.maxReconnects ?? RELAY_LIMITS.backupMaxReconnects,
  };
  // The run deadline aborts like the user's signal does (socket closed, staged work committed).
  const runDeadline = new AbortController();
  let outOfTime = false;
  const runTimer = setTimeout(() => {
    outOfTime = true;
    runDeadline.abort();
  }, limits.runMs);
  const signal = hooks.signal ? AbortSignal.any([hooks.signal, runDeadline.signal]) : runDeadline.signal;
  const status = (s: BackupStatus, detail: Parameters<NonNullable<BackupHooks['onStatus']>>[1]): void => {
    try {
      hooks.onStatus?.(s, detail);
    } catch {
      /* a listener's bug must not break the backup */
    }
  };
  const progress = throttledProgress(hooks.onProgress);
  const tally: Tally = { messages: 0, bytes: 0, foldersChecked: 0, foldersUnchanged: 0, flagsUpdated: 0, disappeared: 0, skipped: [] };
  const maxAttempts = opts.retry?.maxAttempts ?? RELAY_LIMITS.backupMaxAttempts;
  const baseDelay = opts.retry?.baseDelayMs ?? RELAY_LIMITS.backupRetryBaseDelayMs;
  let attempt = 0;
  let runId: number | null = null;
  let accountId: number | null = null;
  let writer: ArchiveWriter | null = null;
  let pause: PauseInfo | undefined;
  let pausesInRun = 0;

  const finish = async (s: BackupResult['status'], code: ErrorCode | null, message: string | null, failed = false): Promise<BackupResult> => {
    clearTimeout(runTimer);
    try {
      opts.pacing?.flush();
    } catch {
      /* the tally is advisory: a state file that cannot be written must not fail the backup */
    }
    if (writer && runId !== null) {
      try {
        await writer.flush();
        // Counted by content, as archive-info lists them: a message whose bytes are still in the
        // folder (e.g. under a new UIDVALIDITY) has not disappeared.
        if (accountId !== null) tally.disappeared = disappearedInRun(writer.db, accountId, runId).messages.length;
        await writer.finishRun(runId, s, code);
      } catch (err) {
        code ??= errorCode(err);
        message ??= describeImapError(err);
        failed = true;
        s = 'partially_completed';
      }
      // The result counts what the archive holds, not what was received: a group whose commit
      // failed (disk full) is not stored, and the next run fetches it again.
      try {
        const row = writer.db.prepare<[number], { n: number; b: number }>('SELECT new_messages AS n, new_bytes AS b FROM runs WHERE id = ?').get(runId);
        if (row) {
          tally.messages = row.n;
          tally.bytes = row.b;
        }
      } catch {
        /* the index cannot be read: the counts received stand */
      }
    }
    try {
      await writer?.close();
    } catch {
      /* closing is best effort; what was committed is durable */
    }
    const r: BackupResult = {
      kind: 'backup',
      status: s,
      failed,
      errorCode: code,
      message,
      runId,
      messages: tally.messages,
      bytes: tally.bytes,
      foldersChecked: tally.foldersChecked,
      foldersUnchanged: tally.foldersUnchanged,
      flagsUpdated: tally.flagsUpdated,
      disappeared: tally.disappeared,
      skipped: tally.skipped,
      attempts: attempt,
      durationMs: Date.now() - started,
      ...(pause && s === 'retrying' ? { pause } : {}),
    };
    status(s, { attempt, ...(code ? { errorCode: code } : {}), ...(message ? { message } : {}) });
    return r;
  };

  status('preparing', { attempt: 0 });
  try {
    writer = ArchiveWriter.open(opts.archiveDir, { groupCommitMessages: opts.groupCommitMessages });
    const w = writer;
    const { host, port, user } = opts.account;
    // A known account records every run, failed ones included (archive-info shows them). A new
    // account enters the archive only after a login succeeded: a mistyped host, user or password
    // must not leave an empty account behind that makes restore/export without --source ambiguous.
    accountId = w.findAccount(host, port, user) ?? null;
    let matchStored = false;
    let resumesPause = false;
    const begin = (id: number): void => {
      accountId = id;
      // A first backup spread over days under a budget: the run after a pause measures its bytes too (the forecast).
      resumesPause = w.db.prepare<[number], { c: string | null }>('SELECT error_code AS c FROM runs WHERE account_id = ? ORDER BY id DESC LIMIT 1').get(id)?.c === 'PROVIDER_LIMIT_PAUSED';
      runId = w.beginRun(id);
      matchStored = w.hasAnyMessages(id);
    };
    if (accountId !== null) begin(accountId);
    let reconnects = 0;
    // The day's budget already spent (an earlier run, another job of the account): no login at all.
    if (opts.pacing?.spent()) {
      const p = pauseOf(budgetSpent(opts.pacing), null, opts.pacing, opts.pacing.now())!;
      pause = { reason: p.reason, provider: p.provider, resumeAt: p.resumeAt };
      return await finish('retrying', 'PROVIDER_LIMIT_PAUSED', `${opts.pacing.limitName} reached; resumes at ${p.resumeAt}`);
    }
    for (attempt = 1; ; attempt++) {
      let client: ImapFlow | null = null;
      let ctx: SessionContext | null = null;
      try {
        client = await openSession(opts.account, { signal, timeouts: opts.timeouts });
        if (accountId === null) {
          try {
            begin(w.ensureAccount(host, port, user));
          } catch (err) {
            // A local failure (disk full), not the session's: keep its code.
            throw mailkeepError(errorCode(err), err instanceof Error ? err.message : String(err));
          }
        }
        status('running', { attempt });
        // X-GM-EXT-1 under a host name that does not say Gmail: Gmail's pacing defaults (recorded on the account).
        opts.pacing?.sawCapabilities?.(client.capabilities);
        tally.skipped = []; // a retried pass re-evaluates what it could not read
        const session: SessionContext = {
          client,
          // After the server dropped the session on one message: log in again, a bounded number of times.
          reconnect: async () => {
            session.client.close();
            if (++reconnects > limits.maxReconnects) throw mailkeepError('CONNECTION_LOST', `the server dropped the connection ${reconnects} times in this backup`);
            session.client = client = await openSession(opts.account, { signal, timeouts: opts.timeouts });
            return session.client;
          },
          writer: w,
          accountId: accountId!,
          runId: runId!,
          signal,
          matchStored,
          tally,
          progress,
          ...(opts.pacing ? { pacing: opts.pacing } : {}),
          resumesPause,
          seenFolders: new Set(),
          deadlines: limits,
        };
        ctx = session;
        await backupAccount(session);
        await closeSession(session.client);
        if (tally.skipped.length) return await finish('partially_completed', tally.skipped[0]!.code, `${tally.skipped.length} item(s) could not be read`);
        // Completed, with why this server's runs are never incremental (backup-folder.ts uidsMoved).
        if (session.uidsUnstable) return await finish('completed', 'UIDVALIDITY_UNSTABLE', `${UIDS_UNSTABLE_MESSAGE}; every message was matched to stored mail by content, none stored twice`);
        return await finish('completed', null, null);
      } catch (err) {
        if (ctx) client = ctx.client;
        client?.close();
        try {
          await writer.flush(); // whatever was fully received is kept; the cursor covers only that
        } catch {
          /* reported below through the original error */
        }
        if (outOfTime) return await finish('partially_completed', 'RUN_TIME_LIMIT', `backup stopped after ${Math.round(limits.runMs / 60_000)} min (run deadline)`);
        if (signal.aborted) return await finish('partially_completed', 'CANCELLED', 'backup cancelled');
        // A local failure (the disk filled up under the pack, the journal or SQLite's WAL) is the
        // archive's, never the server's: not classified by the session state it left behind.
        const code = localErrorCode(err) ?? sessionErrorCode(err, client, { folderUnreadableIsLost: true });
        const message = err instanceof MailkeepError ? err.message : describeImapError(err);
        if (code === 'PROVIDER_LIMIT_PAUSED') {
          // A limit the product respects: never Connection Error. A short wait (a session the
          // server ended, a brief throttle) happens in this run; a long one ends it as Retrying and
          // the scheduler starts the next run at the resume time (relay/state/scheduler.ts).
          const now = opts.pacing?.now() ?? Date.now();
          const p = pauseOf(err, client, opts.pacing, now) ?? { reason: 'throttled' as const, provider: opts.pacing?.provider ?? 'other', resumeAt: new Date(now + PROVIDER_LIMITS.throttledPauseMs).toISOString(), waitMs: PROVIDER_LIMITS.throttledPauseMs };
          if (p.waitMs <= PROVIDER_LIMITS.pauseInRunMaxMs && ++pausesInRun <= PROVIDER_LIMITS.pausesInRunMax) {
            status('retrying', { attempt, errorCode: code, message, retryInMs: p.waitMs });
            try {
              await sleep(p.waitMs, undefined, { signal });
            } catch {
              if (outOfTime) return await finish('partially_completed', 'RUN_TIME_LIMIT', 'backup stopped (run deadline)');
              return await finish('partially_completed', 'CANCELLED', 'backup cancelled');
            }
            attempt--; // a pause is not a failed attempt
            continue;
          }
          pause = { reason: p.reason, provider: p.provider, resumeAt: p.resumeAt };
          return await finish('retrying', code, `${message}; resumes at ${p.resumeAt}`);
        }
        if (isAuthCode(code)) return await finish('authentication_error', code, message);
        if (!isConnectionCode(code)) return await finish('partially_completed', code, message, true);
        if (attempt >= maxAttempts) return await finish('connection_error', code, message);
        const delay = baseDelay * 2 ** (attempt - 1);
        status('retrying', { attempt, errorCode: code, message, retryInMs: delay });
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          if (outOfTime) return await finish('partially_completed', 'RUN_TIME_LIMIT', 'backup stopped (run deadline)');
          return await finish('partially_completed', 'CANCELLED', 'backup cancelled');
        }
      }
    }
  } catch (err) {
    return await finish('partially_completed', errorCode(err), err instanceof Error ? err.message : String(err), true);
  }
}

function errorCode(err: unknown): ErrorCode {
  if (err instanceof MailkeepError) return err.code;
  return localErrorCode(err) ?? 'UNKNOWN';
}

/**
 * A full disk, as Node (ENOSPC) or SQLite (SQLITE_FULL, when the WAL cannot grow) reports it; a
 * disk that turned read-only under a running backup (EROFS, SQLITE_READONLY).
 */
function localErrorCode(err: unknown): ErrorCode | null {
  const code = String((err as NodeJS.ErrnoException)?.code ?? '');
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') return 'DISK_FULL';
  return code === 'EROFS' || code.startsWith('SQLITE_READONLY') ? 'ARCHIVE_NOT_WRITABLE' : null;
}
