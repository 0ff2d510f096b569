import { EXTENSION_LIMITS } from '../limits.ts';
import type { ErrorCode } from '../protocol/error-codes.ts';
import { NATIVE_HOST_NAME, NativeHostReply, type NativeConnectedReply } from '../protocol/native-host.ts';

/** The slice of a chrome.runtime.Port the link uses (a fake in unit tests). */
export interface NativePortLike {
  postMessage(message: unknown): void;
  onMessage: { addListener(listener: (message: unknown) => void): void };
  onDisconnect: { addListener(listener: () => void): void };
  disconnect(): void;
}

/** chrome.runtime.connectNative and the lastError it leaves when the host cannot be launched. */
export interface NativeHostPorts {
  connectNative(name: string): NativePortLike;
  lastErrorMessage(): string | undefined;
}

export type NativeAnswer =
  | { ok: true; reply: NativeConnectedReply }
  /** missing: no host registered for this browser (or the browser cannot launch hosts: Flatpak,
   * Snap); failed: a host ran but gave no usable answer (refused, exited, relay did not start). */
  | { ok: false; outcome: 'missing' | 'failed'; code: ErrorCode; message: string };

/**
 * Chromium's words when the host cannot be found at all (docs: integration-recipes.md 2.3): no
 * manifest, a relative path, malformed JSON. A Flatpak or Snap browser sees the same, as its
 * sandbox hides the host. Anything else means a host exists and failed.
 */
const NOT_FOUND = /host not found|not found/i;

/**
 * Asks the native-messaging host where the relay listens (starting it if needed) and, with
 * `pair`, for a fresh one-time pairing code. One port per question: the host exits when the port
 * closes, and the relay it started keeps running. Never throws; a missing host is an answer.
 */
export function askNativeHost(ports: NativeHostPorts, pair: boolean, timeoutMs: number = EXTENSION_LIMITS.nativeHostReplyTimeoutMs): Promise<NativeAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    let port: NativePortLike | null = null;
    const id = `mk-${Date.now().toString(36)}`;
    const finish = (answer: NativeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        port?.disconnect();
      } catch {
        // already gone
      }
      resolve(answer);
    };
    const timer = setTimeout(
      () => finish({ ok: false, outcome: 'failed', code: 'RELAY_START_FAILED', message: `the Mailkeep host gave no answer within ${timeoutMs / 1000} s` }),
      timeoutMs,
    );
    try {
      port = ports.connectNative(NATIVE_HOST_NAME);
    } catch (err) {
      // Without the nativeMessaging permission (or API) there is nothing to launch.
      finish({ ok: false, outcome: 'missing', code: 'RELAY_UNREACHABLE', message: err instanceof Error ? err.message : String(err) });
      return;
    }
    port.onDisconnect.addListener(() => {
      const why = ports.lastErrorMessage() ?? 'the Mailkeep host closed without answering';
      finish({ ok: false, outcome: NOT_FOUND.test(why) ? 'missing' : 'failed', code: 'RELAY_UNREACHABLE', message: why });
    });
    port.onMessage.addListener((raw) => {
      const parsed = NativeHostReply.safeParse(raw);
      if (!parsed.success) return finish({ ok: false, outcome: 'failed', code: 'PROTOCOL_MISMATCH', message: 'the Mailkeep host answered something this extension does not understand' });
      const reply = parsed.data;
      if (reply.id !== null && reply.id !== id) return; // not the answer to this question
      if (reply.type === 'error') return finish({ ok: false, outcome: 'failed', code: reply.code, message: reply.message });
      finish({ ok: true, reply });
    });
    port.postMessage({ type: 'connect', id, pair });
  });
}
