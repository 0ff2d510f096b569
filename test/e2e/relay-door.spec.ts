/// <reference types="chrome" />
/**
 * The relay's door against the real browser: a hostile web page served on another loopback port
 * and opened in the same Chromium as the paired extension, plus raw requests from Node with the
 * headers a browser would never let a page set. Every attempt must be refused with no side effect:
 * no account stored, no job started, the pairing code not consumed. Refusals are counted in the output.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { test, expect } from '@playwright/test';
import { EXTENSION_ORIGIN } from '../../lib/extension-identity.ts';
import { DOOR_LIMITS } from '../../lib/limits.ts';
import { RelayProcess, request, tempDataDir } from '../relay/relay-harness.ts';
import { CredentialStore } from '../../relay/secrets/credential-store.ts';
import { launchExtension } from './relay-world';
import { sendToWorker } from './fixtures';
import { relayJobRecords } from '../support/relay-jobs-record.ts';

test('a hostile page and forged requests are refused, with nothing started or stored', async () => {
  const dataDir = tempDataDir();
  const relay = await RelayProcess.start(dataDir);
  const hostile = http.createServer((_req, res) => res.end('<!doctype html><title>hostile</title><p>hi</p>'));
  await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
  const hostilePort = (hostile.address() as net.AddressInfo).port;
  const { context, extensionId } = await launchExtension();
  try {
    const port = relay.port;
    const job = { type: 'request', id: 'x1', method: 'job.start', params: { kind: 'backup', accountId: 'victim', idempotencyKey: 'hostile-key-1', params: {} } };
    const upsert = { type: 'request', id: 'x2', method: 'account.upsert', params: { account: { id: 'victim', host: '127.0.0.1', port: 1, security: 'none', user: 'v' }, password: 'stolen-pw-1' } };

    // 1. From a web page on another loopback port, in the same browser as the extension.
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${hostilePort}/`);
    const fromPage = await page.evaluate(
      async ({ port, job, upsert, code, big }) => {
        const base = `http://127.0.0.1:${port}`;
        const attempt = async (label: string, run: () => Promise<unknown>): Promise<[string, string]> => {
          try {
            const r = (await run()) as Response;
            // A no-cors answer is opaque (status 0): the page learns nothing, and the door refused it anyway.
            return [label, r.type === 'opaque' ? 'opaque' : `read ${r.status}`];
          } catch {
            return [label, 'blocked'];
          }
        };
        const results = await Promise.all([
          attempt('GET /health', () => fetch(`${base}/health`)),
          attempt('POST /rpc json (preflight)', () => fetch(`${base}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer guess' }, body: JSON.stringify(job) })),
          attempt('POST /rpc text/plain no-cors', () => fetch(`${base}/rpc`, { method: 'POST', mode: 'no-cors', body: JSON.stringify(upsert) })),
          attempt('POST /pair with the real code no-cors', () => fetch(`${base}/pair`, { method: 'POST', mode: 'no-cors', body: JSON.stringify({ code }) })),
          attempt('POST /rpc oversized no-cors', () => fetch(`${base}/rpc`, { method: 'POST', mode: 'no-cors', body: 'x'.repeat(big) })),
        ]);
        const ws = await new Promise<string>((resolve) => {
          const s = new WebSocket(`ws://127.0.0.1:${port}/ws`);
          const t = setTimeout(() => resolve('no answer'), 5_000);
          s.onopen = () => {
            clearTimeout(t);
            s.close();
            resolve('opened');
          };
          s.onerror = () => {
            clearTimeout(t);
            resolve('blocked');
          };
        });
        return [...results, ['WebSocket /ws', ws] as [string, string]];
      },
      { port, job, upsert, code: relay.pairingCode, big: DOOR_LIMITS.relayMaxBodyBytes + 1 },
    );
    for (const [label, outcome] of fromPage) expect(outcome, label).not.toMatch(/^read |opened/);

    // 2. The extension pairs with the very code the page sent: the page's attempt consumed nothing.
    const ext = await context.newPage();
    await ext.goto(`chrome-extension://${extensionId}/options.html`);
    expect(await sendToWorker(ext, { type: 'pair', port, code: relay.pairingCode })).toMatchObject({ ok: true });

    // 3. From Node, with the headers a page cannot forge (at most 2 wrong tokens: the limit is 5 a minute).
    const post = (headers: Record<string, string>, body: string = JSON.stringify(job)) =>
      request(port, { method: 'POST', path: '/rpc', headers: { 'content-type': 'application/json', ...headers }, body });
    const fromNode: [string, number, number][] = [
      ['no token', (await post({ origin: EXTENSION_ORIGIN })).status, 401],
      ['wrong token', (await post({ origin: EXTENSION_ORIGIN, authorization: 'Bearer mk1_wrong' })).status, 401],
      ['http:// Origin', (await post({ origin: `http://127.0.0.1:${hostilePort}` })).status, 403],
      ['Origin: null', (await post({ origin: 'null' })).status, 403],
      ['foreign Host', (await request(port, { method: 'POST', path: '/rpc', headers: { host: `evil.example:${port}`, origin: EXTENSION_ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify(job) })).status, 421],
      ['oversized body', (await post({ origin: EXTENSION_ORIGIN, authorization: 'Bearer mk1_wrong2' }, 'x'.repeat(DOOR_LIMITS.relayMaxBodyBytes + 1))).status, 401],
    ];
    for (const [label, got, want] of fromNode) expect(got, label).toBe(want);

    // 4. No side effect anywhere: no job, no account, and the extension's link works.
    expect(relayJobRecords(dataDir)).toHaveLength(0);
    // credentials.enc is ciphertext: grepping it proves nothing, so decrypt it and look for the account.
    expect(CredentialStore.open(dataDir).has('victim')).toBe(false);
    expect(relay.stdout).not.toContain('stolen-pw-1');
    await expect.poll(async () => (await sendToWorker<{ ok: boolean; value: string }>(ext, { type: 'diagnostics' })).value).toContain('"state": "connected"');

    const refusals = fromPage.length + fromNode.length;
    console.log(`door refusals: ${refusals} (${fromPage.length} from the hostile page, ${fromNode.length} from Node), 0 side effects`);
    for (const [label, outcome] of fromPage) console.log(`  page  ${label}: ${outcome}`);
    for (const [label, got] of fromNode) console.log(`  node  ${label}: ${got}`);
  } finally {
    await context.close();
    hostile.close();
    await relay.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
