import { parseOptions, UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { findAccount, withStateApi } from './state-api.ts';
import { dataDirOf, stateCommand } from './state-command-io.ts';
import { openStateDb } from '../state/state-db.ts';
import { defaultPacing, TransferBudget, type Pacing, type PacingOverride } from '../state/transfer-budget.ts';
import { formatBytes } from '../../lib/format.ts';
import { parseByteSize } from '../../lib/byte-size.ts';
import { PROVIDER_LIMITS } from '../../lib/limits.ts';

/** "2400MB", "2.4G", "500K", "300000" (bytes; read as `search larger:` reads them, lib/byte-size.ts), "off" (no limit) or "default" (the provider's); undefined when not given. */
export function sizeOption(name: string, v: string | boolean | undefined): number | null | 'default' | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} needs a size such as 2400MB, or off, or default`);
  const t = v.trim().toLowerCase();
  if (t === 'off') return null;
  if (t === 'default') return 'default';
  const n = parseByteSize(t);
  if (n === null || n < 1) throw new UsageError(`--${name} must be a size such as 2400MB, 2.4G or 500K, or off, or default, not "${v}"`);
  return n;
}

function countOption(v: string | boolean | undefined): number | null | 'default' | undefined {
  if (v === undefined) return undefined;
  if (v === 'off') return null;
  if (v === 'default') return 'default';
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n) || n < 1 || n > PROVIDER_LIMITS.maxConnectionsSetting) throw new UsageError(`--max-connections must be a whole number from 1 to ${PROVIDER_LIMITS.maxConnectionsSetting}, or off, or default`);
  return n;
}

export function describePacing(p: Pacing): string {
  const size = (n: number | null): string => (n === null ? 'no limit' : `${formatBytes(n)} per 24 h`);
  return `downloads ${size(p.downBytesPerDay)}, uploads ${size(p.upBytesPerDay)}, ${p.maxConnections === null ? 'no connection cap' : `at most ${p.maxConnections} connection(s)`}`;
}

/**
 * `mailkeep account pacing ACCOUNT [--daily-download SIZE|off|default] [--daily-upload ...]
 * [--max-connections N|off|default]`: the account's transfer budget (relay/state/transfer-budget.ts),
 * written to state.sqlite, where the next job of the account reads it (the relay need not restart).
 */
export async function pacingCommand(ref: string, options: string[], io: Io): Promise<number> {
  const o = parseOptions(options, { 'daily-download': 'string', 'daily-upload': 'string', 'max-connections': 'string', 'data-dir': 'string', json: 'boolean' });
  const down = sizeOption('daily-download', o['daily-download']);
  const up = sizeOption('daily-upload', o['daily-upload']);
  const conns = countOption(o['max-connections']);
  const dataDir = dataDirOf(o);
  return stateCommand(io, async () => {
    const account = await withStateApi(dataDir, async (api) => findAccount((await api.snapshot()).accounts, ref).account);
    const db = openStateDb(dataDir);
    try {
      const budget = new TransferBudget(db, Date.now);
      const current = budget.pacing(account.id, account.host);
      const base = defaultPacing(account.host);
      const next: PacingOverride = {};
      const pick = <K extends keyof PacingOverride>(k: K, v: number | null | 'default' | undefined): void => {
        const value = v === undefined ? current[k] : v === 'default' ? base[k] : v;
        if (value !== base[k]) next[k] = value;
      };
      pick('downBytesPerDay', down);
      pick('upBytesPerDay', up);
      pick('maxConnections', conns);
      budget.setPacing(account.id, next);
      const now = budget.pacing(account.id, account.host);
      if (o.json) io.out.write(`${JSON.stringify({ kind: 'account-pacing', accountId: account.id, ...now, usedDownBytes: budget.used(account.id, 'down'), usedUpBytes: budget.used(account.id, 'up') })}\n`);
      else io.out.write(`Account ${account.id} (${now.provider}): ${describePacing(now)}; used in the last 24 h: ${formatBytes(budget.used(account.id, 'down'))} down, ${formatBytes(budget.used(account.id, 'up'))} up.\n`);
      return 0;
    } finally {
      db.close();
    }
  });
}
