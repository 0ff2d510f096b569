import type { OAuthStartReply, OAuthStatusReply } from '../background/messages.ts';
import { EXTENSION_LIMITS } from '../limits.ts';
import { errorHint } from '../status/error-hints.ts';
import { sendMessage } from './send-message.ts';

export type SignInOutcome = { ok: true; accountId: string } | { ok: false; code: string; text: string };

/**
 * Runs a sign-in from a page: the worker asks the relay (oauth.start) and opens the provider's page
 * in a new tab; this follows it (oauth.status) until it completes or fails, and at the latest until
 * the flow's own deadline (the relay fails it then with OAUTH_FLOW_EXPIRED).
 */
export async function signInWithProvider(
  params: { provider: string; email: string; accountId?: string | undefined },
  onStarted: () => void = () => undefined,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  now: () => number = Date.now,
): Promise<SignInOutcome> {
  const started = await sendMessage<OAuthStartReply>({ type: 'oauth-start', provider: params.provider, email: params.email, ...(params.accountId ? { accountId: params.accountId } : {}) });
  if (!started.ok) {
    // The relay's refusal names this relay's own file and variable ("put one in …/providers.json or
    // MAILKEEP_OAUTH_GOOGLE_CLIENT_ID"): exactly what to do, so it is shown with the hint.
    const hint = errorHint(started.code);
    const text = hint && started.code === 'OAUTH_NOT_CONFIGURED' ? `${hint} The relay says: ${started.message}` : (hint ?? started.message);
    return { ok: false, code: started.code, text };
  }
  onStarted();
  // The relay's deadline plus a few polls: its own failure (expired) is the answer we want to show.
  const deadline = Date.parse(started.value.expiresAt) + 5 * EXTENSION_LIMITS.oauthPollMs;
  while (now() < deadline) {
    await sleep(EXTENSION_LIMITS.oauthPollMs);
    const status = await sendMessage<OAuthStatusReply>({ type: 'oauth-status', flowId: started.value.flowId });
    if (!status.ok) {
      // The relay restarted (the flow is gone) or cannot be reached: keep asking until the deadline.
      if (status.code === 'NOT_FOUND') return { ok: false, code: status.code, text: errorHint('OAUTH_FLOW_EXPIRED') ?? status.message };
      continue;
    }
    if (status.value.state === 'completed') return { ok: true, accountId: status.value.accountId };
    if (status.value.state === 'failed') return { ok: false, code: status.value.code, text: status.value.hint ?? status.value.message };
  }
  return { ok: false, code: 'OAUTH_FLOW_EXPIRED', text: errorHint('OAUTH_FLOW_EXPIRED') ?? 'The sign-in was not finished in time.' };
}
