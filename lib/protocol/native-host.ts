import { z } from '../zod.ts';
import { ErrorCode } from './error-code-schema.ts';

/**
 * The native-messaging host `mailkeep native-host` (docs/relay-protocol.md, "Native messaging").
 * The extension calls `chrome.runtime.connectNative(NATIVE_HOST_NAME)` (or sendNativeMessage) and
 * sends `connect`; the host makes sure the relay runs and answers where it listens plus a fresh
 * one-time pairing code, which the extension exchanges for its token at `POST /pair` exactly as if
 * a person had typed it. Framing (32-bit native-endian length + UTF-8 JSON) is the browser's.
 */

/** The host's registered name: lower case, dots and underscores only (Chromium refuses others). */
export const NATIVE_HOST_NAME = 'org.mailkeep.relay';

/** Versions of this small message set; the reply says which one the host speaks. */
export const NATIVE_HOST_PROTOCOL_VERSION = 1;

/** A request id the extension picks, echoed in the reply (null when the request was unreadable). */
const RequestId = z.string().min(1).max(64);

/** extension -> host. */
export const NativeConnectRequest = z.strictObject({
  type: z.literal('connect'),
  id: RequestId.optional(),
  /**
   * true (default): also mint a one-time pairing code. false: only start/locate the relay, for an
   * extension that already holds a token (a code it does not need would replace one the user may
   * have just printed with `mailkeep pair`).
   */
  pair: z.boolean().optional(),
});
export type NativeConnectRequest = z.infer<typeof NativeConnectRequest>;

export const NativeHostRequest = z.discriminatedUnion('type', [NativeConnectRequest]);
export type NativeHostRequest = z.infer<typeof NativeHostRequest>;

/** How the host found the relay: already running, started through the OS service manager, or spawned detached. */
export const RelayStartedBy = z.enum(['already-running', 'service-manager', 'spawned']);
export type RelayStartedBy = z.infer<typeof RelayStartedBy>;

/** host -> extension: the relay is listening. */
export const NativeConnectedReply = z.strictObject({
  type: z.literal('connected'),
  id: RequestId.nullable(),
  version: z.literal(NATIVE_HOST_PROTOCOL_VERSION),
  /** Always `http://127.0.0.1:<port>`; the WebSocket is at the same origin, path /ws. */
  url: z.string().regex(/^http:\/\/127\.0\.0\.1:\d{1,5}$/),
  port: z.number().int().min(1).max(65535),
  startedBy: RelayStartedBy,
  /** Present when `pair` was not false: POST it to `${url}/pair` as `{code}` within its lifetime. */
  pairing: z
    .strictObject({
      code: z.string().min(4).max(32),
      /** Epoch milliseconds after which the relay refuses the code. */
      expiresAt: z.number().int(),
    })
    .optional(),
});
export type NativeConnectedReply = z.infer<typeof NativeConnectedReply>;

/**
 * host -> extension: a refusal or failure with a stable code:
 * - `NATIVE_CALLER_REFUSED`: the caller origin the browser passed is not the pinned extension;
 * - `RELAY_START_FAILED`: the relay did not come up before the deadline (the message says which log to read);
 * - `INVALID_INPUT`: the message is not JSON, not a known request, or too large;
 * - anything else the relay's start can raise (e.g. `CREDENTIALS_UNREADABLE` is only in its log).
 */
export const NativeErrorReply = z.strictObject({
  type: z.literal('error'),
  id: RequestId.nullable(),
  code: ErrorCode,
  message: z.string().max(1024),
});
export type NativeErrorReply = z.infer<typeof NativeErrorReply>;

export const NativeHostReply = z.discriminatedUnion('type', [NativeConnectedReply, NativeErrorReply]);
export type NativeHostReply = z.infer<typeof NativeHostReply>;
