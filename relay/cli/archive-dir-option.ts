import fs from 'node:fs';
import path from 'node:path';
import { RELAY_LIMITS } from '../../lib/limits.ts';
import { mailkeepError } from '../../lib/protocol/error-codes.ts';
import Database from '../archive/sqlite.ts';
import { currentServiceEnv, dataDirOf } from '../service/platform.ts';
import { matchAccount, type AccountNames } from './account-ref.ts';
import { UsageError } from './args.ts';

/**
 * The archive a command reads: --archive DIR as given, else the archive of a stored account of the
 * relay's data dir (--account NAME, --data-dir DIR or the relay's default), else the only archive
 * there is. A person who backs up through the relay never needs to know where it keeps archives.
 * Reads state.sqlite read-only and directly (the relay need not run; no validation library, so a
 * one-shot search stays small).
 */
export function archiveDirOption(o: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): string {
  if (typeof o.archive === 'string') {
    if (typeof o.account === 'string') throw new UsageError('give --archive DIR or --account NAME, not both');
    // Not silently ignored: the person meant one of the relay's archives, or this directory.
    if (typeof o['data-dir'] === 'string') throw new UsageError('--data-dir names the relay\'s data dir for --account; it does not go with --archive DIR');
    return o.archive;
  }
  const dataDir = path.resolve(typeof o['data-dir'] === 'string' ? o['data-dir'] : dataDirOf(currentServiceEnv(env)));
  const accounts = storedAccounts(dataDir);
  const withArchive = accounts.filter((a) => fs.existsSync(path.join(dataDir, 'archives', a.id, 'index.sqlite')));
  if (typeof o.account === 'string') {
    const a = matchAccount(accounts, o.account, (x) => x);
    if (!withArchive.includes(a)) throw mailkeepError('NOT_FOUND', `account ${o.account} has no archive yet: its first backup makes one`);
    return path.join(dataDir, 'archives', a.id);
  }
  if (withArchive.length === 1) return path.join(dataDir, 'archives', withArchive[0]!.id);
  if (withArchive.length === 0) throw new UsageError(accounts.length ? `no account in ${dataDir} has an archive yet (a first backup makes one); or give --archive DIR` : `no stored accounts in ${dataDir}: give --archive DIR, or --data-dir DIR where the relay keeps its data`);
  throw new UsageError(`${withArchive.length} accounts have archives: name one with --account (${withArchive.map((a) => a.email ?? a.user).join(', ')})`);
}

function storedAccounts(dataDir: string): AccountNames[] {
  const file = path.join(dataDir, 'state.sqlite');
  if (!fs.existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${RELAY_LIMITS.sqliteBusyTimeoutMs}`);
    return db
      .prepare<[], { id: string; settings: string }>('SELECT id, settings FROM accounts ORDER BY created_at')
      .all()
      .map((r) => {
        const s = JSON.parse(r.settings) as { user?: unknown; email?: unknown; name?: unknown };
        return { id: r.id, user: typeof s.user === 'string' ? s.user : '', ...(typeof s.email === 'string' ? { email: s.email } : {}), ...(typeof s.name === 'string' ? { name: s.name } : {}) };
      });
  } finally {
    db.close();
  }
}
