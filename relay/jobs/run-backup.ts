import { setTimeout as sleep } from 'node:timers/promises';
import type { ImapFlow } from 'imapflow';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { MailkeepError, mailkeepError, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import type { BackupStatus } from '../../lib/status/status-ids.ts';
import { ArchiveWriter } from '../archive/archive-writer.ts';
import { describeImapError, isConnectionCode } from '../imap/classify-error.ts';
import { closeSession, openSession } from '../imap/session.ts';
import { sessionErrorCode } from '../imap/session-error-code.ts';
import { backupAccount } from './backup-account.ts';
import type { Tally } from './backup-folder.ts';
import { throttledProgress } from './progress.ts';
import type { BackupHooks, BackupOptions, BackupResult } from './types.ts';

/** The backup job: see types.ts for the contract. */
export async function runBackup(opts: BackupOptions, hooks: BackupHooks = {}): Promise<BackupResult> {
  const started = Date.now();
  const { signal } = hooks;
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
  let writer: ArchiveWriter | null = null;

  const finish = async (s: BackupResult['status'], code: ErrorCode | null, message: string | null, failed = false): Promise<BackupResult> => {
    if (writer && runId !== null) {
      try {
        await writer.finishRun(runId, s, code);
      } catch (err) {
        code ??= errorCode(err);
        message ??= describeImapError(err);
        failed = true;
        s = 'partially_completed';
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
    let accountId = w.findAccount(host, port, user) ?? null;
    let matchStored = false;
    const begin = (id: number): void => {
      accountId = id;
      runId = w.beginRun(id);
      matchStored = w.hasAnyMessages(id);
    };
    if (accountId !== null) begin(accountId);
    for (attempt = 1; ; attempt++) {
      let client: ImapFlow | null = null;
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
        tally.skipped = []; // a retried pass re-evaluates what it could not read
        await backupAccount({ client, writer: w, accountId: accountId!, runId: runId!, signal, matchStored, tally, progress, seenFolders: new Set() });
        await closeSession(client);
        return tally.skipped.length
          ? await finish('partially_completed', tally.skipped[0]!.code, `${tally.skipped.length} item(s) could not be read`)
          : await finish('completed', null, null);
      } catch (err) {
        client?.close();
        try {
          await writer.flush(); // whatever was fully received is kept; the cursor covers only that
        } catch {
          /* reported below through the original error */
        }
        if (signal?.aborted) return await finish('partially_completed', 'CANCELLED', 'backup cancelled');
        const code = sessionErrorCode(err, client, { folderUnreadableIsLost: true });
        const message = err instanceof MailkeepError ? err.message : describeImapError(err);
        if (code === 'AUTH_FAILED') return await finish('authentication_error', code, message);
        if (!isConnectionCode(code)) return await finish('partially_completed', code, message, true);
        if (attempt >= maxAttempts) return await finish('connection_error', code, message);
        const delay = baseDelay * 2 ** (attempt - 1);
        status('retrying', { attempt, errorCode: code, message, retryInMs: delay });
        try {
          await sleep(delay, undefined, { signal });
        } catch {
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
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC') return 'DISK_FULL';
  return 'UNKNOWN';
}
