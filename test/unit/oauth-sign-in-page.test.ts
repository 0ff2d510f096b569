import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { signInWithProvider } from '@/lib/ui/oauth-sign-in';
import { EXTENSION_LIMITS } from '@/lib/limits';
import { errorHint } from '@/lib/status/error-hints';

// The page's side of a sign-in: it follows oauth-status until the relay says completed or failed,
// and gives up at the flow's own deadline. Replies come from a stand-in worker; the clock is fake.

const START = Date.parse('2026-11-26T08:00:00.000Z');
const EXPIRES = '2026-11-26T08:10:00.000Z';
let clock: number;
let statusReplies: unknown[];
let asked: unknown[];
const sleep = async (ms: number) => void (clock += ms);
const now = () => clock;

beforeEach(() => {
  fakeBrowser.reset();
  clock = START;
  asked = [];
  statusReplies = [];
  fakeBrowser.runtime.onMessage.addListener(async (msg: any) => {
    asked.push(msg);
    if (msg.type === 'oauth-start') return { ok: true, value: { flowId: 'f_1', expiresAt: EXPIRES } };
    return statusReplies.shift() ?? { ok: true, value: { state: 'pending' } };
  });
});

describe('following a sign-in from a page', () => {
  it('waits while the relay says pending and ends with the signed-in account', async () => {
    statusReplies = [{ ok: true, value: { state: 'pending' } }, { ok: true, value: { state: 'pending' } }, { ok: true, value: { state: 'completed', accountId: 'ada-gmail-com' } }];
    let started = false;
    const outcome = await signInWithProvider({ provider: 'google', email: 'ada@gmail.com' }, () => (started = true), sleep, now);
    expect(outcome).toEqual({ ok: true, accountId: 'ada-gmail-com' });
    expect(started).toBe(true);
    expect(asked[0]).toEqual({ type: 'oauth-start', provider: 'google', email: 'ada@gmail.com' });
    expect(asked.slice(1)).toEqual(Array(3).fill({ type: 'oauth-status', flowId: 'f_1' }));
  });

  it('passes the account id of a sign-in again', async () => {
    statusReplies = [{ ok: true, value: { state: 'completed', accountId: 'ada-gmail-com' } }];
    await signInWithProvider({ provider: 'google', email: 'ada@gmail.com', accountId: 'ada-gmail-com' }, undefined, sleep, now);
    expect(asked[0]).toEqual({ type: 'oauth-start', provider: 'google', email: 'ada@gmail.com', accountId: 'ada-gmail-com' });
  });

  it('shows a failed sign-in with the words of its code', async () => {
    statusReplies = [{ ok: true, value: { state: 'failed', code: 'OAUTH_FLOW_FAILED', message: 'access_denied', hint: errorHint('OAUTH_FLOW_FAILED') } }];
    expect(await signInWithProvider({ provider: 'google', email: 'ada@gmail.com' }, undefined, sleep, now)).toEqual({ ok: false, code: 'OAUTH_FLOW_FAILED', text: errorHint('OAUTH_FLOW_FAILED') });
  });

  it('a refused start (no client ID) polls nothing and says what to do', async () => {
    fakeBrowser.reset();
    fakeBrowser.runtime.onMessage.addListener(async (msg: any) => (asked.push(msg), { ok: false, code: 'OAUTH_NOT_CONFIGURED', message: 'Google sign-in has no client ID' }));
    const outcome = await signInWithProvider({ provider: 'google', email: 'ada@gmail.com' }, undefined, sleep, now);
    expect(outcome).toMatchObject({ ok: false, code: 'OAUTH_NOT_CONFIGURED' });
    expect((outcome as { text: string }).text).toContain('docs/oauth.md');
    expect((outcome as { text: string }).text).toContain('The relay says: Google sign-in has no client ID');
    expect(asked).toHaveLength(1);
  });

  it('keeps asking through a moment without the relay, then ends with its answer', async () => {
    statusReplies = [{ ok: false, code: 'RELAY_UNREACHABLE', message: 'down' }, { ok: true, value: { state: 'completed', accountId: 'a' } }];
    expect(await signInWithProvider({ provider: 'google', email: 'ada@gmail.com' }, undefined, sleep, now)).toEqual({ ok: true, accountId: 'a' });
  });

  it('a sign-in the relay forgot (it restarted) ends as expired', async () => {
    statusReplies = [{ ok: false, code: 'NOT_FOUND', message: 'no sign-in f_1' }];
    expect(await signInWithProvider({ provider: 'google', email: 'ada@gmail.com' }, undefined, sleep, now)).toMatchObject({ ok: false, code: 'NOT_FOUND', text: errorHint('OAUTH_FLOW_EXPIRED') });
  });

  it('a sign-in never finished stops asking shortly after the flow’s deadline', async () => {
    const outcome = await signInWithProvider({ provider: 'google', email: 'ada@gmail.com' }, undefined, sleep, now);
    expect(outcome).toMatchObject({ ok: false, code: 'OAUTH_FLOW_EXPIRED' });
    expect(clock).toBeGreaterThanOrEqual(Date.parse(EXPIRES));
    expect(clock).toBeLessThanOrEqual(Date.parse(EXPIRES) + 6 * EXTENSION_LIMITS.oauthPollMs);
  });
});
