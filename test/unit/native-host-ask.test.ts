import { describe, expect, it } from 'vitest';
import { askNativeHost, type NativeHostPorts, type NativePortLike } from '@/lib/background/native-host-link';

/** A port whose host does what `script` says with the request it gets. */
function hostThat(script: (req: { id: string; pair: boolean }, port: { reply(m: unknown): void; exit(lastError?: string): void }) => void, opts: { throwOnConnect?: string } = {}): NativeHostPorts & { names: string[] } {
  let lastError: string | undefined;
  const names: string[] = [];
  return {
    names,
    lastErrorMessage: () => lastError,
    connectNative(name) {
      names.push(name);
      if (opts.throwOnConnect) throw new Error(opts.throwOnConnect);
      const onMessage: ((m: unknown) => void)[] = [];
      const onDisconnect: (() => void)[] = [];
      const port: NativePortLike = {
        onMessage: { addListener: (l) => void onMessage.push(l) },
        onDisconnect: { addListener: (l) => void onDisconnect.push(l) },
        disconnect: () => undefined,
        postMessage: (raw) =>
          queueMicrotask(() =>
            script(raw as { id: string; pair: boolean }, {
              reply: (m) => onMessage.forEach((l) => l(m)),
              exit: (e) => {
                lastError = e;
                onDisconnect.forEach((l) => l());
                lastError = undefined;
              },
            }),
          ),
      };
      return port;
    },
  };
}

const connected = (id: string | null, extra: Record<string, unknown> = {}) => ({ type: 'connected', id, version: 1, url: 'http://127.0.0.1:7412', port: 7412, startedBy: 'spawned', ...extra });

describe('asking the native-messaging host where the relay is', () => {
  it('asks org.mailkeep.relay for a code only when told to, and returns the relay\'s address and the code', async () => {
    const host = hostThat((req, p) => p.reply(connected(req.id, req.pair ? { pairing: { code: 'K7QM-2XWD', expiresAt: 1 } } : {})));
    expect(await askNativeHost(host, true)).toEqual({ ok: true, reply: connected(expect.any(String), { pairing: { code: 'K7QM-2XWD', expiresAt: 1 } }) });
    const plain = await askNativeHost(host, false);
    expect(plain.ok && plain.reply.pairing).toBeUndefined();
    expect(host.names).toEqual(['org.mailkeep.relay', 'org.mailkeep.relay']);
  });

  it('calls a host the browser cannot find "missing", so code pairing is offered', async () => {
    const host = hostThat((_, p) => p.exit('Specified native messaging host not found.'));
    expect(await askNativeHost(host, true)).toMatchObject({ ok: false, outcome: 'missing' });
  });

  it('calls a browser without native messaging (the API throws) "missing" too', async () => {
    const host = hostThat(() => undefined, { throwOnConnect: 'chrome.runtime.connectNative is not a function' });
    expect(await askNativeHost(host, true)).toMatchObject({ ok: false, outcome: 'missing' });
  });

  it('calls a host that exits, is refused, refuses or answers nonsense "failed", with a stable code', async () => {
    expect(await askNativeHost(hostThat((_, p) => p.exit('Native host has exited.')), true)).toMatchObject({ ok: false, outcome: 'failed', code: 'RELAY_UNREACHABLE' });
    expect(await askNativeHost(hostThat((_, p) => p.exit('Access to the specified native messaging host is forbidden.')), true)).toMatchObject({ ok: false, outcome: 'failed' });
    expect(await askNativeHost(hostThat((req, p) => p.reply({ type: 'error', id: req.id, code: 'RELAY_START_FAILED', message: 'see relay.log' })), true)).toMatchObject({ ok: false, outcome: 'failed', code: 'RELAY_START_FAILED' });
    expect(await askNativeHost(hostThat((req, p) => p.reply({ type: 'connected', id: req.id, url: 'http://evil.example:80' })), true)).toMatchObject({ ok: false, outcome: 'failed', code: 'PROTOCOL_MISMATCH' });
  });

  it('ignores an answer to another question and gives up on a host that never answers, within its deadline', async () => {
    const host = hostThat((_, p) => p.reply(connected('someone-else')));
    expect(await askNativeHost(host, true, 50)).toMatchObject({ ok: false, outcome: 'failed', code: 'RELAY_START_FAILED' });
  });
});
