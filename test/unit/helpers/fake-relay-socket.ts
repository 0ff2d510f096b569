import type { FetchLike, WebSocketLike } from '@/lib/protocol/relay-client';
import { FakeRelay } from './fake-relay';

/**
 * The relay's wire, faked at the socket and fetch level so the real coordinator and relay client
 * run unchanged: GET /health, POST /pair, hello/welcome and request/result frames. `up = false`
 * makes everything fail as a relay that is not running.
 */
export class FakeRelayWire {
  readonly relay = new FakeRelay();
  up = true;
  code = 'K7QM-2XWD';
  token = `mk1_${'x'.repeat(43)}`;
  paired = false;
  /** Every password the relay received, to prove it was sent (and where else it is not). */
  readonly passwords: string[] = [];
  sockets: FakeSocket[] = [];
  /** Answers of oauth.start / oauth.status (the relay's sign-in); unset: INVALID_INPUT. */
  onOAuth?: (method: 'oauth.start' | 'oauth.status', params: any) => unknown;
  /** What account.test answers to a wrong password (a provider's own refusal text). */
  testRefusal = 'refused';

  constructor() {
    this.relay.onAccountChanged = (event) => {
      for (const s of this.sockets) if (s.readyState === 1 && s.authed) s.push(event);
    };
  }

  fetch: FetchLike = async (url, init) => {
    if (!this.up) throw new TypeError('Failed to fetch');
    const path = new URL(url).pathname;
    if (path === '/health') return json(200, { name: 'mailkeep-relay', version: '9.9.9', protocolVersions: [1], paired: this.paired });
    if (path === '/pair') {
      const body = JSON.parse(init.body ?? '{}') as { code: string };
      if (body.code !== this.code) return json(401, { error: { code: 'PAIRING_FAILED', message: 'wrong code' } });
      this.paired = true;
      return json(200, { token: this.token, protocolVersions: [1] });
    }
    return json(404, { error: { code: 'NOT_FOUND', message: 'no such path' } });
  };

  openSocket = (url: string): WebSocketLike => {
    const s = new FakeSocket(this, url);
    this.sockets.push(s);
    return s;
  };
}

function json(status: number, body: unknown) {
  return { status, json: async () => body };
}

type Listener = (e: any) => void;

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  /** hello accepted: only such sockets get pushed events, as on the real relay. */
  authed = false;
  private listeners = new Map<string, Listener[]>();
  constructor(private wire: FakeRelayWire, readonly url: string) {
    queueMicrotask(() => {
      if (!wire.up) {
        this.emit('error', {});
        this.emit('close', { code: 1006, reason: '' });
        return;
      }
      this.readyState = 1;
      this.emit('open', {});
    });
  }
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  private emit(type: string, e: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l(e);
  }
  private reply(frame: unknown): void {
    queueMicrotask(() => this.emit('message', { data: JSON.stringify(frame) }));
  }
  send(data: string): void {
    const frame = JSON.parse(data);
    if (frame.type === 'hello') {
      if (frame.token !== this.wire.token) {
        this.reply({ type: 'error', id: null, code: 'UNAUTHORIZED', message: 'bad token' });
        queueMicrotask(() => this.close(4401));
        return;
      }
      this.authed = true;
      this.reply({ type: 'welcome', version: 1, relay: { name: 'mailkeep-relay', version: '9.9.9' } });
      return;
    }
    const { id, method, params } = frame;
    void (async () => {
      try {
        if (method === 'account.upsert') {
          if (params.password) this.wire.passwords.push(params.password);
          const state = this.wire.relay.upsert(params.account, params.schedule);
          return this.reply({ type: 'result', id, result: { accountId: params.account.id, hasPassword: true, state } });
        }
        if (method === 'account.test') {
          // A stored account (an OAuth2 one's token) logs in; typed settings need the right password.
          const ok = params.accountId !== undefined || params.password === 'right-password';
          return this.reply({ type: 'result', id, result: ok ? { ok: true, capabilities: ['IMAP4rev1'] } : { ok: false, errorCode: 'AUTH_FAILED', message: this.wire.testRefusal } });
        }
        if (method === 'oauth.start' || method === 'oauth.status') {
          if (!this.wire.onOAuth) throw Object.assign(new Error('unknown OAuth provider'), { code: 'INVALID_INPUT' });
          return this.reply({ type: 'result', id, result: this.wire.onOAuth(method, params) });
        }
        this.reply({ type: 'result', id, result: await this.wire.relay.call(method, params) });
      } catch (err: any) {
        // As the relay's door: a refusal's details (ARCHIVE_LOCKED names the job that runs) travel with it.
        this.reply({ type: 'error', id, code: err.code ?? 'UNKNOWN', message: String(err.message), ...(err.details && Object.keys(err.details).length ? { details: err.details } : {}) });
      }
    })();
  }
  /** Pushes an event frame to this socket, as the relay does to every authenticated one. */
  push(data: unknown): void {
    this.reply({ type: 'event', data });
  }
  close(code = 1000): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close', { code, reason: '' });
  }
}
