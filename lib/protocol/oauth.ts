import { z } from '../zod.ts';
import { ErrorCode } from './error-code-schema.ts';
import { SafeId, Timestamp } from './ids.ts';

/**
 * OAuth2 sign-in, run by the relay (docs/relay-protocol.md "OAuth2 sign-in", docs/oauth.md).
 * The extension (or the CLI) asks for `oauth.start`, opens `authorizationUrl` in a tab, and learns
 * the outcome from the `oauth.completed` / `oauth.failed` event or by asking `oauth.status`.
 * Tokens, the PKCE verifier and `state` never leave the relay.
 */

/** `google`, `microsoft`, or the id of a custom provider the relay knows (a file path from the CLI). */
export const OAuthProviderRef = z.string().min(1).max(1024);

export const OAuthStartParams = z.strictObject({
  provider: OAuthProviderRef,
  /** The address to sign in as; it becomes the account's IMAP login. */
  email: z.email().max(320),
  /** Sign in again for this existing account; a new account's id is made from the address. */
  accountId: SafeId.optional(),
});

export const OAuthStartResult = z.strictObject({
  flowId: SafeId,
  /** Open this in a browser tab; the provider redirects to the relay's /oauth/callback. */
  authorizationUrl: z.url().max(8192),
  expiresAt: Timestamp,
});

export const OAuthFlowStatus = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('pending') }),
  z.strictObject({ state: z.literal('completed'), accountId: SafeId }),
  z.strictObject({ state: z.literal('failed'), code: ErrorCode, message: z.string().max(1024) }),
]);
export type OAuthFlowStatus = z.infer<typeof OAuthFlowStatus>;

export const OAuthCompletedEvent = z.strictObject({
  event: z.literal('oauth.completed'),
  flowId: SafeId,
  /** The account now signed in (created, or updated on a sign-in again); its first backup starts. */
  accountId: SafeId,
  at: Timestamp,
});

export const OAuthFailedEvent = z.strictObject({
  event: z.literal('oauth.failed'),
  flowId: SafeId,
  /** OAUTH_FLOW_FAILED, OAUTH_FLOW_EXPIRED, OAUTH_UNREACHABLE, OAUTH_NOT_CONFIGURED... */
  code: ErrorCode,
  message: z.string().max(1024),
  at: Timestamp,
});

export const OAuthFlowEvent = z.discriminatedUnion('event', [OAuthCompletedEvent, OAuthFailedEvent]);
export type OAuthFlowEvent = z.infer<typeof OAuthFlowEvent>;
