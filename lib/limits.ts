/**
 * Every numeric limit of Mailkeep, each with its reason. Shared by the extension and the relay;
 * platform-free. Add new limits here, never as literals at the call site.
 */
export const LIMITS = {
  /** Mail servers take seconds to answer a login under load; 20 s is generous yet still bounded. */
  imapConnectTimeoutMs: 20_000,
  /** Dovecot greets in ~65 ms here; a server that has not greeted in 15 s is not going to. */
  imapGreetingTimeoutMs: 15_000,
  /** A stalled server (no byte for this long mid-command) is treated as a lost connection. */
  imapSocketTimeoutMs: 60_000,
} as const;
