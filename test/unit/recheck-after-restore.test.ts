import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../lib/protocol/common.ts';
import { RecheckAfterRestore } from '../../relay/state/recheck-after-restore.ts';

// When the relay backs an account up after a restore into it (the real relay and Dovecot:
// archive-selection-relay.test.ts): only when mail went back into an archived account, after a
// backup that is running ends, and never from a status the backup machine does not leave.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function dataDir(archived: string[]): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-recheck-'));
  dirs.push(d);
  for (const a of archived) {
    fs.mkdirSync(path.join(d, 'archives', a), { recursive: true });
    fs.writeFileSync(path.join(d, 'archives', a, 'index.sqlite'), '');
  }
  return d;
}
const at = '2026-12-02T14:07:00.000Z';
const restore = (restored: number, accountId = 'alice'): JobSnapshot => ({
  id: `j_r${restored}`, kind: 'restore', accountId, idempotencyKey: `k-${restored}-000001`, status: 'completed', phase: 'finished', errorCode: null,
  progress: { folder: null, messagesDone: restored, messagesTotal: restored, bytes: 0 }, createdAt: at, updatedAt: at,
  outcome: { counts: { restored, alreadyPresent: 0, notRestored: 0, foldersCreated: 0 } },
});
function world(opts: { archived?: string[]; running?: boolean; latest?: string }) {
  const started: string[] = [];
  let running = opts.running ?? false;
  const r = new RecheckAfterRestore({
    dataDir: dataDir(opts.archived ?? ['alice']),
    jobs: {
      isRunning: () => running,
      latest: () => (running ? ({ status: 'running' } as JobSnapshot) : opts.latest ? ({ status: opts.latest } as JobSnapshot) : null),
      startBackup: (id, key) => void started.push(`${id}:${key}`),
    },
    log: () => {},
  });
  return { r, started, stopRunning: () => (running = false) };
}

describe('the backup after a restore', () => {
  it('starts at once, under a key of the restore (a repeated event starts it once at the relay), when mail went back into an archived account', () => {
    const w = world({ latest: 'completed' });
    w.r.restoreFinished(restore(2));
    expect(w.started).toEqual(['alice:after-restore-j_r2']);
  });

  it('does not start when nothing was appended (a dry run, all present already) or the account has no archive', () => {
    const w = world({ archived: ['bob'] });
    w.r.restoreFinished(restore(0));
    w.r.restoreFinished(restore(3, 'alice'));
    expect(w.started).toEqual([]);
  });

  it('waits for a running backup of the account to end, then starts once', () => {
    const w = world({ running: true, latest: 'completed' });
    w.r.restoreFinished(restore(1));
    expect(w.started).toEqual([]);
    w.stopRunning();
    w.r.backupFinished('bob');
    expect(w.started).toEqual([]);
    w.r.backupFinished('alice');
    w.r.backupFinished('alice');
    expect(w.started).toEqual(['alice:after-restore-j_r1']);
  });

  it('does not start for an account whose backups the user deactivated', () => {
    const w = world({ latest: 'deactivated' });
    w.r.restoreFinished(restore(1));
    expect(w.started).toEqual([]);
  });
});
