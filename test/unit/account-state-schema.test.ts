import { describe, expect, it } from 'vitest';
import { AccountState, RelayEvent, RequestFrame, Schedule } from '../../lib/protocol/index.ts';

const account = { id: 'work', host: 'imap.example.org', port: 993, security: 'tls', user: 'ada@example.org' } as const;
const state = { account, hasPassword: true, schedule: { kind: 'every', hours: 6 }, status: 'completed', nextRunAt: null, retryAt: null, lastSuccessAt: null, latestBackup: null, archive: null };

describe('the account state contract', () => {
  it('a schedule is off, every 1 to 168 hours, or daily at a real HH:MM', () => {
    for (const ok of [{ kind: 'off' }, { kind: 'every', hours: 1 }, { kind: 'every', hours: 168 }, { kind: 'daily', at: '00:00' }, { kind: 'daily', at: '23:59' }]) expect(Schedule.safeParse(ok).success, JSON.stringify(ok)).toBe(true);
    for (const bad of [{ kind: 'every', hours: 0 }, { kind: 'every', hours: 169 }, { kind: 'every', hours: 1.5 }, { kind: 'daily', at: '24:00' }, { kind: 'daily', at: '2:00' }, { kind: 'daily', at: '02:60' }, { kind: 'weekly' }, { kind: 'off', hours: 3 }]) {
      expect(Schedule.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('an account state never carries a password, and its status is a backup status or null', () => {
    expect(AccountState.safeParse(state).success).toBe(true);
    expect(AccountState.safeParse({ ...state, password: 'x' }).success).toBe(false);
    expect(AccountState.safeParse({ ...state, account: { ...account, password: 'x' } }).success).toBe(false);
    expect(AccountState.safeParse({ ...state, status: 'completed_link' }).success).toBe(false);
    expect(AccountState.safeParse({ ...state, status: null }).success).toBe(true);
  });

  it('account events and the new requests parse; a job event still parses as a relay event', () => {
    expect(RelayEvent.safeParse({ event: 'account.changed', account: state, at: '2026-11-26T02:00:00.000Z' }).success).toBe(true);
    expect(RelayEvent.safeParse({ event: 'account.removed', accountId: 'work', at: '2026-11-26T02:00:00.000Z' }).success).toBe(true);
    expect(RelayEvent.safeParse({ event: 'status', jobId: 'j_1', kind: 'backup', status: 'running', phase: 'active', errorCode: null, at: '2026-11-26T02:00:00.000Z' }).success).toBe(true);
    expect(RequestFrame.parse({ type: 'request', id: 'r', method: 'state.get', params: {} })).toMatchObject({ params: { jobLimit: 100 } });
    expect(RequestFrame.safeParse({ type: 'request', id: 'r', method: 'schedule.set', params: { accountId: 'work', schedule: { kind: 'every', hours: 0 } } }).success).toBe(false);
    expect(RequestFrame.safeParse({ type: 'request', id: 'r', method: 'account.upsert', params: { account, schedule: { kind: 'daily', at: '02:00' } } }).success).toBe(true);
    // Requests of earlier clients (no schedule) still parse.
    expect(RequestFrame.safeParse({ type: 'request', id: 'r', method: 'account.upsert', params: { account, password: 'pw' } }).success).toBe(true);
  });
});
