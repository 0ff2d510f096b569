import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing';
import { sendMessage } from '@/lib/ui/send-message';

describe('a page asking the service worker', () => {
  beforeEach(() => fakeBrowser.reset());

  it('gets the worker\'s answer as it is', async () => {
    fakeBrowser.runtime.onMessage.addListener(() => Promise.resolve({ ok: true, value: 7 }));
    expect(await sendMessage({ type: 'ping' })).toEqual({ ok: true, value: 7 });
  });

  it('gets a refusal with words, not a rejected promise, when the worker cannot answer (stopped while handling)', async () => {
    fakeBrowser.runtime.onMessage.addListener(() => Promise.reject(new Error('The message port closed before a response was received.')));
    const reply = await sendMessage({ type: 'ping' });
    expect(reply).toMatchObject({ ok: false, code: 'UNKNOWN' });
    expect(reply.ok ? '' : reply.message).toContain('did not answer');
  });
});
