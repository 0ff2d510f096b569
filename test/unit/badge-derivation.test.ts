import { describe, expect, it } from 'vitest';
import { BADGE_HEX, deriveBadge, type BadgeJob } from '@/lib/status/badge';

const alice = { id: 'a', displayName: 'Alice Work' };
const bob = { id: 'b', displayName: 'Bob Home' };
const carol = { id: 'c', displayName: 'Carol' };
const backup = (accountId: string, status: string, done = 0, total: number | null = null): BadgeJob => ({
  accountId,
  kind: 'backup',
  status,
  progress: { messagesDone: done, messagesTotal: total },
});

describe('the toolbar badge derived from account states', () => {
  it('is empty when all is well and says so in the tooltip', () => {
    const badge = deriveBadge([alice, bob], [backup('a', 'completed'), backup('b', 'deactivated')]);
    expect(badge.text).toBe('');
    expect(badge.colour).toBe('none');
    expect(badge.title).toBe('Mailkeep: all well\nAlice Work: Backup Completed\nBob Home: Backup Deactivated');
  });

  it('is red with the number of accounts in Connection or Authentication Error, whatever else is going on', () => {
    const badge = deriveBadge(
      [alice, bob, carol],
      [
        backup('a', 'authentication_error'),
        backup('b', 'connection_error'),
        { accountId: 'b', kind: 'restore', status: 'authentication_error' }, // same account: counted once
        backup('c', 'running', 10, 100),
        { accountId: 'c', kind: 'download', status: 'retrying' },
      ],
    );
    expect(badge.colour).toBe('red');
    expect(badge.hex).toBe(BADGE_HEX.red);
    expect(badge.text).toBe('2');
    expect(badge.title).toContain('Alice Work: Backup Authentication Error');
    expect(badge.title).toContain('Bob Home: Backup Connection Error; Restore Authentication Error');
    expect(badge.title).toContain('Carol: Backup In Progress / Running 10%; Download Retrying');
    expect(badge.title.split('\n')[0]).toBe('Mailkeep: 2 accounts need attention');
  });

  it('is amber for Retrying and Partially Completed when nothing is red, even while another account runs', () => {
    expect(deriveBadge([alice, bob], [backup('a', 'retrying'), backup('b', 'running', 1, 2)])).toMatchObject({ colour: 'amber', text: '!' });
    expect(deriveBadge([alice], [backup('a', 'partially_completed')])).toMatchObject({ colour: 'amber', text: '!' });
    expect(deriveBadge([alice], [backup('a', 'completed'), { accountId: 'a', kind: 'migrate', status: 'partially_complete' }]).colour).toBe('amber');
  });

  it('is green while running, with the percentage over all running jobs when their totals are known', () => {
    const badge = deriveBadge(
      [alice, bob],
      [backup('a', 'running', 30, 100), backup('b', 'completed'), { accountId: 'b', kind: 'restore', status: 'running', progress: { messagesDone: 70, messagesTotal: 100 } }],
    );
    expect(badge).toMatchObject({ colour: 'green', text: '50%', hex: BADGE_HEX.green });
    expect(badge.title).toContain('Bob Home: Backup Completed; Restore In Progress / Running 70%');
  });

  it('is green without a number while no running job knows its total', () => {
    expect(deriveBadge([alice], [backup('a', 'running', 5, null)])).toMatchObject({ colour: 'green', text: '…' });
  });

  it('leaves finished download, restore and migrate jobs out of the tooltip', () => {
    const badge = deriveBadge([alice], [backup('a', 'completed'), { accountId: 'a', kind: 'restore', status: 'completed' }, { accountId: 'a', kind: 'download', status: 'expired' }]);
    expect(badge.title).toBe('Mailkeep: all well\nAlice Work: Backup Completed');
  });

  it('invites the user to add a mailbox when there is none', () => {
    expect(deriveBadge([], [])).toEqual({ colour: 'none', hex: BADGE_HEX.none, text: '', title: 'Mailkeep: add a mailbox to back up' });
  });
});
