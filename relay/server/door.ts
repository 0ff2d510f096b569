import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';

/**
 * The door's pure checks (design.md section 4). Kept free of I/O so each rule is tested alone;
 * relay-server.ts applies them to HTTP requests and WebSocket upgrades alike.
 */

/**
 * DNS rebinding defence: a web page whose name resolves to 127.0.0.1 still sends its own name in
 * Host. Only the two loopback names with our exact port are ours.
 */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/**
 * Only the pinned extension may talk to the relay. Chromium omits Origin on GETs from a service
 * worker holding host_permissions (notes/extension-toolchain.md, step 4), so a missing Origin is
 * tolerated on plain GETs, which have no side effects. POST and WebSocket upgrades always carry
 * it; `null` (sandboxed frames, file://) and every web origin are refused.
 */
export function isAllowedOrigin(
  origin: string | undefined,
  request: { method: string; upgrade: boolean },
  expected: string = EXTENSION_ORIGIN,
): boolean {
  if (origin === undefined) return request.method === 'GET' && !request.upgrade;
  return origin === expected;
}

/** `Authorization: Bearer <token>` -> token, else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer ([\x21-\x7e]{1,256})$/.exec(header ?? '');
  return m?.[1];
}

/** Side effects need a JSON body: a form or text/plain POST from a web page is a "simple" request. */
export function isJsonContentType(header: string | undefined): boolean {
  return /^application\/json\s*(;\s*charset=utf-8\s*)?$/i.test(header ?? '');
}
