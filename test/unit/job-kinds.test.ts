import { describe, expect, it } from 'vitest';
import { RequestFrame } from '@/lib/protocol/client-frames';
import { JobSnapshot } from '@/lib/protocol/common';
import { jobRequestOf, jobResultOf, jobStartBody } from '@/lib/protocol/job-kinds';

const start = (body: Record<string, unknown>) =>
  RequestFrame.safeParse({ type: 'request', id: 'r1', method: 'job.start', params: { accountId: 'acct', idempotencyKey: 'key-12345678', ...body } });

const snapshot = (kind: string, status: string, outcome?: unknown) => ({
  id: 'j_1',
  kind,
  accountId: 'acct',
  idempotencyKey: 'key-12345678',
  status,
  phase: 'finished',
  errorCode: null,
  progress: { folder: null, messagesDone: 0, messagesTotal: null, bytes: 0 },
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:00:00.000Z',
  ...(outcome !== undefined ? { outcome } : {}),
});

describe('job parameters and outcomes, one union by kind', () => {
  it('job.start takes each kind with its own params, as the extension sends them today', () => {
    expect(start({ kind: 'backup' }).success).toBe(true);
    expect(start({ kind: 'backup', params: {} }).success).toBe(true);
    expect(start({ kind: 'restore', params: { folder: 'INBOX', dryRun: true } }).success).toBe(true);
    expect(start({ kind: 'migrate', params: { destinationAccountId: 'other' } }).success).toBe(true);
    const download = start({ kind: 'download', params: { folder: 'INBOX' } });
    expect(download.success && download.data.method === 'job.start' && download.data.params).toMatchObject({ kind: 'download', params: { format: 'mbox', folder: 'INBOX' } });
  });

  it('job.start refuses params that belong to another kind or miss what the kind needs', () => {
    expect(start({ kind: 'backup', params: { folder: 'INBOX' } }).success).toBe(false);
    expect(start({ kind: 'restore', params: { format: 'mbox' } }).success).toBe(false);
    expect(start({ kind: 'migrate', params: {} }).success).toBe(false);
    expect(start({ kind: 'migrate' }).success).toBe(false);
    expect(start({ kind: 'download', params: { destinationAccountId: 'other' } }).success).toBe(false);
  });

  it('a kind and params held apart become a start body, or an INVALID_INPUT before anything is sent', () => {
    expect(jobStartBody({ kind: 'migrate', accountId: 'a', idempotencyKey: 'key-12345678', params: { destinationAccountId: 'b' } })).toMatchObject({ kind: 'migrate', params: { destinationAccountId: 'b' } });
    expect(() => jobStartBody({ kind: 'migrate', accountId: 'a', idempotencyKey: 'key-12345678', params: {} })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('a snapshot reads its outcome by its kind, from the same wire object as before (no kind inside the outcome)', () => {
    const backup = JobSnapshot.parse(snapshot('backup', 'completed', { counts: { messages: 3, bytes: 300, disappeared: 1, runId: 7 } }));
    expect(backup.kind === 'backup' && backup.outcome?.counts?.runId).toBe(7);
    const link = { url: '/download/abcdefabcdefabcdef', expiresAt: '2026-11-26T10:00:00.000Z', fileName: 'a.zip', bytes: 10 };
    const dl = JobSnapshot.parse(snapshot('download', 'completed_link', { link, counts: { messages: 1, folders: 1 } }));
    expect(dl.kind === 'download' && dl.outcome?.link).toEqual(link);
    expect(JobSnapshot.safeParse(snapshot('restore', 'completed')).success).toBe(true);
  });

  it('a snapshot refuses an outcome of another kind and a status of another kind', () => {
    const link = { url: '/download/abcdefabcdefabcdef', expiresAt: '2026-11-26T10:00:00.000Z', fileName: 'a.zip', bytes: 10 };
    expect(JobSnapshot.safeParse(snapshot('backup', 'completed', { link })).success).toBe(false);
    expect(JobSnapshot.safeParse(snapshot('migrate', 'completed', { counts: { messages: 1, bytes: 1, disappeared: 0 } })).success).toBe(false);
    expect(JobSnapshot.safeParse(snapshot('backup', 'cancelled')).success).toBe(false);
  });

  it('stored rows are read through the union: a mismatch or a row without params reads as unknown, not as another kind', () => {
    expect(jobRequestOf({ kind: 'migrate', params: { destinationAccountId: 'b' } })).toEqual({ kind: 'migrate', params: { destinationAccountId: 'b' } });
    expect(jobRequestOf({ kind: 'migrate', params: { folder: 'INBOX' } })).toBeNull();
    expect(jobRequestOf({ kind: 'migrate', params: null })).toBeNull();
    expect(jobResultOf({ kind: 'restore', outcome: { counts: { restored: 2, alreadyPresent: 0, notRestored: 1, foldersCreated: 0 } } })?.outcome).toMatchObject({ counts: { restored: 2 } });
    expect(jobResultOf({ kind: 'restore', outcome: { counts: { migrated: 2 } } })).toBeNull();
    expect(jobResultOf({ kind: 'backup', outcome: null })).toBeNull();
  });
});
