import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedMessages } from '../support/corpus.ts';
import { dovecotAvailable, startDovecot, type Dovecot } from '../support/dovecot.ts';
import { startFakeOAuthServer, type FakeOAuthServer } from '../support/fake-oauth-server.ts';
import { startCli, runCli, type CliResult } from '../support/run-cli.ts';
import { readLocalToken } from '../../relay/state/local-token.ts';
import { helloClient, RelayProcess, tempDataDir } from './relay-harness.ts';

// Sign-in with OAuth2 end to end, no browser: the real relay process and CLI, a real Dovecot with
// `passdb { driver = oauth2 }` whose introspection asks the project's fake authorization server.
// Every token that server issues starts with CANARY so the last test can look for leaks.

const EMAIL = 'alice@example.com';
const CANARY = 'CANARYtok';
const ACCOUNT = 'alice-example-com';
/** A password account on the same Dovecot: the source of a migrate into the OAuth account. */
const BOB = { name: 'bob@example.com', password: 'Bob-Pw-22317', id: 'bob-example-com' };

describe.skipIf(!dovecotAvailable())('OAuth2 sign-in and token refresh (relay process, CLI, Dovecot oauth2 passdb, fake authorization server)', () => {
  let as: FakeOAuthServer;
  let dc: Dovecot;
  let relay: RelayProcess | undefined;
  let dataDir: string;
  let providerFile: string;
  const outputs: string[] = [];
  const D = (): string[] => ['--data-dir', dataDir];
  /** The relay's documented test clock hook (docs/cli.md): moves its wall clock, not its timers. */
  let clockEnv: Record<string, string> = {};

  async function cli(args: string[]): Promise<CliResult> {
    const r = await runCli([...args, ...D()], clockEnv, { deadlineMs: 90_000 });
    outputs.push(r.stdout, r.stderr);
    return r;
  }

  /** `mailkeep account add --oauth` with the consent page's Approve followed by the test. */
  /** Starts `account add --oauth --json` and reads the authorization URL from its first line. */
  async function startSignIn(): Promise<{ run: ReturnType<typeof startCli>; url: string }> {
    const run = startCli(['account', 'add', '--email', EMAIL, '--oauth', providerFile, '--no-browser', '--json', ...D()], clockEnv, { deadlineMs: 60_000 });
    let stdout = '';
    run.child.stdout!.on('data', (d) => (stdout += d));
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('\n')) {
      if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`no authorization URL printed: ${stdout}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const first = JSON.parse(stdout.split('\n')[0]!) as { kind: string; authorizationUrl: string };
    expect(first.kind).toBe('oauth-authorization');
    return { run, url: first.authorizationUrl };
  }

  async function signIn(): Promise<{ result: CliResult; page: string; status: number }> {
    const { run, url } = await startSignIn();
    const first = { authorizationUrl: url };
    const callback = await as.approve(first.authorizationUrl);
    const res = await fetch(callback);
    const page = await res.text();
    const result = await run.done;
    outputs.push(result.stdout, result.stderr, page);
    return { result, page, status: res.status };
  }

  async function backup(): Promise<{ statusId: string; errorCode: string | null; messages: number; text: string }> {
    const r = await cli(['backup', '--account', ACCOUNT, '--json']);
    const last = r.lines.at(-1) as { statusId: string; errorCode: string | null; messages: number } | undefined;
    if (!last) throw new Error(`backup printed no JSON: ${r.stdout} ${r.stderr}`);
    return { ...last, text: r.stdout + r.stderr };
  }

  beforeAll(async () => {
    as = await startFakeOAuthServer({ tokenPrefix: CANARY });
    dc = await startDovecot({ users: [{ name: EMAIL, password: 'unused-Pw-8812' }, { name: BOB.name, password: BOB.password }], oauth2: { introspectionUrl: `${as.url}/introspect` } });
    const bob = await dc.client(BOB.name, BOB.password);
    await bob.mailboxCreate('FromBob');
    for (const raw of generatedMessages(4, 9)) await bob.append('FromBob', raw, []);
    await bob.logout();
    const imap = await dc.client(EMAIL, 'unused-Pw-8812');
    await imap.mailboxCreate('Archive');
    for (const raw of generatedMessages(30, 5)) await imap.append('INBOX', raw, []);
    for (const raw of generatedMessages(30, 6)) await imap.append('Archive', raw, []);
    await imap.logout();
    dataDir = tempDataDir();
    providerFile = path.join(path.dirname(dataDir), `${path.basename(dataDir)}-provider.json`);
    fs.writeFileSync(
      providerFile,
      JSON.stringify({
        id: 'fake',
        name: 'Fake Provider',
        authorizationEndpoint: `${as.url}/authorize`,
        tokenEndpoint: `${as.url}/token`,
        revocationEndpoint: `${as.url}/revoke`,
        clientId: as.clientId,
        scopes: ['mail'],
        imap: { host: '127.0.0.1', port: dc.port, security: 'none' },
      }),
    );
    const clockFile = `${dataDir}-clock.json`;
    fs.writeFileSync(clockFile, JSON.stringify({ offsetMs: 0 }));
    clockEnv = { MAILKEEP_TEST_CLOCK_FILE: clockFile };
    relay = await RelayProcess.start(dataDir, 20_000, clockEnv);
    outputs.length = 0;
  }, 60_000);

  afterAll(async () => {
    await relay?.stop();
    await dc?.stop();
    await as?.close();
  });

  it('a built-in provider without a client ID is refused with OAUTH_NOT_CONFIGURED, and nothing is stored', async () => {
    const r = await cli(['account', 'add', '--email', EMAIL, '--oauth', 'google', '--no-browser']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error OAUTH_NOT_CONFIGURED: Google sign-in has no client ID/);
    expect((await cli(['account', 'list', '--json'])).json).toMatchObject({ accounts: [] });
  });

  it('a sign-in not finished within 10 minutes expires: the CLI ends with OAUTH_FLOW_EXPIRED and the late callback is refused', async () => {
    const { run, url } = await startSignIn();
    const callback = await as.approve(url); // approved, but the browser never comes back in time
    fs.writeFileSync(clockEnv.MAILKEEP_TEST_CLOCK_FILE!, JSON.stringify({ offsetMs: 11 * 60_000 }));
    await relay!.waitForOutput('wall clock offset 660000 ms, checked');
    const r = await run.done;
    outputs.push(r.stdout, r.stderr);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error OAUTH_FLOW_EXPIRED: the sign-in was not finished within 10 minutes/);
    const late = await fetch(callback);
    expect(late.status).toBe(400);
    outputs.push(await late.text());
    expect((await cli(['account', 'list', '--json'])).json).toMatchObject({ accounts: [] });
  });

  it('signs in through the CLI and the running relay, the callback page says the tab can close, and the first backup completes', async () => {
    const { result, page, status } = await signIn();
    expect(status).toBe(200);
    expect(page).toContain('You can close this tab');
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ kind: 'oauth-signed-in', accountId: ACCOUNT, user: EMAIL, host: '127.0.0.1' });
    const list = await cli(['account', 'list', '--json']);
    expect(list.json).toMatchObject({ accounts: [{ id: ACCOUNT, user: EMAIL, auth: { kind: 'oauth2', provider: 'fake' }, hasPassword: true }] });
    // The sign-in started the first backup; `mailkeep backup` joins it (or runs one more).
    expect(await backup()).toMatchObject({ statusId: 'completed', errorCode: null });
    const st = await cli(['status', '--json']);
    expect(st.json).toMatchObject({ accounts: [{ id: ACCOUNT, statusId: 'completed', messages: 60 }] });
  });

  it('over the WebSocket: Test connection of the signed-in account logs in with its token, and oauth.start names an unconfigured provider', async () => {
    const ws = await helloClient(relay!.port, readLocalToken(dataDir)!);
    try {
      expect(await ws.call('t1', 'account.test', { accountId: ACCOUNT })).toMatchObject({ type: 'result', result: { ok: true } });
      expect(await ws.call('t2', 'oauth.start', { provider: 'microsoft', email: EMAIL })).toMatchObject({ type: 'error', code: 'OAUTH_NOT_CONFIGURED' });
      const started = (await ws.call('t3', 'oauth.start', { provider: 'fake', email: EMAIL })) as { type: string; result: { flowId: string; authorizationUrl: string } };
      expect(started.type).toBe('result');
      expect(new URL(started.result.authorizationUrl).searchParams.get('redirect_uri')).toBe(`http://127.0.0.1:${relay!.port}/oauth/callback`);
      expect(await ws.call('t4', 'oauth.status', { flowId: started.result.flowId })).toMatchObject({ type: 'result', result: { state: 'pending' } });
      const page = await fetch(await as.approve(started.result.authorizationUrl));
      expect(page.status).toBe(200);
      const done = await ws.waitFor((f) => f.type === 'event' && f.data.event === 'oauth.completed');
      expect(done).toMatchObject({ data: { flowId: started.result.flowId, accountId: ACCOUNT } });
      outputs.push(await page.text());
    } finally {
      ws.close();
    }
    await backup(); // let the sign-in's backup finish before the next test
  });

  it('an OAuth account is a migrate destination like any other: the relay logs in to it with its token and the mail arrives once', async () => {
    const added = await runCli(['account', 'add', '--host', '127.0.0.1', '--port', String(dc.port), '--security', 'none', '--user', BOB.name, '--schedule', 'off', ...D()], { ...clockEnv, MAILKEEP_PASSWORD: BOB.password });
    outputs.push(added.stdout, added.stderr);
    expect(added.code, added.stderr).toBe(0);
    const ws = await helloClient(relay!.port, readLocalToken(dataDir)!);
    try {
      for (const key of ['migrate-bob-to-alice-0001', 'migrate-bob-to-alice-0002']) {
        const started = (await ws.call(key, 'job.start', { kind: 'migrate', accountId: BOB.id, idempotencyKey: key, params: { destinationAccountId: ACCOUNT } })) as { type: string; result: { job: { id: string } } };
        expect(started.type).toBe('result');
        const id = started.result.job.id;
        const end = (await ws.waitFor((f) => f.type === 'event' && f.data.event === 'status' && f.data.jobId === id && f.data.phase === 'finished', 60_000)) as { data: { status: string; errorCode: string | null } };
        expect(end.data).toMatchObject({ status: 'completed', errorCode: null });
      }
    } finally {
      ws.close();
    }
    // On the destination (read with alice's password through Dovecot's passwd-file passdb): the
    // folder with bob's four messages, once each, though the migrate ran twice.
    const imap = await dc.client(EMAIL, 'unused-Pw-8812');
    try {
      const box = await imap.mailboxOpen('FromBob', { readOnly: true });
      expect(box.exists).toBe(4);
    } finally {
      await imap.logout();
    }
  });

  it('a second callback of a finished sign-in and a callback with a foreign state are refused', async () => {
    const { run: started, url } = await startSignIn();
    const callback = await as.approve(url);
    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-the-flows-state');
    const refused = await fetch(forged);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('does not belong to any sign-in');
    const ok = await fetch(callback); // the real one still works: a forged answer does not kill the sign-in
    expect(ok.status).toBe(200);
    const again = await fetch(callback);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('second answer is refused');
    const r = await started.done;
    outputs.push(r.stdout, r.stderr);
    expect(r.code, r.stderr).toBe(0);
    await backup(); // let the sign-in's backup finish before the next test
  });

  it('an access token the provider expired before its announced end: the login is refused, renewed once, retried once, and the backup completes', async () => {
    const imap = await dc.client(EMAIL, 'unused-Pw-8812');
    for (const raw of generatedMessages(5, 7)) await imap.append('INBOX', raw, []);
    await imap.logout();
    const refreshesBefore = as.counts.refresh_token ?? 0;
    as.expireAccessTokens(EMAIL); // the relay still believes its token lives: Dovecot now refuses it
    const b = await backup();
    expect(b).toMatchObject({ statusId: 'completed', errorCode: null, messages: 5 });
    // AUTHENTICATIONFAILED on the stale token -> one refresh -> one retry that succeeds.
    expect((as.counts.refresh_token ?? 0) - refreshesBefore).toBe(1);
  });

  it('the authorization server is down while the relay holds a live token: Dovecot answers [UNAVAILABLE], so Retrying then Connection Error (SERVER_BUSY), never Authentication Error', async () => {
    await as.down();
    try {
      expect(await backup()).toMatchObject({ statusId: 'connection_error', errorCode: 'SERVER_BUSY' });
    } finally {
      await as.up();
    }
    expect(await backup()).toMatchObject({ statusId: 'completed', errorCode: null });
  });

  it('the authorization server is down when the token must be renewed: Retrying then Connection Error with OAUTH_UNREACHABLE, never Authentication Error; back up, the backup completes', async () => {
    // Tokens issued from now on live 60 s, inside the relay's renewal margin: its next login renews first.
    as.setAccessTtl(60);
    as.expireAccessTokens(EMAIL);
    expect(await backup()).toMatchObject({ statusId: 'completed', errorCode: null });
    await as.down();
    try {
      expect(await backup()).toMatchObject({ statusId: 'connection_error', errorCode: 'OAUTH_UNREACHABLE' });
    } finally {
      await as.up();
      as.setAccessTtl(3600);
    }
    expect(await backup()).toMatchObject({ statusId: 'completed', errorCode: null });
  });

  it('a revoked refresh token: Authentication Error with OAUTH_REVOKED and "Sign in again"; signing in again fixes it', async () => {
    as.revokeUser(EMAIL);
    const r = await cli(['backup', '--account', ACCOUNT]);
    expect(r.stdout).toMatch(/Authentication Error.*\(OAUTH_REVOKED\)/);
    expect(r.stdout).toContain('Sign in again');
    expect((await backup()).statusId).toBe('authentication_error');
    const again = await signIn();
    expect(again.result.code, again.result.stderr).toBe(0);
    expect(await backup()).toMatchObject({ statusId: 'completed', errorCode: null });
  });

  it('with no relay running, the CLI runs the sign-in itself on a one-shot loopback listener, and a direct backup logs in with the stored token', async () => {
    await relay!.stop();
    const { result, page, status } = await signIn();
    expect(status).toBe(200);
    expect(page).toContain('You can close this tab');
    expect(result.code, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ kind: 'oauth-signed-in', accountId: ACCOUNT });
    const b = await cli(['backup', '--account', ACCOUNT, '--json']);
    expect(b.json).toMatchObject({ via: 'direct', statusId: 'completed', errorCode: null });
  });

  it('removing the account revokes its grant at the provider (RFC 7009): its refresh token no longer works', async () => {
    const before = as.counts['/revoke'] ?? 0;
    // Earlier sign-ins of this address left grants the account no longer uses (a new consent does
    // not end the old ones): only the account's own is revoked.
    const live = as.liveRefreshTokens(EMAIL);
    const r = await cli(['account', 'remove', ACCOUNT]);
    expect(r.code, r.stderr).toBe(0);
    expect((as.counts['/revoke'] ?? 0) - before).toBe(1);
    expect(as.liveRefreshTokens(EMAIL)).toBe(live - 1);
  });

  it('no token, code or refresh token ever appears in relay.log, the relay output, CLI output, state.sqlite or the callback pages', async () => {
    expect(as.issued.length).toBeGreaterThan(4);
    const places: Record<string, string> = {
      'relay.log': fs.readFileSync(path.join(dataDir, 'relay.log'), 'utf8'),
      'relay output': relay!.stdout + relay!.stderr,
      'CLI output and pages': outputs.join('\n'),
    };
    for (const f of fs.readdirSync(dataDir)) if (f.startsWith('state.sqlite')) places[f] = fs.readFileSync(path.join(dataDir, f)).toString('latin1');
    expect(places['state.sqlite']).toBeDefined();
    for (const [where, text] of Object.entries(places)) {
      // Codes, access and refresh tokens all start with the canary.
      expect(text.includes(CANARY), `a code or token in ${where}`).toBe(false);
    }
    // The credential file holds them, encrypted.
    expect(fs.readFileSync(path.join(dataDir, 'credentials.enc'), 'utf8')).not.toContain(CANARY);
  });
});
