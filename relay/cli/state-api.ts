import type { AccountState, Schedule } from '../../lib/protocol/account-state.ts';
import type { ImapAccount, JobSnapshot } from '../../lib/protocol/common.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import { withDataDir } from './data-dir-access.ts';
import type { RelayState } from '../state/relay-state.ts';
import type { AccountHistoryResult } from '../../lib/protocol/account-history.ts';
import { accountHistory } from '../state/run-history.ts';
import { matchAccount } from './account-ref.ts';

export interface StateSnapshot {
  relayTime: string;
  timeZone: string;
  accounts: AccountState[];
  jobs: JobSnapshot[];
}

/**
 * What the account, schedule and status commands need, the same whether the relay runs (then
 * every change goes through it, so the extension hears of it at once and the credential file has
 * one writer) or not (then the command works on the data dir under the relay's lock).
 */
export interface StateApi {
  readonly via: 'relay' | 'direct';
  snapshot(): Promise<StateSnapshot>;
  upsert(account: ImapAccount, password: string | undefined, schedule: Schedule | undefined): Promise<AccountState>;
  remove(accountId: string): Promise<boolean>;
  setSchedule(accountId: string, schedule: Schedule): Promise<AccountState>;
  /** The newest `limit` runs of the account and its archive's totals (account.history). */
  history(accountId: string, limit: number): Promise<AccountHistoryResult>;
}

export async function withStateApi<T>(dataDir: string, fn: (api: StateApi) => Promise<T>): Promise<T> {
  return withDataDir(dataDir, {
    viaRelay: ({ connection: c }) =>
      fn({
        via: 'relay',
        snapshot: () => c.call('state.get', {}),
        upsert: async (account, password, schedule) => {
          const r = await c.call('account.upsert', { account, ...(password !== undefined ? { password } : {}), ...(schedule ? { schedule } : {}) });
          if (!r.state) throw mailkeepError('PROTOCOL_MISMATCH', 'the running relay is older than this command line; restart it');
          return r.state;
        },
        remove: async (accountId) => (await c.call('account.delete', { accountId })).deleted,
        setSchedule: async (accountId, schedule) => (await c.call('schedule.set', { accountId, schedule })).account,
        history: (accountId, limit) => c.call('account.history', { accountId, limit }),
      }),
    direct: (state) => fn(directApi(state)),
  });
}

export function directApi(state: RelayState): StateApi {
  return {
    via: 'direct',
    snapshot: () => state.snapshot(),
    upsert: async (account, password, schedule) => {
      state.upsertAccount(account, password, schedule);
      return state.accountState(account.id);
    },
    remove: async (accountId) => state.deleteAccount(accountId),
    setSchedule: async (accountId, schedule) => {
      state.setSchedule(accountId, schedule);
      return state.accountState(accountId);
    },
    history: (accountId, limit) => accountHistory({ dataDir: state.dataDir, db: state.db, clock: state.clock }, { accountId, limit }),
  };
}

/** An account named on the command line: its id, its login, the address the pages show or its name; exactly one (account-ref.ts). */
export function findAccount(accounts: readonly AccountState[], ref: string): AccountState {
  return matchAccount(accounts, ref, (a) => a.account);
}
