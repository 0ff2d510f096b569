import { z } from '../zod.ts';
import { MailkeepError, errorCodeOf, type ErrorCode } from '../protocol/error-codes.ts';
import type { MailkeepDb } from '../storage/db.ts';
import { enableAccount, removeAccount, saveAccount } from '../storage/accounts.ts';
import { resolvePrompt } from '../storage/prompts.ts';
import { SETTINGS, setSetting } from '../storage/settings.ts';
import { buildDiagnostics, type DiagnosticsMeta } from './diagnostics.ts';
import { SeedAccount, seedAccounts, seedBackupHistory } from './dev-seed.ts';
import { retryNow } from './retry-due.ts';
import { optionsPathFor } from './notification-ids.ts';
import type { BackgroundPorts } from './ports.ts';

/**
 * The service worker's message API, used by the pages and by the tests. Every message is
 * validated; every change goes through the store functions (and so through the state machine).
 */
export const Message = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ping') }),
  z.strictObject({ type: z.literal('recompute') }),
  z.strictObject({ type: z.literal('save-account'), accountId: z.string().optional(), input: z.unknown() }),
  z.strictObject({ type: z.literal('remove-account'), accountId: z.string() }),
  z.strictObject({ type: z.literal('enable-account'), accountId: z.string() }),
  z.strictObject({ type: z.literal('retry-now'), jobId: z.string() }),
  z.strictObject({ type: z.literal('resolve-prompt'), promptId: z.string(), resolution: z.enum(['accepted', 'dismissed']) }),
  z.strictObject({ type: z.literal('open-options'), accountId: z.string().optional() }),
  z.strictObject({ type: z.literal('diagnostics') }),
  z.strictObject({ type: z.literal('set-restore-prompts'), value: SETTINGS.restorePrompts.schema }),
  // Test and benchmark seeding (see dev-seed.ts): same store functions as the product.
  z.strictObject({ type: z.literal('dev:seed'), accounts: z.array(SeedAccount) }),
  z.strictObject({ type: z.literal('dev:history'), events: z.number().int().min(0).max(100_000) }),
]);
export type Message = z.input<typeof Message>;

export type Reply<T = unknown> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

/** Messages after which the badge must be recomputed before answering. */
const MUTATING = new Set(['save-account', 'remove-account', 'enable-account', 'retry-now', 'resolve-prompt', 'dev:seed', 'dev:history', 'recompute']);

export function isMutating(message: unknown): boolean {
  return typeof message === 'object' && message !== null && MUTATING.has(String((message as { type?: unknown }).type));
}

export async function handleMessage(db: MailkeepDb, ports: BackgroundPorts, meta: DiagnosticsMeta, raw: unknown): Promise<Reply> {
  try {
    const parsed = Message.safeParse(raw);
    if (!parsed.success) throw new MailkeepError('INVALID_INPUT', `unknown or malformed message: ${parsed.error.issues[0]?.message ?? ''}`);
    const msg = parsed.data;
    switch (msg.type) {
      case 'ping':
      case 'recompute':
        return { ok: true, value: null };
      case 'save-account':
        return { ok: true, value: await saveAccount(db, msg.input, msg.accountId) };
      case 'remove-account':
        await removeAccount(db, msg.accountId);
        return { ok: true, value: null };
      case 'enable-account':
        await enableAccount(db, msg.accountId);
        return { ok: true, value: null };
      case 'retry-now':
        await retryNow(db, msg.jobId);
        return { ok: true, value: null };
      case 'resolve-prompt':
        await resolvePrompt(db, msg.promptId, msg.resolution);
        return { ok: true, value: null };
      case 'open-options':
        await ports.openPage(msg.accountId ? optionsPathFor(msg.accountId) : '/options.html');
        return { ok: true, value: null };
      case 'diagnostics':
        return { ok: true, value: await buildDiagnostics(db, meta) };
      case 'set-restore-prompts':
        await setSetting(db, 'restorePrompts', msg.value);
        return { ok: true, value: null };
      case 'dev:seed':
        return { ok: true, value: await seedAccounts(db, msg.accounts) };
      case 'dev:history':
        return { ok: true, value: await seedBackupHistory(db, msg.events) };
    }
  } catch (err) {
    return { ok: false, code: errorCodeOf(err), message: err instanceof Error ? err.message : String(err) };
  }
}
