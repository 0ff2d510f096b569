import { describe, expect, it } from 'vitest';
import { CATALOG, statusInfo } from '@/lib/status/catalog';
import type { JobKind } from '@/lib/protocol/status-ids';
import { canTransition } from '@/lib/status/state-machine';
import { QUEUE_STATUS } from '@/lib/status/catalog';
import { accountToEdit } from '@/lib/background/account-to-edit';
import { actionsFor, type ActionId } from '@/lib/ui/status-action-list';

/** The buttons a hint names, by their label in the hint. */
const NAMED: Record<string, ActionId> = { '"Retry now"': 'retry', '"Edit"': 'edit', '"Enable"': 'enable', '"Download"': 'download', '"Copy diagnostics"': 'copy-diagnostics' };

describe('the buttons of a status card', () => {
  it('every button a hint tells the user to click is on the card, for every status of every kind', () => {
    for (const [kind, table] of Object.entries(CATALOG) as [JobKind, Record<string, { hint: string }>][]) {
      for (const [status, info] of Object.entries(table)) {
        const actions = actionsFor({ kind, status });
        for (const [label, action] of Object.entries(NAMED)) {
          if (info.hint.includes(label)) expect(actions, `${kind}/${status}: ${info.hint}`).toContain(action);
        }
      }
    }
  });

  it('offers Retry now only where the state machine can queue the job again, and the report link with every Copy diagnostics', () => {
    for (const kind of Object.keys(CATALOG) as JobKind[]) {
      for (const status of Object.keys(CATALOG[kind])) {
        const actions = actionsFor({ kind, status });
        if (actions.includes('retry')) expect(canTransition(kind, status, QUEUE_STATUS[kind]), `${kind}/${status}`).toBe(true);
        expect(actions.includes('report'), `${kind}/${status}`).toBe(actions.includes('copy-diagnostics'));
        expect(actions.includes('copy-diagnostics')).toBe(statusInfo(kind, status).offersDiagnostics);
      }
    }
  });

  it('a restore or migration at Authentication Error offers Edit, then Retry now (saving an account re-queues only its backup)', () => {
    expect(actionsFor({ kind: 'migrate', status: 'authentication_error' })).toEqual(['edit', 'retry']);
    expect(actionsFor({ kind: 'restore', status: 'authentication_error' })).toEqual(['edit', 'retry']);
    expect(actionsFor({ kind: 'backup', status: 'authentication_error' })).toEqual(['edit']);
  });

  it('an account signed in with OAuth2 at Authentication Error offers Sign in again instead of Edit, for every kind', () => {
    const oauth = { oauthProvider: 'google' };
    expect(actionsFor({ kind: 'backup', status: 'authentication_error' }, oauth)).toEqual(['sign-in-again']);
    expect(actionsFor({ kind: 'restore', status: 'authentication_error' }, oauth)).toEqual(['sign-in-again', 'retry']);
    expect(actionsFor({ kind: 'migrate', status: 'authentication_error' }, oauth)).toEqual(['sign-in-again', 'retry']);
    // A password account keeps Edit; other statuses of an OAuth account keep theirs (Edit fixes a server address).
    expect(actionsFor({ kind: 'backup', status: 'authentication_error' }, {})).toEqual(['edit']);
    for (const kind of Object.keys(CATALOG) as JobKind[]) {
      for (const status of Object.keys(CATALOG[kind])) {
        if (status === 'authentication_error') continue;
        expect(actionsFor({ kind, status }, oauth), `${kind}/${status}`).toEqual(actionsFor({ kind, status }));
      }
    }
  });

  it('offers Cancel for any run the relay runs (a backup too: it ends Partially Completed), never for a run the relay does not run or one at rest', () => {
    expect(actionsFor({ kind: 'restore', status: 'running', relayJobId: 'j_000000000001' })).toContain('cancel');
    expect(actionsFor({ kind: 'download', status: 'on_queue', relayJobId: 'j_000000000001' })).toContain('cancel');
    expect(actionsFor({ kind: 'restore', status: 'running', relayJobId: null })).not.toContain('cancel');
    // A running backup can be stopped too (Partially Completed, the rest at its next run); one that is not live on the relay cannot.
    expect(actionsFor({ kind: 'backup', status: 'running', relayJobId: 'j_000000000001' })).toContain('cancel');
    expect(actionsFor({ kind: 'backup', status: 'running', relayJobId: null })).not.toContain('cancel');
    expect(actionsFor({ kind: 'backup', status: 'completed', relayJobId: 'j_000000000001' })).not.toContain('cancel');
    expect(actionsFor({ kind: 'restore', status: 'completed', relayJobId: 'j_000000000001' })).not.toContain('cancel');
  });

  it('Edit opens the destination account when a migration failed on the destination server', () => {
    const base = { kind: 'migrate' as const, accountId: 'src', params: { destinationAccountId: 'dst' } };
    expect(accountToEdit({ ...base, outcome: { side: 'destination' } })).toBe('dst');
    expect(accountToEdit({ ...base, outcome: { side: 'source' } })).toBe('src');
    expect(accountToEdit({ ...base, outcome: null })).toBe('src');
    expect(accountToEdit({ kind: 'restore', accountId: 'src', params: {}, outcome: { side: 'destination' } })).toBe('src');
  });
});
