import { describe, expect, it } from 'vitest';
import {
  ClientFrame,
  EventFrame,
  JobSnapshot,
  RelayFrame,
  RequestFrame,
  ResultByMethod,
  negotiateVersion,
} from '../../lib/protocol/index.ts';

const snapshot = {
  id: 'j_1',
  kind: 'backup',
  accountId: 'work',
  idempotencyKey: 'backup-work-1',
  status: 'running',
  phase: 'active',
  errorCode: null,
  progress: { folder: 'INBOX', messagesDone: 1, messagesTotal: 2, bytes: 3 },
  createdAt: '2026-11-25T23:00:00.000Z',
  updatedAt: '2026-11-25T23:00:00.000Z',
};

describe('protocol schemas', () => {
  it('negotiates the highest shared version and null when none is shared', () => {
    expect(negotiateVersion([1, 2, 3], [1, 2])).toBe(2);
    expect(negotiateVersion([9], [1])).toBeNull();
  });

  it('refuses a status id that belongs to another job kind', () => {
    expect(JobSnapshot.safeParse(snapshot).success).toBe(true);
    expect(JobSnapshot.safeParse({ ...snapshot, status: 'cancelled' }).success).toBe(false);
    expect(JobSnapshot.safeParse({ ...snapshot, kind: 'restore', status: 'cancelled' }).success).toBe(true);
    const ev = { type: 'event', data: { event: 'status', jobId: 'j_1', kind: 'download', status: 'completed', phase: 'finished', errorCode: null, at: snapshot.createdAt } };
    expect(EventFrame.safeParse(ev).success).toBe(false);
  });

  it('refuses an unknown method, an unknown frame type and extra fields', () => {
    expect(RequestFrame.safeParse({ type: 'request', id: 'a', method: 'account.dump', params: {} }).success).toBe(false);
    expect(ClientFrame.safeParse({ type: 'shell', id: 'a' }).success).toBe(false);
    expect(
      RequestFrame.safeParse({ type: 'request', id: 'a', method: 'job.get', params: { jobId: 'j_1', extra: 1 } }).success,
    ).toBe(false);
  });

  it('refuses account ids that could escape a directory', () => {
    const upsert = (id: string) => ({
      type: 'request',
      id: 'a',
      method: 'account.upsert',
      params: { account: { id, host: 'h', port: 143, security: 'none', user: 'u' } },
    });
    expect(RequestFrame.safeParse(upsert('work')).success).toBe(true);
    expect(RequestFrame.safeParse(upsert('../etc')).success).toBe(false);
  });

  it('fills defaults for job.start params and job.list limit', () => {
    const start = RequestFrame.parse({ type: 'request', id: 'a', method: 'job.start', params: { kind: 'backup', accountId: 'w', idempotencyKey: 'key-12345' } });
    expect(start.method === 'job.start' && start.params.params).toEqual({});
    const list = RequestFrame.parse({ type: 'request', id: 'a', method: 'job.list', params: {} });
    expect(list.method === 'job.list' && list.params.limit).toBe(100);
  });

  it('has no result schema that could carry a password', () => {
    const upsert = ResultByMethod['account.upsert'];
    expect(upsert.safeParse({ accountId: 'w', hasPassword: true, password: 'x' }).success).toBe(false);
  });

  it('parses every relay frame type through the union', () => {
    expect(RelayFrame.parse({ type: 'result', id: 'a', result: { job: snapshot } }).type).toBe('result');
    expect(RelayFrame.parse({ type: 'error', id: null, code: 'UNAUTHORIZED', message: 'no' }).type).toBe('error');
  });
});
