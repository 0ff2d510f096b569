import { describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../lib/protocol/common.ts';
import { newJobKey, runRelayJob } from '../../lib/migrate/run-relay-job.ts';

const snap = (status: string, phase: JobSnapshot['phase'], done = 0): JobSnapshot => ({
  id: 'j_1', kind: 'migrate', accountId: 'old', idempotencyKey: 'k-00000001', status, phase, errorCode: null,
  progress: { folder: null, messagesDone: done, messagesTotal: 10, bytes: 0 }, createdAt: '2026-11-25T23:00:00.000Z', updatedAt: '2026-11-25T23:00:00.000Z',
});

describe('following a relay job from a page', () => {
  it('starts once and polls job.get until the job is finished, reporting each snapshot', async () => {
    const replies = [snap('running', 'active', 3), snap('running', 'active', 7), snap('completed', 'finished', 10)];
    const calls: string[] = [];
    const relay = {
      call: (async (method: string) => {
        calls.push(method);
        return method === 'job.start' ? { job: snap('on_queue', 'queued'), created: true } : { job: replies.shift()! };
      }) as never,
    };
    const seen: number[] = [];
    const final = await runRelayJob(relay, { kind: 'migrate', accountId: 'old', idempotencyKey: 'k-00000001', params: { destinationAccountId: 'new' }, deadlineMs: 10_000, sleep: async () => undefined, onUpdate: (j) => seen.push(j.progress.messagesDone) });
    expect(final.status).toBe('completed');
    expect(calls).toEqual(['job.start', 'job.get', 'job.get', 'job.get']);
    expect(seen).toEqual([0, 3, 7, 10]);
  });

  it('gives up at its deadline, and on a relay that stopped under the job', async () => {
    let t = 0;
    const running = { call: (async (m: string) => (m === 'job.start' ? { job: snap('running', 'active'), created: true } : { job: snap('running', 'active') })) as never };
    await expect(runRelayJob(running, { kind: 'migrate', accountId: 'old', idempotencyKey: 'k-00000001', params: { destinationAccountId: 'new' }, deadlineMs: 1000, sleep: async () => void (t += 600), now: () => t })).rejects.toMatchObject({ code: 'CONNECTION_TIMEOUT' });
    const stopped = { call: (async (m: string) => (m === 'job.start' ? { job: snap('running', 'active'), created: true } : { job: snap('running', 'interrupted') })) as never };
    await expect(runRelayJob(stopped, { kind: 'migrate', accountId: 'old', idempotencyKey: 'k-00000001', params: { destinationAccountId: 'new' }, deadlineMs: 1000, sleep: async () => undefined })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('makes keys that fit the protocol and differ per click', () => {
    const a = newJobKey('migrate', 'old', 'new', true);
    expect(a).toMatch(/^migrate-old-new-preview-/);
    expect(a.length).toBeLessThanOrEqual(128);
    expect(newJobKey('migrate', 'old', 'new', true)).not.toBe(a);
  });
});
