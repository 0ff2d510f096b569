import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { DOOR_LIMITS, RELAY_LIMITS } from '../../lib/limits.ts';
import { z } from '../../lib/zod.ts';
import { MailkeepError, type ErrorCode } from '../../lib/protocol/error-codes.ts';
import { HelloFrame, RequestFrame } from '../../lib/protocol/client-frames.ts';
import type { RelayFrame } from '../../lib/protocol/relay-frames.ts';
import { PairRequest, type HealthResponse, type HttpErrorBody, type PairResponse } from '../../lib/protocol/http.ts';
import { SUPPORTED_PROTOCOL_VERSIONS, negotiateVersion } from '../../lib/protocol/version.ts';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { bearerToken, isAllowedHost, isAllowedOrigin, isJsonContentType } from './door.ts';
import type { DownloadLinks } from './download-links.ts';
import { FailureLimiter } from './failure-limiter.ts';
import { consumePairingCode, type TokenStore } from './pairing.ts';
import { dispatch, errorFrame, type DispatchDeps } from './dispatcher.ts';
import { CALLBACK_PATH } from '../oauth/flows.ts';

export const RELAY_VERSION = '0.1.0';

export interface RelayServerOptions extends DispatchDeps {
  dataDir: string;
  /** 0 picks a free port (tests). */
  port: number;
  tokens: TokenStore;
  limiter?: FailureLimiter;
  /** The one origin allowed in; tests keep the default (the pinned extension). */
  origin?: string;
  /** Deadlines; tests shorten them, production uses DOOR_LIMITS. */
  timeouts?: { headersMs?: number; requestMs?: number; helloMs?: number };
  /** Finished downloads served at GET /download/<token> (download-links.ts). */
  downloads?: DownloadLinks;
  /**
   * The local CLI's token (relay/state/local-token.ts): `mailkeep account|schedule|status|backup`
   * on this data dir use it like the paired extension's, so they work through the running relay.
   */
  localToken?: { verify(token: string | undefined): boolean };
}

export interface RelayServer {
  readonly port: number;
  /** Closes the listener and every socket (WebSockets with 1001 "going away"). */
  close(): Promise<void>;
}

// WebSocket close codes in the private range 4000-4999, mirroring the HTTP statuses.
const WS_CLOSE = { badFrame: 4400, unauthorized: 4401, timeout: 4408, mismatch: 4426, rateLimited: 4429 } as const;

/** A refusal at the door: a MailkeepError that also knows its HTTP status. */
class HttpRefusal extends MailkeepError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message, { status });
  }
}

/**
 * The relay's door: an HTTP server on 127.0.0.1 only, with the WebSocket at /ws. Every request
 * and upgrade passes Host, then Origin, then (where needed) rate limit and token checks before
 * anything else runs. No response carries CORS headers.
 */
export async function startRelayServer(opts: RelayServerOptions): Promise<RelayServer> {
  const limiter = opts.limiter ?? new FailureLimiter();
  const origin = opts.origin ?? EXTENSION_ORIGIN;
  let port = opts.port;
  const tokenOk = (token: string | undefined): boolean => opts.tokens.verify(token) || (opts.localToken?.verify(token) ?? false);

  const headersMs = opts.timeouts?.headersMs ?? DOOR_LIMITS.relayHeadersTimeoutMs;
  const server = http.createServer({
    headersTimeout: headersMs,
    requestTimeout: opts.timeouts?.requestMs ?? DOOR_LIMITS.relayRequestTimeoutMs,
    keepAliveTimeout: DOOR_LIMITS.relayKeepAliveTimeoutMs,
    // Node enforces the two timeouts above only on this sweep (default 30 s); sweep faster.
    connectionsCheckingInterval: Math.min(1_000, headersMs),
    maxHeaderSize: DOOR_LIMITS.relayMaxHeaderBytes,
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: DOOR_LIMITS.relayMaxFrameBytes });

  const door = (req: http.IncomingMessage, upgrade: boolean): HttpRefusal | undefined => {
    if (!isAllowedHost(req.headers.host, port)) return new HttpRefusal(421, 'UNAUTHORIZED', 'unknown Host');
    if (!isAllowedOrigin(req.headers.origin, { method: req.method ?? '', upgrade }, origin)) {
      return new HttpRefusal(403, 'UNAUTHORIZED', 'origin not allowed');
    }
    return undefined;
  };

  server.on('request', (req, res) => {
    handleHttp(req, res).catch((err: unknown) => {
      const r = err instanceof HttpRefusal ? err : new HttpRefusal(500, 'UNKNOWN', 'internal error');
      if (!(err instanceof HttpRefusal)) opts.log(`http error: ${String((err as Error)?.message ?? err).slice(0, RELAY_LIMITS.logDetailMaxChars)}`);
      if (r.status === 429) res.setHeader('Retry-After', String(limiter.retryAfterSeconds()));
      // Do not keep reading (or keep alive) a connection whose body was refused half-way.
      if (r.status === 413 || r.status === 408) res.setHeader('Connection', 'close');
      sendJson(res, r.status, { error: { code: r.code, message: r.message } } satisfies HttpErrorBody);
    });
  });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const refusal = door(req, false);
    if (refusal) throw refusal;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /health':
        sendJson(res, 200, {
          name: 'mailkeep-relay',
          version: RELAY_VERSION,
          protocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS],
          paired: opts.tokens.paired,
        } satisfies HealthResponse);
        return;
      case 'POST /pair': {
        if (limiter.blocked()) throw new HttpRefusal(429, 'RATE_LIMITED', 'too many failed attempts; wait a minute');
        const body = PairRequest.safeParse(await readJson(req));
        if (!body.success) throw new HttpRefusal(400, 'INVALID_INPUT', 'expected {"code": "..."}');
        if (!consumePairingCode(opts.dataDir, body.data.code)) {
          limiter.recordFailure();
          throw new HttpRefusal(403, 'PAIRING_FAILED', 'wrong or expired pairing code');
        }
        const token = opts.tokens.issue();
        opts.log('paired with the extension');
        sendJson(res, 200, { token, protocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS] } satisfies PairResponse);
        return;
      }
      case 'POST /rpc': {
        if (limiter.blocked()) throw new HttpRefusal(429, 'RATE_LIMITED', 'too many failed attempts; wait a minute');
        if (!tokenOk(bearerToken(req.headers.authorization))) {
          limiter.recordFailure();
          throw new HttpRefusal(401, 'UNAUTHORIZED', 'missing or wrong token');
        }
        const raw = await readJson(req);
        const parsed = RequestFrame.safeParse(raw);
        const frame = parsed.success ? await dispatch(parsed.data, opts) : invalidFrame(raw, parsed.error);
        sendJson(res, 200, frame);
        return;
      }
      case `GET ${CALLBACK_PATH}`: {
        // The provider's redirect after the person approved (or denied) a sign-in: no token is
        // needed (the browser brings none); the flow's `state` is the check (relay/oauth/flows.ts).
        if (!opts.state) throw new HttpRefusal(404, 'NOT_FOUND', 'no such endpoint');
        const page = await opts.state.oauth.callback(url.searchParams);
        // The URL held the code: keep it out of caches and of the next page's Referer.
        res.writeHead(page.status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-security-policy': "default-src 'none'" });
        res.end(page.html);
        return;
      }
      case 'GET /ws':
        throw new HttpRefusal(426, 'INVALID_INPUT', 'WebSocket upgrade required');
      default:
        if (url.pathname.startsWith('/download/')) return await serveDownload(req, res, url.pathname.slice('/download/'.length));
        if (['/health', '/pair', '/rpc', '/ws'].includes(url.pathname)) throw new HttpRefusal(405, 'INVALID_INPUT', 'method not allowed');
        throw new HttpRefusal(404, 'NOT_FOUND', 'no such endpoint');
    }
  }

  /**
   * A finished download, to the paired extension only (the browser's download manager sends the
   * token as `Authorization: Bearer`, like POST /rpc): Host and Origin passed above, then rate
   * limit, token, then 404 for an unknown link and 410 for an expired one.
   */
  async function serveDownload(req: http.IncomingMessage, res: http.ServerResponse, token: string): Promise<void> {
    if (req.method !== 'GET') throw new HttpRefusal(405, 'INVALID_INPUT', 'method not allowed');
    if (limiter.blocked()) throw new HttpRefusal(429, 'RATE_LIMITED', 'too many failed attempts; wait a minute');
    if (!opts.tokens.verify(bearerToken(req.headers.authorization))) {
      limiter.recordFailure();
      throw new HttpRefusal(401, 'UNAUTHORIZED', 'missing or wrong token');
    }
    const found = opts.downloads && /^[A-Za-z0-9_-]{16,128}$/.test(token) ? opts.downloads.lookup(token) : { state: 'unknown' as const };
    if (found.state === 'unknown') throw new HttpRefusal(404, 'NOT_FOUND', 'no such download');
    if (found.state === 'expired') throw new HttpRefusal(410, 'EXPIRED', 'this download link has expired');
    const stream = fs.createReadStream(found.file);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', () => reject(new HttpRefusal(410, 'EXPIRED', 'this download link has expired')));
    });
    res.writeHead(200, {
      'Content-Type': found.fileName.endsWith('.eml') ? 'message/rfc822' : 'application/zip',
      'Content-Length': found.bytes,
      'Content-Disposition': `attachment; filename="${found.fileName.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(found.fileName)}`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    await pipeline(stream, res).catch(() => res.destroy());
  }

  /** Reads a capped JSON body; only after the door checks, so strangers cannot make us buffer. */
  async function readJson(req: http.IncomingMessage): Promise<unknown> {
    if (!isJsonContentType(req.headers['content-type'])) throw new HttpRefusal(415, 'INVALID_INPUT', 'Content-Type must be application/json');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > DOOR_LIMITS.relayMaxBodyBytes) throw new HttpRefusal(413, 'INVALID_INPUT', 'body too large');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > DOOR_LIMITS.relayMaxBodyBytes) throw new HttpRefusal(413, 'INVALID_INPUT', 'body too large');
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new HttpRefusal(400, 'INVALID_INPUT', 'body is not JSON');
    }
  }

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refusal = door(req, true);
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const reject = (status: number, text: string): void => {
      // A plain HTTP answer without CORS headers, then hang up: the upgrade never happens.
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (refusal) return reject(refusal.status, refusal.status === 421 ? 'Misdirected Request' : 'Forbidden');
    if (path !== '/ws') return reject(404, 'Not Found');
    if (limiter.blocked()) return reject(429, 'Too Many Requests');
    wss.handleUpgrade(req, socket, head, (ws) => onSocket(ws));
  });

  function onSocket(ws: WebSocket): void {
    const send = (frame: RelayFrame): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
    };
    let refused = false;
    const refuse = (code: ErrorCode, message: string, close: number, details?: Record<string, unknown>): void => {
      refused = true; // ws stops delivering after close() today; this keeps it so if that changes
      send(errorFrame(null, code, message, details));
      ws.close(close, code);
    };
    let unsubscribe: (() => void) | undefined;
    const helloTimer = setTimeout(() => refuse('UNAUTHORIZED', 'no hello in time', WS_CLOSE.timeout), opts.timeouts?.helloMs ?? DOOR_LIMITS.relayHelloTimeoutMs);
    ws.on('close', () => {
      clearTimeout(helloTimer);
      unsubscribe?.();
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (refused) return;
      const raw = isBinary ? undefined : parseJson(data.toString());
      if (!unsubscribe) {
        clearTimeout(helloTimer);
        const hello = HelloFrame.safeParse(raw);
        if (!hello.success) return refuse('UNAUTHORIZED', 'the first frame must be hello', WS_CLOSE.badFrame);
        if (limiter.blocked()) return refuse('RATE_LIMITED', 'too many failed attempts; wait a minute', WS_CLOSE.rateLimited);
        if (!tokenOk(hello.data.token)) {
          limiter.recordFailure();
          return refuse('UNAUTHORIZED', 'missing or wrong token', WS_CLOSE.unauthorized);
        }
        const version = negotiateVersion(hello.data.versions);
        if (version === null) {
          return refuse('PROTOCOL_MISMATCH', 'no shared protocol version', WS_CLOSE.mismatch, { supported: [...SUPPORTED_PROTOCOL_VERSIONS] });
        }
        send({ type: 'welcome', version, relay: { name: 'mailkeep-relay', version: RELAY_VERSION } });
        const offJobs = opts.jobs.subscribe((e) => send({ type: 'event', data: e }));
        const offAccounts = opts.state?.subscribe((e) => send({ type: 'event', data: e }));
        const offOAuth = opts.state?.oauth.subscribe((e) => send({ type: 'event', data: e }));
        unsubscribe = () => {
          offJobs();
          offAccounts?.();
          offOAuth?.();
        };
        return;
      }
      const parsed = RequestFrame.safeParse(raw);
      if (!parsed.success) return send(invalidFrame(raw, parsed.error));
      void dispatch(parsed.data, opts).then(send);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // 127.0.0.1 only: never 0.0.0.0 or ::, the relay must not be reachable from the network.
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as { port: number }).port;

  return {
    port,
    async close() {
      for (const ws of wss.clients) ws.close(1001, 'relay shutting down');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        // Sockets that ignore the close handshake are cut after a short grace, and shutdown
        // never waits longer than the deadline for the listener to report closed.
        setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
        }, DOOR_LIMITS.relaySocketCloseGraceMs).unref();
        setTimeout(resolve, DOOR_LIMITS.relayShutdownDeadlineMs).unref();
      });
      wss.close();
    },
  };
}

function invalidFrame(raw: unknown, error: z.ZodError) {
  const id = typeof (raw as { id?: unknown })?.id === 'string' ? ((raw as { id: string }).id.slice(0, 64) || null) : null;
  const issues = error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(frame)'}: ${i.message}`.slice(0, RELAY_LIMITS.logDetailMaxChars));
  return errorFrame(id, 'INVALID_INPUT', raw === undefined ? 'frame is not JSON text' : 'invalid request', { issues });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(text);
}
