import type { JobKind } from '../protocol/status-ids.ts';
import type { BadgeColour } from './status-info.ts';
import { statusInfo } from './catalog.ts';

/** RGB hex of each badge colour; chosen for white text to stay readable on the toolbar. */
export const BADGE_HEX: Readonly<Record<BadgeColour, string>> = {
  red: '#d1242f',
  amber: '#9a6700',
  green: '#1a7f37',
  none: '#6e7781',
};

export interface BadgeAccount {
  readonly id: string;
  readonly displayName: string;
}

export interface BadgeJob {
  readonly accountId: string;
  readonly kind: JobKind;
  readonly status: string;
  readonly progress?: { readonly messagesDone: number; readonly messagesTotal: number | null } | undefined;
}

export interface Badge {
  readonly colour: BadgeColour;
  readonly hex: string;
  readonly text: string;
  readonly title: string;
}

const RANK: Readonly<Record<BadgeColour, number>> = { none: 0, green: 1, amber: 2, red: 3 };
const KIND_WORD: Readonly<Record<JobKind, string>> = {
  backup: 'Backup',
  download: 'Download',
  restore: 'Restore',
  migrate: 'Migrate',
};

/** Whole percent of the running work, or null when no running job knows its total. */
function runningPercent(jobs: readonly BadgeJob[]): number | null {
  let done = 0;
  let total = 0;
  for (const job of jobs) {
    const t = job.progress?.messagesTotal;
    if (t == null || t <= 0) continue;
    done += Math.min(job.progress?.messagesDone ?? 0, t);
    total += t;
  }
  return total > 0 ? Math.floor((done / total) * 100) : null;
}

function jobPhrase(job: BadgeJob): string {
  const info = statusInfo(job.kind, job.status);
  const t = job.progress?.messagesTotal;
  const pct = info.badge === 'green' && t ? ` ${Math.floor((Math.min(job.progress?.messagesDone ?? 0, t) / t) * 100)}%` : '';
  return `${KIND_WORD[job.kind]} ${info.label}${pct}`;
}

/**
 * The toolbar badge, derived from the store alone (pure, so it is the same after the service
 * worker restarts): red with the number of accounts in Connection or Authentication Error; amber
 * "!" for Retrying, Partially Completed and the like; green while running, with a percentage when
 * known; empty when all is well. The tooltip names each account and its states.
 */
export function deriveBadge(accounts: readonly BadgeAccount[], jobs: readonly BadgeJob[]): Badge {
  let worst: BadgeColour = 'none';
  const redAccounts = new Set<string>();
  const lines: string[] = [];
  for (const account of accounts) {
    const own = jobs.filter((j) => j.accountId === account.id);
    // An account's backup state always shows; other jobs only while they matter.
    const shown = own.filter((j) => j.kind === 'backup' || !statusInfo(j.kind, j.status).terminal || statusInfo(j.kind, j.status).badge !== 'none');
    for (const job of own) {
      const colour = statusInfo(job.kind, job.status).badge;
      if (colour === 'red') redAccounts.add(account.id);
      if (RANK[colour] > RANK[worst]) worst = colour;
    }
    lines.push(`${account.displayName}: ${shown.length > 0 ? shown.map(jobPhrase).join('; ') : 'no backup yet'}`);
  }
  const running = jobs.filter((j) => statusInfo(j.kind, j.status).badge === 'green');
  let text = '';
  if (worst === 'red') text = String(redAccounts.size);
  else if (worst === 'amber') text = '!';
  else if (worst === 'green') {
    const pct = runningPercent(running);
    text = pct === null ? '…' : `${pct}%`;
  }
  const head =
    worst === 'red'
      ? `Mailkeep: ${redAccounts.size} account${redAccounts.size === 1 ? ' needs' : 's need'} attention`
      : worst === 'amber'
        ? 'Mailkeep: retrying or incomplete'
        : worst === 'green'
          ? 'Mailkeep: working'
          : accounts.length === 0
            ? 'Mailkeep: add a mailbox to back up'
            : 'Mailkeep: all well';
  return { colour: worst, hex: BADGE_HEX[worst], text, title: [head, ...lines].join('\n') };
}
