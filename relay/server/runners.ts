import { backupRunner } from '../jobs/backup/backup-runner.ts';
import { downloadRunner } from '../jobs/download/download-runner.ts';
import type { AccountLookup, JobRunners } from '../jobs/job-runner.ts';
import { migrateRunner } from '../jobs/migrate/migrate-runner.ts';
import { restoreRunner } from '../jobs/restore/restore-runner.ts';
import type { DownloadLinks } from './download-links.ts';

/**
 * The job runners `mailkeep relay` uses, by kind. Download needs the link store (it publishes the
 * file), migrate the credential store (the destination is a second account).
 */
export function defaultRunners(deps: { downloads?: DownloadLinks; accounts?: AccountLookup } = {}): JobRunners {
  return {
    backup: backupRunner,
    restore: restoreRunner,
    ...(deps.downloads ? { download: downloadRunner(deps.downloads) } : {}),
    ...(deps.accounts ? { migrate: migrateRunner(deps.accounts) } : {}),
  };
}
