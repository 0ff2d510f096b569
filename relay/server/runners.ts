import { backupRunner } from '../jobs/backup/backup-runner.ts';
import { archiveDirOf } from '../jobs/data-dirs.ts';
import { searchIndexer } from '../search/background-indexer.ts';
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
    // The search index follows each backup (relay/search/background-indexer.ts): paced while the
    // backup commits its groups, a last pass when it ends.
    backup: async (ctx) => {
      const dir = archiveDirOf(ctx.dataDir, ctx.account.id);
      searchIndexer().backupStarted(dir);
      try {
        return await backupRunner(ctx);
      } finally {
        searchIndexer().backupEnded(dir);
      }
    },
    restore: restoreRunner,
    ...(deps.downloads ? { download: downloadRunner(deps.downloads) } : {}),
    ...(deps.accounts ? { migrate: migrateRunner(deps.accounts) } : {}),
  };
}
