import fs from 'node:fs';
import path from 'node:path';
import type { JobSnapshot } from '../../lib/protocol/common.ts';
import { canTransition } from '../../lib/status/state-machine.ts';
import { archiveDirOf } from '../jobs/data-dirs.ts';

/**
 * After a restore put mail back into an account, the account's archive still says "deleted on
 * server" for it: that mark is what the last backup found, and only a backup can see the server
 * again. So the relay backs the account up once right after the restore (an incremental run: it
 * fetches nothing already archived, only checks what the server holds), and the marks clear by what
 * it finds, never by a guess from the restore's own counts (docs/search.md, "Deleted on server").
 *
 * When a backup of that account is running, the check waits for it to end and then runs (the
 * running one may have passed the folder before the mail came back).
 */
export class RecheckAfterRestore {
  /** Accounts owed a check backup once their running backup ends, with the restore that owes it. */
  private readonly owed = new Map<string, string>();

  constructor(
    private readonly deps: {
      dataDir: string;
      jobs: {
        isRunning(accountId: string): boolean;
        /** The account's backup status the next run starts from (null: never backed up). */
        latest(accountId: string): JobSnapshot | null;
        startBackup(accountId: string, idempotencyKey: string): void;
      };
      log(line: string): void;
    },
  ) {}

  /** A restore job ended: owe its account a check backup when it put anything back into an archived account. */
  restoreFinished(job: JobSnapshot): void {
    if (job.kind !== 'restore' || job.phase !== 'finished') return;
    const restored = job.outcome?.counts?.restored ?? 0;
    if (restored === 0) return; // a dry run, or nothing appended: the server did not change
    if (!fs.existsSync(path.join(archiveDirOf(this.deps.dataDir, job.accountId), 'index.sqlite'))) return; // no archive, no marks
    if (this.deps.jobs.isRunning(job.accountId)) {
      this.owed.set(job.accountId, job.id);
      this.deps.log(`account ${job.accountId}: restore ${job.id} put ${restored} back; a backup checks the server once the running one ends`);
      return;
    }
    this.start(job.accountId, job.id);
  }

  /** A backup of the account ended: run the check a restore owed it meanwhile. */
  backupFinished(accountId: string): void {
    const restoreId = this.owed.get(accountId);
    if (restoreId === undefined) return;
    this.owed.delete(accountId);
    this.start(accountId, restoreId);
  }

  private start(accountId: string, restoreId: string): void {
    const current = this.deps.jobs.latest(accountId)?.status;
    // Deactivated: the user stopped this account's backups; the relay does not start one on its own.
    if (current === 'deactivated' || (current !== undefined && !canTransition('backup', current, 'preparing'))) {
      this.deps.log(`account ${accountId}: no check backup after restore ${restoreId} from ${current}`);
      return;
    }
    try {
      this.deps.jobs.startBackup(accountId, `after-restore-${restoreId}`);
      this.deps.log(`account ${accountId}: backup started to check the server after restore ${restoreId}`);
    } catch (err) {
      this.deps.log(`account ${accountId}: check backup after restore ${restoreId} not started: ${(err as Error).message}`);
    }
  }
}
