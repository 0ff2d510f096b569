import type { NativeHostPorts, NativePortLike } from '@/lib/background/native-host-link';
import type { FakeRelayWire } from './fake-relay-socket';

/**
 * The browser's connectNative with a host behind it, faked at the port: `present = false` behaves
 * as Chromium does without a registered host ("Specified native messaging host not found."), and
 * a connect starts the relay (`wire.up = true`) and hands over its port and the wire's code.
 */
export class FakeNativeHost implements NativeHostPorts {
  present = true;
  /** What the host answers instead of "connected" (e.g. a RELAY_START_FAILED error), when set. */
  failWith: { code: string; message: string } | null = null;
  /** Every connect request the host received. */
  readonly requests: { type: string; id?: string; pair?: boolean }[] = [];
  private lastError: string | undefined;

  constructor(private wire: FakeRelayWire, private port = 7412) {}

  lastErrorMessage(): string | undefined {
    return this.lastError;
  }

  connectNative(name: string): NativePortLike {
    const messageListeners: ((m: unknown) => void)[] = [];
    const disconnectListeners: (() => void)[] = [];
    const disconnect = (error?: string) =>
      queueMicrotask(() => {
        this.lastError = error;
        for (const l of disconnectListeners) l();
        this.lastError = undefined;
      });
    if (!this.present || name !== 'org.mailkeep.relay') disconnect('Specified native messaging host not found.');
    return {
      onMessage: { addListener: (l) => void messageListeners.push(l) },
      onDisconnect: { addListener: (l) => void disconnectListeners.push(l) },
      disconnect: () => undefined,
      postMessage: (raw) => {
        if (!this.present) return;
        const req = raw as { type: string; id?: string; pair?: boolean };
        this.requests.push(req);
        queueMicrotask(() => {
          const reply = this.failWith
            ? { type: 'error', id: req.id ?? null, ...this.failWith }
            : {
                type: 'connected',
                id: req.id ?? null,
                version: 1,
                url: `http://127.0.0.1:${this.port}`,
                port: this.port,
                startedBy: this.wire.up ? 'already-running' : 'spawned',
                ...(req.pair === false ? {} : { pairing: { code: this.wire.code, expiresAt: Date.now() + 600_000 } }),
              };
          if (!this.failWith) this.wire.up = true;
          for (const l of messageListeners) l(reply);
        });
      },
    };
  }
}
