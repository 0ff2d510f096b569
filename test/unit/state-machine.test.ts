import { describe, expect, it } from 'vitest';
import { JOB_KINDS, QUEUE_STATUS, TRANSITIONS, statusesOf } from '@/lib/status/catalog';
import { assertTransition, canTransition, pathTo } from '@/lib/status/state-machine';
import { MailkeepError } from '@/lib/protocol/error-codes';

const tableOf = (kind: (typeof JOB_KINDS)[number]) => TRANSITIONS[kind] as Record<string, readonly string[]>;

function codeOf(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof MailkeepError ? err.code : 'not a MailkeepError';
  }
}

describe('the state machine of each job kind', () => {
  for (const kind of JOB_KINDS) {
    it(`allows every ${kind} transition of its table`, () => {
      let count = 0;
      for (const [from, targets] of Object.entries(tableOf(kind))) {
        for (const to of targets) {
          expect(canTransition(kind, from, to), `${from} -> ${to}`).toBe(true);
          expect(() => assertTransition(kind, from, to)).not.toThrow();
          count += 1;
        }
      }
      expect(count).toBeGreaterThan(5);
    });

    it(`refuses with ILLEGAL_TRANSITION every ${kind} move outside its table`, () => {
      const statuses = statusesOf(kind);
      for (const from of statuses) {
        for (const to of statuses) {
          if (tableOf(kind)[from]?.includes(to)) continue;
          expect(codeOf(() => assertTransition(kind, from, to)), `${from} -> ${to}`).toBe('ILLEGAL_TRANSITION');
        }
      }
    });

    it(`lists every ${kind} status in its table and reaches each one from the queue`, () => {
      expect(Object.keys(tableOf(kind)).sort()).toEqual([...statusesOf(kind)].sort());
      for (const status of statusesOf(kind)) {
        if (status === QUEUE_STATUS[kind]) continue;
        expect(pathTo(kind, QUEUE_STATUS[kind], status), status).not.toBeNull();
      }
    });
  }

  it('refuses the sample of moves a careless caller might try', () => {
    const illegal: [(typeof JOB_KINDS)[number], string, string][] = [
      ['backup', 'completed', 'running'], // a new run starts at Preparing Backup
      ['backup', 'preparing', 'completed'], // nothing was backed up yet
      ['backup', 'authentication_error', 'running'], // needs new credentials first
      ['backup', 'deactivated', 'completed'],
      ['download', 'on_queue', 'completed_link'],
      ['download', 'expired', 'completed_link'], // an expired link never comes back
      ['download', 'cancelled', 'running'],
      ['restore', 'completed', 'running'], // a finished restore is not reopened
      ['restore', 'on_queue', 'completed'],
      ['migrate', 'partially_complete', 'completed'],
      ['migrate', 'failed', 'running'],
    ];
    for (const [kind, from, to] of illegal) {
      expect(canTransition(kind, from, to), `${kind}: ${from} -> ${to}`).toBe(false);
      expect(codeOf(() => assertTransition(kind, from, to))).toBe('ILLEGAL_TRANSITION');
    }
  });

  it('refuses statuses that belong to another kind', () => {
    expect(canTransition('download', 'running', 'completed')).toBe(false);
    expect(canTransition('backup', 'on_queue', 'running')).toBe(false);
    expect(codeOf(() => assertTransition('restore', 'running', 'completed_link'))).toBe('ILLEGAL_TRANSITION');
  });

  it('finds the shortest legal path, used by the seed hook to reach a status without skipping the machine', () => {
    expect(pathTo('backup', 'preparing', 'completed')).toEqual(['running', 'completed']);
    expect(pathTo('backup', 'preparing', 'connection_error')).toEqual(['retrying', 'connection_error']);
    expect(pathTo('download', 'on_queue', 'expired')).toEqual(['running', 'completed_link', 'expired']);
    expect(pathTo('restore', 'completed', 'running')).toBeNull();
  });
});
