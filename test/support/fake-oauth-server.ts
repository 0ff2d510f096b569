import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * A small authorization server for the OAuth tests (../shared/notes/integration-recipes.md §1.2):
 * authorization code + PKCE, rotating refresh tokens, RFC 7662 introspection for Dovecot's oauth2
 * passdb (active only for a live, unrevoked token of that user), RFC 7009 revocation, and hooks to
 * expire access tokens, revoke a user's refresh tokens and go down. npm's oauth2-mock-server cannot
 * stand in: its introspection always answers active.
 *
 * /authorize shows a real consent page with `<button id="approve">` (the browser test clicks it);
 * `approve(url)` follows the same form headlessly and returns the redirect the browser would take.
 */
export interface FakeOAuthServer {
  readonly url: string;
  readonly clientId: string;
  /** Every authorization code, access and refresh token ever issued (for the canary test: none may leak). */
  readonly issued: string[];
  /** Submits the consent form of an authorization URL; returns the Location it redirects to. */
  approve(authorizationUrl: string): Promise<string>;
  /** Refresh tokens of `username` that still work (neither spent, revoked nor rotated away). */
  liveRefreshTokens(username: string): number;
  /** Lifetime (s) of access tokens issued from now on. */
  setAccessTtl(seconds: number): void;
  /** Makes every live access token (of `username`, or everyone's) expire now. */
  expireAccessTokens(username?: string): void;
  /** Revokes every refresh and access token of `username` (the user removed the app's access). */
  revokeUser(username: string): void;
  /** Stops answering (connections refused) until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Counts by endpoint and grant, e.g. `refresh_token`, for assertions. */
  readonly counts: Record<string, number>;
  close(): Promise<void>;
}

interface AccessToken {
  username: string;
  clientId: string;
  scope: string;
  exp: number;
  revoked: boolean;
}

/** `tokenPrefix` starts every code and token: a canary a leak test can look for. */
export async function startFakeOAuthServer(opts: { clientId?: string; accessTtlS?: number; tokenPrefix?: string } = {}): Promise<FakeOAuthServer> {
  const clientId = opts.clientId ?? 'mailkeep-test-client';
  let accessTtlS = opts.accessTtlS ?? 3600;
  const prefix = opts.tokenPrefix ?? '';
  const codes = new Map<string, { username: string; clientId: string; redirectUri: string; challenge: string; method: string; scope: string; exp: number }>();
  const access = new Map<string, AccessToken>();
  const refresh = new Map<string, { username: string; clientId: string; scope: string; revoked: boolean }>();
  const issued: string[] = [];
  const counts: Record<string, number> = {};
  const now = (): number => Math.floor(Date.now() / 1000);
  const rnd = (): string => randomBytes(18).toString('base64url');
  const bump = (k: string): void => {
    counts[k] = (counts[k] ?? 0) + 1;
  };

  const issue = (username: string, cid: string, scope: string): Record<string, unknown> => {
    const at = `${prefix}at_${rnd()}`;
    const rt = `${prefix}rt_${rnd()}`;
    issued.push(at, rt);
    access.set(at, { username, clientId: cid, scope, exp: now() + accessTtlS, revoked: false });
    refresh.set(rt, { username, clientId: cid, scope, revoked: false });
    return { access_token: at, token_type: 'Bearer', expires_in: accessTtlS, refresh_token: rt, scope };
  };

  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const readForm = async (req: http.IncomingMessage): Promise<URLSearchParams> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  };
  const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    bump(url.pathname);
    if (url.pathname === '/authorize' && req.method === 'GET') {
      const q = url.searchParams;
      const hidden = [...q.entries()].map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`).join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>Fake provider: consent</title><h1>Allow Mailkeep to read your mail?</h1>` +
          `<p>Signed in as <b id="user">${escape(q.get('login_hint') ?? '')}</b></p>` +
          `<form method="post" action="/authorize">${hidden}<button id="approve" name="decision" value="approve">Approve</button>` +
          `<button id="deny" name="decision" value="deny">Deny</button></form>`,
      );
      return;
    }
    if (url.pathname === '/authorize' && req.method === 'POST') {
      const f = await readForm(req);
      const redirect = new URL(f.get('redirect_uri') ?? 'http://invalid/');
      if (f.get('state') !== null) redirect.searchParams.set('state', f.get('state')!);
      if (f.get('decision') !== 'approve') {
        redirect.searchParams.set('error', 'access_denied');
      } else if (f.get('response_type') !== 'code' || f.get('client_id') !== clientId || !f.get('code_challenge') || !f.get('login_hint')) {
        redirect.searchParams.set('error', 'invalid_request');
      } else {
        const code = `${prefix}code_${rnd()}`;
        issued.push(code);
        codes.set(code, {
          username: f.get('login_hint')!,
          clientId: f.get('client_id')!,
          redirectUri: f.get('redirect_uri')!,
          challenge: f.get('code_challenge')!,
          method: f.get('code_challenge_method') ?? 'plain',
          scope: f.get('scope') ?? '',
          exp: now() + 60,
        });
        redirect.searchParams.set('code', code);
      }
      res.writeHead(302, { location: redirect.toString() });
      res.end();
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const f = await readForm(req);
      const grant = f.get('grant_type') ?? '';
      bump(grant);
      if (f.get('client_id') !== clientId) return json(res, 401, { error: 'invalid_client' });
      if (grant === 'authorization_code') {
        const c = codes.get(f.get('code') ?? '');
        codes.delete(f.get('code') ?? '');
        if (!c || c.exp < now() || c.clientId !== f.get('client_id') || c.redirectUri !== f.get('redirect_uri')) return json(res, 400, { error: 'invalid_grant' });
        const verifier = f.get('code_verifier') ?? '';
        const ok = c.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') === c.challenge : verifier === c.challenge;
        if (!ok) return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
        return json(res, 200, issue(c.username, c.clientId, c.scope));
      }
      if (grant === 'refresh_token') {
        const r = refresh.get(f.get('refresh_token') ?? '');
        if (!r || r.revoked) return json(res, 400, { error: 'invalid_grant', error_description: 'refresh token revoked or spent' });
        r.revoked = true; // rotation: the old refresh token is spent
        return json(res, 200, issue(r.username, r.clientId, r.scope));
      }
      return json(res, 400, { error: 'unsupported_grant_type' });
    }
    if (url.pathname === '/introspect' && req.method === 'POST') {
      const f = await readForm(req);
      const a = access.get(f.get('token') ?? '');
      if (!a || a.revoked || a.exp <= now()) return json(res, 200, { active: false });
      return json(res, 200, { active: true, username: a.username, email: a.username, sub: a.username, scope: a.scope, client_id: a.clientId, exp: a.exp });
    }
    if (url.pathname === '/revoke' && req.method === 'POST') {
      const f = await readForm(req);
      const t = f.get('token') ?? '';
      const a = access.get(t);
      if (a) a.revoked = true;
      const r = refresh.get(t);
      if (r) r.revoked = true;
      res.writeHead(200);
      res.end();
      return;
    }
    json(res, 404, { error: 'not_found' });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => json(res, 500, { error: 'server_error' }));
  });
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const port = await listen(0);
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  let isUp = true;

  return {
    url: `http://127.0.0.1:${port}`,
    clientId,
    issued,
    counts,
    async approve(authorizationUrl) {
      const u = new URL(authorizationUrl);
      const page = await fetch(u);
      if (!page.ok) throw new Error(`consent page answered ${page.status}`);
      const html = await page.text();
      if (!html.includes('id="approve"')) throw new Error('no Approve button on the consent page');
      const form = new URLSearchParams(u.searchParams);
      form.set('decision', 'approve');
      const r = await fetch(`${u.origin}/authorize`, { method: 'POST', body: form, redirect: 'manual' });
      const location = r.headers.get('location');
      if (r.status !== 302 || !location) throw new Error(`consent form answered ${r.status}`);
      return location;
    },
    liveRefreshTokens(username) {
      return [...refresh.values()].filter((r) => r.username === username && !r.revoked).length;
    },
    setAccessTtl(seconds) {
      accessTtlS = seconds;
    },
    expireAccessTokens(username) {
      for (const a of access.values()) if (!username || a.username === username) a.exp = now() - 1;
    },
    revokeUser(username) {
      for (const a of access.values()) if (a.username === username) a.revoked = true;
      for (const r of refresh.values()) if (r.username === username) r.revoked = true;
    },
    async down() {
      if (!isUp) return;
      isUp = false;
      await stop();
    },
    async up() {
      if (isUp) return;
      await listen(port);
      isUp = true;
    },
    async close() {
      if (isUp) await stop();
      isUp = false;
    },
  };
}
