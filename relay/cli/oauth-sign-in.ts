import http from 'node:http';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { OAUTH_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import type { OAuthFlowStatus } from '../../lib/protocol/oauth.ts';
import { CALLBACK_PATH } from '../oauth/flows.ts';
import type { RelayState } from '../state/relay-state.ts';
import { withDataDir } from './data-dir-access.ts';
import type { Io } from './commands.ts';

export interface SignInOptions {
  dataDir: string;
  email: string;
  provider: string;
  accountId?: string;
  openBrowser: boolean;
  json: boolean;
}

/**
 * `mailkeep account add --email E --oauth google|microsoft|FILE`: starts a sign-in, prints the
 * authorization URL (a JSON line first with --json; a browser opens it unless --no-browser), and
 * waits for the provider's redirect with the flow's deadline. Through the running relay (its door
 * serves /oauth/callback) or, when none runs, on the data dir with a one-shot loopback listener on
 * an ephemeral port (RFC 8252 §7.3: providers accept any loopback port for native clients).
 */
export async function signInCommand(o: SignInOptions, io: Io): Promise<{ accountId: string; via: 'relay' | 'direct' }> {
  const params = { provider: o.provider, email: o.email, ...(o.accountId ? { accountId: o.accountId } : {}) };
  return withDataDir<{ accountId: string; via: 'relay' | 'direct' }>(o.dataDir, {
    viaRelay: async ({ connection: c }) => {
      const started = await c.call('oauth.start', params);
      announce(started, o, io);
      const deadline = Date.parse(started.expiresAt) + OAUTH_LIMITS.cliPollMs * 4;
      for (;;) {
        const status = await c.call('oauth.status', { flowId: started.flowId });
        if (status.state !== 'pending') return { accountId: settled(status), via: 'relay' as const };
        if (Date.now() > deadline) throw mailkeepError('OAUTH_FLOW_EXPIRED', 'the sign-in was not finished in time');
        await new Promise((r) => setTimeout(r, OAUTH_LIMITS.cliPollMs));
      }
    },
    direct: async (state) => ({ accountId: await signInDirect(state, params, o, io), via: 'direct' as const }),
  });
}

async function signInDirect(state: RelayState, params: { provider: string; email: string; accountId?: string }, o: SignInOptions, io: Io): Promise<string> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      res.writeHead(404).end();
      return;
    }
    const answered = state.oauth.callback(url.searchParams).then((page) => {
      res.writeHead(page.status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
      return new Promise<void>((resolve) => res.end(page.html, resolve));
    });
    pages.add(answered);
    void answered.finally(() => pages.delete(answered));
  });
  // The flow settles inside callback(), before its page is written: the listener stays up for it.
  const pages = new Set<Promise<void>>();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  try {
    state.oauthCallbackBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let wake: () => void = () => undefined;
    const off = state.oauth.subscribe(() => wake());
    try {
      const started = state.oauth.start(params);
      announce(started, o, io);
      for (;;) {
        // status() also fails the flow once its deadline passed: this loop cannot outlive it.
        const status = state.oauth.status(started.flowId);
        if (status.state !== 'pending') return settled(status);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, OAUTH_LIMITS.cliPollMs);
          wake = () => (clearTimeout(timer), resolve());
        });
      }
    } finally {
      off();
    }
  } finally {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...pages]), new Promise((r) => (timer = setTimeout(r, OAUTH_LIMITS.cliPageWriteMs)))]);
    clearTimeout(timer);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

function settled(status: Exclude<OAuthFlowStatus, { state: 'pending' }>): string {
  if (status.state === 'completed') return status.accountId;
  throw mailkeepError(status.code, status.message);
}

function announce(started: { flowId: string; authorizationUrl: string; expiresAt: string }, o: SignInOptions, io: Io): void {
  if (o.json) {
    io.out.write(`${JSON.stringify({ kind: 'oauth-authorization', flowId: started.flowId, authorizationUrl: started.authorizationUrl, expiresAt: started.expiresAt })}\n`);
  } else {
    io.out.write(`Sign in as ${o.email} in your browser. If no browser opens, open this address:\n\n  ${started.authorizationUrl}\n\nWaiting for the sign-in (until ${started.expiresAt})...\n`);
  }
  if (o.openBrowser) openInBrowser(started.authorizationUrl);
}

/** Best effort: a machine without a desktop has no opener, and the printed URL is the fallback. */
function openInBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return;
  try {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    /* the URL is printed */
  }
}
