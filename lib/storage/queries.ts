import { EXTENSION_LIMITS } from '../limits.ts';
import { statusInfo } from '../status/catalog.ts';
import type { JobKind } from '../protocol/status-ids.ts';
import type { Severity } from '../status/status-info.ts';
import type { MailkeepDb } from './db.ts';
import type { AccountRow, JobRow, PromptRow, RunRow } from './rows.ts';

export interface AccountOverview {
  account: AccountRow;
  backup: JobRow | undefined;
  /** Download, restore and migrate jobs that are under way or need the user. */
  otherJobs: JobRow[];
  prompts: PromptRow[];
  /** The most urgent severity over the backup and the jobs shown: orders and marks the card. */
  worst: Severity;
}

/** Shown on a card: still moving, or stopped in a state the user should see. */
export function isWorthShowing(job: JobRow): boolean {
  const info = statusInfo(job.kind, job.status);
  return !info.terminal || info.severity === 'warning' || info.severity === 'error';
}

/**
 * What the popup shows. Reads accounts, jobs and prompts only, never the event history, so the
 * popup stays fast however long the history grows.
 */
export async function loadOverview(db: MailkeepDb): Promise<AccountOverview[]> {
  const [accounts, jobs, prompts] = await db.transaction('r', [db.accounts, db.jobs, db.prompts], () =>
    Promise.all([db.accounts.toArray(), db.jobs.toArray(), db.prompts.toArray()]),
  );
  const overview = accounts.map((account) => {
    const own = jobs.filter((j) => j.accountId === account.id);
    const backup = own.find((j) => j.kind === 'backup');
    const otherJobs = own.filter((j) => j.kind !== 'backup' && isWorthShowing(j)).sort((a, b) => b.updatedAt - a.updatedAt);
    const severities = [backup, ...otherJobs].flatMap((j) => (j ? [statusInfo(j.kind, j.status).severity] : []));
    const worst = severities.reduce<Severity>((w, s) => (URGENCY[s] < URGENCY[w] ? s : w), backup ? 'ok' : 'info');
    return {
      account,
      backup,
      otherJobs,
      prompts: prompts.filter((p) => p.accountId === account.id && p.resolvedAt === null),
      worst,
    };
  });
  // Accounts that need the user come first, then by name.
  return overview.sort(
    (a, b) => URGENCY[a.worst] - URGENCY[b.worst] || a.account.displayName.localeCompare(b.account.displayName) || a.account.id.localeCompare(b.account.id),
  );
}

const URGENCY: Readonly<Record<Severity, number>> = { error: 0, warning: 1, progress: 2, info: 3, ok: 4 };

export interface JobFilter {
  accountId?: string | undefined;
  status?: string | undefined;
}

/** One dashboard tab: jobs of a kind, newest first, optionally of one account and one status. */
export async function listJobs(db: MailkeepDb, kind: JobKind, filter: JobFilter = {}): Promise<JobRow[]> {
  return db.jobs
    .where('kind')
    .equals(kind)
    .filter((j) => (!filter.accountId || j.accountId === filter.accountId) && (!filter.status || j.status === filter.status))
    .reverse()
    .sortBy('updatedAt')
    .then((rows) => rows.slice(0, EXTENSION_LIMITS.dashboardMaxRows));
}

/** Accounts by display name (few rows; sorted here rather than indexed). */
export async function listAccounts(db: MailkeepDb): Promise<AccountRow[]> {
  const accounts = await db.accounts.toArray();
  return accounts.sort((a, b) => a.displayName.localeCompare(b.displayName) || a.id.localeCompare(b.id));
}

/** The relay's history of one kind (the dashboard's "Runs on the relay"), newest first. */
export async function listRuns(db: MailkeepDb, kind: JobKind, accountId?: string): Promise<RunRow[]> {
  const rows = await db.runs.where('kind').equals(kind).filter((r) => !accountId || r.accountId === accountId).toArray();
  return rows.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, EXTENSION_LIMITS.dashboardMaxRows);
}
