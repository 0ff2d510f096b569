import type { OAuthFlowEvent } from './oauth.ts';
import type { z } from '../zod.ts';
import { DOOR_LIMITS } from '../limits.ts';
import { MailkeepError, mailkeepError } from './error-codes.ts';
import type { JobEvent } from './common.ts';
import type { AccountEvent } from './account-state.ts';
import type { RequestFrame, RequestMethod } from './client-frames.ts';
import { RelayFrame, ResultByMethod, type ResultOf } from './relay-frames.ts';
import { HealthResponse, HttpErrorBody, PairResponse } from './http.ts';
import { PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './version.ts';

/**
 * A typed client for the relay, platform-free: the socket and fetch are injected, so the service
 * worker passes `url => new WebSocket(url)` and `fetch`, and Node tests pass the `ws` package.
 * Every wait has a deadline; every failure is a MailkeepError with the relay's code.
 */

/** The part of the WHATWG WebSocket the client uses (browsers and the `ws` package both have it). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (e: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (e: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{
  status: number;
  json(): Promise<unknown>;
}>;

type RequestInput = z.input<typeof RequestFrame>;
/** What a caller passes for a method: defaults (e.g. job.list's limit) may be left out. */
export type ParamsInput<M extends RequestMethod> = Extract<RequestInput, { method: M }>['params'];

export interface RelayConnection {
  /** The negotiated protocol version. */
  readonly version: number;
  call<M extends RequestMethod>(method: M, params: ParamsInput<M>, timeoutMs?: number): Promise<ResultOf<M>>;
  close(): void;
  /** Resolves when the socket has closed, with its close code. */
  readonly closed: Promise<number>;
}

export interface ConnectOptions {
  /** e.g. ws://127.0.0.1:7412/ws */
  url: string;
  token: string;
  client: { name: string; version: string };
  openSocket: (url: string) => WebSocketLike;
  onEvent?: (event: JobEvent) => void;
  /** account.changed / account.removed (relays since issue 11): the mirror's feed, no polling needed. */
  onAccountEvent?: (event: AccountEvent) => void;
  /** oauth.completed / oauth.failed: the end of a sign-in started with oauth.start. */
  onOAuthEvent?: (event: OAuthFlowEvent) => void;
  /** Connect + hello/welcome deadline. */
  connectTimeoutMs?: number;
  /** Default deadline of one request. */
  callTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = DOOR_LIMITS.relayClientConnectTimeoutMs;
const DEFAULT_CALL_TIMEOUT_MS = DOOR_LIMITS.relayClientCallTimeoutMs;

const OPEN = 1;

/** Opens the socket, sends hello with the token, resolves after welcome. */
export function connectRelay(opts: ConnectOptions): Promise<RelayConnection> {
  return new Promise((resolve, reject) => {
    let ws: WebSocketLike;
    try {
      ws = opts.openSocket(opts.url);
    } catch (err) {
      reject(mailkeepError('RELAY_UNREACHABLE', 'cannot open a socket to the relay', {}, err));
      return;
    }
    const pending = new Map<string, { method: RequestMethod; resolve(v: unknown): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> }>();
    let version = 0;
    let nextId = 1;
    let settled = false;
    let resolveClosed: (code: number) => void = () => undefined;
    const closed = new Promise<number>((r) => (resolveClosed = r));
    const fail = (err: MailkeepError): void => {
      if (!settled) {
        settled = true;
        clearTimeout(connectTimer);
        reject(err);
      }
    };
    const connectTimer = setTimeout(() => {
      fail(mailkeepError('RELAY_UNREACHABLE', 'the relay did not answer in time'));
      ws.close();
    }, opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);

    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'hello', versions: [...SUPPORTED_PROTOCOL_VERSIONS], token: opts.token, client: opts.client }));
    });
    ws.addEventListener('error', () => fail(mailkeepError('RELAY_UNREACHABLE', 'the relay refused or dropped the connection')));
    ws.addEventListener('close', (e) => {
      fail(mailkeepError(e.code === 4401 ? 'UNAUTHORIZED' : e.code === 4429 ? 'RATE_LIMITED' : e.code === 4426 ? 'PROTOCOL_MISMATCH' : 'RELAY_UNREACHABLE', `relay closed the connection (${e.code})`));
      for (const [, p] of pending) {
        clearTimeout(p.timer);
        p.reject(mailkeepError('RELAY_UNREACHABLE', `relay closed the connection (${e.code})`));
      }
      pending.clear();
      resolveClosed(e.code);
    });
    ws.addEventListener('message', (e) => {
      const parsed = RelayFrame.safeParse(typeof e.data === 'string' ? safeJson(e.data) : undefined);
      if (!parsed.success) return; // a newer relay's frame this client does not know: ignore it
      const frame = parsed.data;
      if (frame.type === 'welcome') {
        version = frame.version;
        settled = true;
        clearTimeout(connectTimer);
        resolve(connection);
      } else if (frame.type === 'event') {
        const data = frame.data;
        if (data.event === 'account.changed' || data.event === 'account.removed') opts.onAccountEvent?.(data);
        else if (data.event === 'oauth.completed' || data.event === 'oauth.failed') opts.onOAuthEvent?.(data);
        else opts.onEvent?.(data);
      } else {
        if (frame.type === 'error' && frame.id === null) {
          // Before welcome: the refusal of hello; after: a frame the relay could not read.
          if (!settled) fail(mailkeepError(frame.code, frame.message));
          return;
        }
        const id = frame.id;
        const p = id === null ? undefined : pending.get(id);
        if (!p || id === null) return;
        pending.delete(id);
        clearTimeout(p.timer);
        if (frame.type === 'error') p.reject(mailkeepError(frame.code, frame.message, frame.details ?? {}));
        else {
          const result = ResultByMethod[p.method].safeParse(frame.result);
          if (result.success) p.resolve(result.data);
          else p.reject(mailkeepError('PROTOCOL_MISMATCH', `unexpected ${p.method} result from the relay`));
        }
      }
    });

    const connection: RelayConnection = {
      get version() {
        return version || PROTOCOL_VERSION;
      },
      closed,
      close: () => ws.close(1000, 'client done'),
      call<M extends RequestMethod>(method: M, params: ParamsInput<M>, timeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS) {
        return new Promise<ResultOf<M>>((res, rej) => {
          if (ws.readyState !== OPEN) {
            rej(mailkeepError('RELAY_UNREACHABLE', 'the connection to the relay is closed'));
            return;
          }
          const id = `c${nextId++}`;
          const timer = setTimeout(() => {
            pending.delete(id);
            rej(mailkeepError('CONNECTION_TIMEOUT', `the relay did not answer ${method} in time`));
          }, timeoutMs);
          pending.set(id, { method, resolve: res as (v: unknown) => void, reject: rej, timer });
          ws.send(JSON.stringify({ type: 'request', id, method, params }));
        });
      },
    };
  });
}

/** GET /health: whether a relay runs at baseUrl and whether it is paired. */
export async function relayHealth(baseUrl: string, fetchImpl: FetchLike, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<HealthResponse> {
  const res = await send(fetchImpl, `${baseUrl}/health`, { method: 'GET', headers: {} }, timeoutMs);
  if (res.status !== 200) throw await httpError(res);
  return HealthResponse.parse(await res.json());
}

/** POST /pair with the code the user typed; resolves with the token to keep. */
export async function pairWithRelay(
  baseUrl: string,
  code: string,
  client: { name: string; version: string },
  fetchImpl: FetchLike,
  timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): Promise<PairResponse> {
  const res = await send(
    fetchImpl,
    `${baseUrl}/pair`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, client }) },
    timeoutMs,
  );
  if (res.status !== 200) throw await httpError(res);
  return PairResponse.parse(await res.json());
}

async function send(fetchImpl: FetchLike, url: string, init: Parameters<FetchLike>[1], timeoutMs: number) {
  try {
    return await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw mailkeepError('RELAY_UNREACHABLE', 'the relay is not running or not reachable', {}, err);
  }
}

async function httpError(res: { status: number; json(): Promise<unknown> }): Promise<MailkeepError> {
  const body = HttpErrorBody.safeParse(await res.json().catch(() => undefined));
  if (body.success) return mailkeepError(body.data.error.code, body.data.error.message, { status: res.status });
  return mailkeepError('UNKNOWN', `relay answered ${res.status}`, { status: res.status });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
