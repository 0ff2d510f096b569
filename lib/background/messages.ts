import { z } from '../zod.ts';
import { MailkeepError, errorCodeOf, type ErrorCode } from '../protocol/error-codes.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { resolvePrompt } from '../storage/prompts.ts';
import { SETTINGS, setSetting } from '../storage/settings.ts';
import { buildDiagnostics, type DiagnosticsMeta } from './diagnostics.ts';
import { SeedAccount, seedAccounts, seedBackupHistory } from './dev-seed.ts';
import { retryNow } from './retry-due.ts';
import { isRefused, requeueRefused, startAgain } from './relay-runs.ts';
import { Password, SafeId } from '../protocol/common.ts';
import { RestoreParams } from '../protocol/restore-params.ts';
import { DownloadParams } from '../protocol/download-params.ts';
import { MigrateParams } from '../protocol/migrate-params.ts';
import { ArchiveCall } from '../protocol/archive-browse.ts';
import { createJob } from '../storage/jobs.ts';
import type { ResultOf } from '../protocol/relay-frames.ts';
import { AccountInput, issuesOf } from '../storage/account-input.ts';
import type { SaveAccountResult } from '../storage/accounts.ts';
import { backupJobOf } from '../storage/jobs.ts';
import { newId } from '../storage/new-id.ts';
import { errorHint } from '../status/error-hints.ts';
import { imapAccountOf, type Coordinator } from './coordinator.ts';
import type { PlanTarget } from './restore-plan.ts';
import { optionsPathFor } from './notification-ids.ts';
import type { BackgroundPorts } from './ports.ts';
import { OAuthProviderRef, type OAuthFlowStatus } from '../protocol/oauth.ts';
import { refusalAdvice } from '../options/presets.ts';
import { TEST_HOOKS_BUILD, isTestOnlyMessage } from './test-hooks.ts';

/** A user's job with its kind's own parameters; a dry run is a plan (plan-restore), never a stored job. */
export const StartJob = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('restore'), accountId: SafeId, params: RestoreParams }),
  z.strictObject({ kind: z.literal('download'), accountId: SafeId, params: DownloadParams }),
  z.strictObject({ kind: z.literal('migrate'), accountId: SafeId, params: MigrateParams }),
]);
export type StartJob = z.input<typeof StartJob>;

/**
 * The service worker's message API, used by the pages and by the tests. Every message is
 * validated; every change goes through the store functions (and so through the state machine).
 */
export const Message = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ping') }),
  z.strictObject({ type: z.literal('recompute') }),
  // The password passes through here once, on its way to the relay; it is never stored in the browser.
  z.strictObject({ type: z.literal('save-account'), accountId: z.string().optional(), input: z.unknown(), password: Password.optional() }),
  z.strictObject({ type: z.literal('test-connection'), accountId: z.string().optional(), input: z.unknown(), password: Password.optional() }),
  // "Sign in with Google/Microsoft" and "Sign in again": the relay runs the flow; the worker opens
  // its authorization URL in a new tab. No token or code ever passes through the browser's stores.
  z.strictObject({ type: z.literal('oauth-start'), provider: OAuthProviderRef, email: z.email().max(320), accountId: SafeId.optional() }),
  z.strictObject({ type: z.literal('oauth-status'), flowId: SafeId }),
  z.strictObject({ type: z.literal('pair'), port: z.coerce.number().int().min(1).max(65535), code: z.string().trim().min(4).max(32) }),
  z.strictObject({ type: z.literal('relay-check') }),
  z.strictObject({ type: z.literal('backup-now'), accountId: z.string() }),
  z.strictObject({ type: z.literal('remove-account'), accountId: z.string() }),
  z.strictObject({ type: z.literal('enable-account'), accountId: z.string() }),
  z.strictObject({ type: z.literal('retry-now'), jobId: z.string() }),
  // "Start again" of a job the relay has no record of (JobRow.relayUnknownSince): the user's decision.
  z.strictObject({ type: z.literal('start-again'), jobId: z.string() }),
  z.strictObject({ type: z.literal('cancel-job'), jobId: z.string() }),
  z.strictObject({ type: z.literal('resolve-prompt'), promptId: z.string(), resolution: z.enum(['accepted', 'dismissed']) }),
  // The dry run shown before a restore is confirmed (writes nothing): a prompt's set or a new restore.
  z.strictObject({ type: z.literal('plan-restore'), promptId: z.string().optional(), accountId: SafeId.optional(), params: RestoreParams.optional() }),
  // A restore, download or migrate job in the store, driven by the coordinator like a backup.
  z.strictObject({ type: z.literal('start-job'), job: StartJob }),
  // The Archive page: browse, search and preview an account's archive (read-only; the relay answers).
  z.strictObject({ type: z.literal('archive'), call: ArchiveCall }),
  z.strictObject({ type: z.literal('open-options'), accountId: z.string().optional() }),
  z.strictObject({ type: z.literal('diagnostics') }),
  z.strictObject({ type: z.literal('set-restore-prompts'), value: SETTINGS.restorePrompts.schema }),
  // Test and benchmark seeding (see dev-seed.ts): same store functions as the product. The dev:*
  // messages are refused unless the build has its test hooks on (test-hooks.ts).
  z.strictObject({ type: z.literal('dev:seed'), accounts: z.array(SeedAccount) }),
  z.strictObject({ type: z.literal('dev:history'), events: z.number().int().min(0).max(100_000) }),
]);
export type Message = z.input<typeof Message>;


/** `position`: where a search query stops making sense (SEARCH_QUERY_INVALID), for the Archive page's search box. */
export type Reply<T = unknown> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; position?: number };

/** Messages after which the badge must be recomputed before answering. */
const MUTATING = new Set(['cancel-job', 'start-job', 'save-account', 'remove-account', 'enable-account', 'retry-now', 'start-again', 'resolve-prompt', 'dev:seed', 'dev:history', 'recompute', 'backup-now', 'pair', 'relay-check']);

/** Messages after which the coordinator makes a pass (start what was queued, reconcile). */
const DRIVING = new Set(['cancel-job', 'save-account', 'enable-account', 'retry-now', 'start-again', 'backup-now', 'relay-check', 'recompute', 'resolve-prompt', 'start-job']);

export function drivesRelay(message: unknown): boolean {
  return typeof message === 'object' && message !== null && DRIVING.has(String((message as { type?: unknown }).type));
}

function needCoordinator(coordinator: Coordinator | undefined): Coordinator {
  if (!coordinator) throw new MailkeepError('RELAY_UNPAIRED', 'no relay link in this context');
  return coordinator;
}

export interface SaveAccountReply {
  saved: SaveAccountResult;
  /** What the relay said about the account; null when it could not be reached. */
  relay: { hasPassword: boolean } | null;
  relayErrorCode: ErrorCode | null;
}

export type TestConnectionReply = ResultOf<'account.test'> & { hint: string | null; advice?: string | null };

/** The page follows the sign-in by its flowId (oauth-status) until it completes or fails. */
export interface OAuthStartReply {
  flowId: string;
  expiresAt: string;
}

export type OAuthStatusReply = Exclude<OAuthFlowStatus, { state: 'failed' }> | (Extract<OAuthFlowStatus, { state: 'failed' }> & { hint: string | null });

export function isMutating(message: unknown): boolean {
  return typeof message === 'object' && message !== null && MUTATING.has(String((message as { type?: unknown }).type));
}

export interface HandlerOptions {
  /** Answer the test-only dev:* messages; defaults to the build's flag (off in production). */
  testHooks?: boolean;
}

export async function handleMessage(db: MailkeepDb, ports: BackgroundPorts, meta: DiagnosticsMeta, raw: unknown, coordinator?: Coordinator, options: HandlerOptions = {}): Promise<Reply> {
  try {
    if (isTestOnlyMessage(raw) && !(options.testHooks ?? TEST_HOOKS_BUILD)) {
      throw new MailkeepError('INVALID_INPUT', 'test-only messages are not available in this build');
    }
    const parsed = Message.safeParse(raw);
    if (!parsed.success) throw new MailkeepError('INVALID_INPUT', `unknown or malformed message: ${parsed.error.issues[0]?.message ?? ''}`);
    const msg = parsed.data;
    switch (msg.type) {
      case 'ping':
      case 'recompute':
        return { ok: true, value: null };
      case 'save-account':
        return { ok: true, value: await saveWithRelay(db, coordinator, msg.input, msg.accountId, msg.password) };
      case 'test-connection': {
        const input = AccountInput.safeParse(msg.input);
        if (!input.success) throw new MailkeepError('INVALID_INPUT', 'Correct the highlighted fields first.', { issues: issuesOf(input.error) });
        // An account the relay signs in with OAuth2 is tested as stored (its token): the form has no password for it.
        const stored = msg.accountId && !msg.password ? await db.accounts.get(msg.accountId) : undefined;
        const target = stored?.relay?.oauthProvider ? { accountId: stored.id } : imapAccountOf({ ...input.data, id: msg.accountId ?? 'connection-test' });
        const result = await needCoordinator(coordinator).testAccount(target, msg.password);
        // A provider that wants an app password (or IMAP switched on) says so in its own words:
        // the advice with the steps and the page beats a bare "authentication failed".
        const advice = result.ok ? null : refusalAdvice(input.data.email, input.data.host, result.message, result.errorCode);
        const hint = result.ok ? null : (advice ?? errorHint(result.errorCode));
        // `advice`: the provider's own steps alone, for the edit form (lib/status/test-connection-words.ts).
        const reply: TestConnectionReply = { ...result, hint, advice };
        return { ok: true, value: reply };
      }
      case 'oauth-start': {
        if (!ports.openUrl) throw new MailkeepError('INVALID_INPUT', 'this browser context cannot open a sign-in tab');
        const started = await needCoordinator(coordinator).startOAuth({ provider: msg.provider, email: msg.email, ...(msg.accountId ? { accountId: msg.accountId } : {}) });
        await ports.openUrl(started.authorizationUrl);
        const reply: OAuthStartReply = { flowId: started.flowId, expiresAt: started.expiresAt };
        return { ok: true, value: reply };
      }
      case 'oauth-status': {
        const status = await needCoordinator(coordinator).oauthStatus(msg.flowId);
        const reply: OAuthStatusReply = status.state === 'failed' ? { ...status, hint: errorHint(status.code) } : status;
        return { ok: true, value: reply };
      }
      case 'pair':
        return { ok: true, value: await needCoordinator(coordinator).pair(msg.port, msg.code) };
      case 'relay-check':
        return { ok: true, value: null };
      case 'backup-now':
        return { ok: true, value: await backupNow(db, needCoordinator(coordinator), msg.accountId) };
      case 'remove-account':
        await needCoordinator(coordinator).deleteAccount(msg.accountId);
        return { ok: true, value: null };
      case 'enable-account': {
        const account = await db.accounts.get(msg.accountId);
        if (!account) throw new MailkeepError('NOT_FOUND', `account ${msg.accountId} does not exist`, { accountId: msg.accountId });
        await needCoordinator(coordinator).setSchedule(msg.accountId, account.resumeSchedule);
        return { ok: true, value: null };
      }
      case 'retry-now':
        await retryJob(db, coordinator, msg.jobId);
        return { ok: true, value: null };
      case 'start-again':
        await startAgain(db, msg.jobId);
        return { ok: true, value: null };
      case 'cancel-job': {
        const job = await db.jobs.get(msg.jobId);
        if (!job?.relayJobId) throw new MailkeepError('NOT_FOUND', `job ${msg.jobId} is not running on the relay`, { jobId: msg.jobId });
        await needCoordinator(coordinator).cancelJob(job.relayJobId);
        return { ok: true, value: null };
      }
      case 'resolve-prompt':
        // The restore job's id (accepted), so the page can follow it; null when dismissed.
        return { ok: true, value: (await resolvePrompt(db, msg.promptId, msg.resolution))?.id ?? null };
      case 'plan-restore':
        return { ok: true, value: await needCoordinator(coordinator).planRestore(planTargetOf(msg)) };
      case 'start-job':
        return { ok: true, value: (await startJob(db, msg.job)).id };
      case 'archive': {
        const link = needCoordinator(coordinator);
        if (!link.archive) throw new MailkeepError('INVALID_INPUT', 'this context cannot browse the archive');
        return { ok: true, value: await link.archive(msg.call) };
      }
      case 'open-options':
        await ports.openPage(msg.accountId ? optionsPathFor(msg.accountId) : '/options.html');
        return { ok: true, value: null };
      case 'diagnostics':
        return { ok: true, value: await buildDiagnostics(db, meta, Date.now(), await coordinator?.diagnostics()) };
      case 'set-restore-prompts':
        await setSetting(db, 'restorePrompts', msg.value);
        return { ok: true, value: null };
      case 'dev:seed':
        return { ok: true, value: await seedAccounts(db, msg.accounts) };
      case 'dev:history':
        return { ok: true, value: await seedBackupHistory(db, msg.events) };
    }
  } catch (err) {
    const position = err instanceof MailkeepError && typeof err.details.position === 'number' ? err.details.position : undefined;
    return { ok: false, code: errorCodeOf(err), message: err instanceof Error ? err.message : String(err), ...(position !== undefined ? { position } : {}) };
  }
}

/**
 * The relay owns accounts: the settings, schedule and (if typed) password go to it, and what it
 * answers is mirrored. With the relay not reachable nothing is saved (the form says so): a save
 * only the browser knew would be a status the relay never gave.
 */
async function saveWithRelay(db: MailkeepDb, coordinator: Coordinator | undefined, raw: unknown, accountId: string | undefined, password: string | undefined): Promise<SaveAccountReply> {
  const input = AccountInput.safeParse(raw);
  if (!input.success) return { saved: { ok: false, issues: issuesOf(input.error) }, relay: null, relayErrorCode: null };
  if (accountId && !(await db.accounts.get(accountId))) throw new MailkeepError('NOT_FOUND', `account ${accountId} does not exist`, { accountId });
  const id = accountId ?? newId();
  try {
    const link = needCoordinator(coordinator);
    const before = accountId ? await backupJobOf(db, accountId) : undefined;
    const result = await link.upsertAccount({ ...input.data, id }, password);
    const account = await db.accounts.get(id);
    if (!account) throw new MailkeepError('RELAY_UNREACHABLE', 'the relay did not report the account back');
    // A new mailbox saved with its password, or one edited after an Authentication Error with a new
    // password: the user means "back it up now", not at the relay's first slot a minute later.
    const firstSave = !accountId;
    if (password && (firstSave || before?.status === 'authentication_error') && account.schedule.kind !== 'off') {
      try {
        await link.backupNow(id);
      } catch {
        // Saved all the same: the relay's own first run (SCHEDULE_LIMITS.firstBackupDelayMs) follows.
      }
    }
    return { saved: { ok: true, account }, relay: { hasPassword: result.hasPassword }, relayErrorCode: null };
  } catch (err) {
    const code = errorCodeOf(err);
    return { saved: { ok: false, issues: { form: `Nothing was saved: ${errorHint(code) ?? 'the relay did not answer.'}` } }, relay: null, relayErrorCode: code };
  }
}

/** "Retry now": the relay runs the job again (job.retry); the row follows what it reports. */
export async function retryJob(db: MailkeepDb, coordinator: Coordinator | undefined, jobId: string): Promise<void> {
  const row = await db.jobs.get(jobId);
  if (!row) throw new MailkeepError('NOT_FOUND', `job ${jobId} does not exist`, { jobId });
  const link = needCoordinator(coordinator);
  // The relay never ran a refused run (no password then, say): queued again, the next pass starts it.
  if (isRefused(row)) await requeueRefused(db, jobId);
  else await retryNow(db, link, jobId);
  await link.pump();
}

function planTargetOf(msg: { promptId?: string | undefined; accountId?: string | undefined; params?: RestoreParams | undefined }): PlanTarget {
  if (msg.promptId !== undefined) return { promptId: msg.promptId };
  if (msg.accountId !== undefined && msg.params !== undefined) return { accountId: msg.accountId, params: msg.params };
  throw new MailkeepError('INVALID_INPUT', 'plan-restore needs a promptId, or an accountId with params');
}

/** Queues a user's restore, download or migrate; the coordinator starts it with exactly these params. */
export async function startJob(db: MailkeepDb, job: z.output<typeof StartJob>) {
  if ('dryRun' in job.params && job.params.dryRun) throw new MailkeepError('INVALID_INPUT', 'a dry run is a plan, not a job: use plan-restore');
  if (!(await db.accounts.get(job.accountId))) throw new MailkeepError('NOT_FOUND', `account ${job.accountId} does not exist`, { accountId: job.accountId });
  return createJob(db, { kind: job.kind, accountId: job.accountId, params: job.params });
}

/**
 * "Back up now": the relay starts a run at once (true), unless one is under way or the schedule is
 * off (false: nothing new started; the page says so). Only the relay knows whether a run is under
 * way: the mirror's running row may be one whose end has not reached the browser yet, so it is
 * asked every time; a run it has begun that the mirror has not heard of is "under way" too
 * (coordinator.backupNow: created false).
 */
async function backupNow(db: MailkeepDb, coordinator: Coordinator, accountId: string): Promise<boolean> {
  const account = await db.accounts.get(accountId);
  if (!account) throw new MailkeepError('NOT_FOUND', `account ${accountId} does not exist`, { accountId });
  const job = await backupJobOf(db, accountId);
  if (account.schedule.kind === 'off' || job?.status === 'deactivated') return false;
  return (await coordinator.backupNow(accountId)).created;
}
