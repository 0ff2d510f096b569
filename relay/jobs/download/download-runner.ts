import path from 'node:path';
import type { DownloadLink } from '../../../lib/protocol/job-outcome.ts';
import { archiveDirOf } from '../data-dirs.ts';
import { systemClock, type Clock } from '../../../lib/clock.ts';
import { exportFileName } from '../../export/export-file-name.ts';
import type { JobRunner } from '../job-runner.ts';

/** What the runner needs of the relay's link store (relay/server/download-links.ts DownloadLinks). */
export interface LinkPublisher {
  /** The job's own directory to write into, until release(). */
  workDir(jobId: string): { dir: string; release: () => void };
  /** Publishes the file as an expiring link (default lifetime when ttlMs is undefined). */
  register(jobId: string, file: string, fileName: string, ttlMs?: number): DownloadLink;
  /** Names already given to other files, which a new one must not repeat. */
  namesGiven?(): string[];
}

/**
 * Download through relay/jobs/download/run-download.ts: exports the archive of the job's account (or
 * `params.sourceAccountId`) into the job's own directory under <dataDir>/downloads, then publishes
 * it as an expiring link (download-links.ts). The job ends Completed / Link with the link in its
 * outcome; the link's expiry later moves it to Expired.
 */
export function downloadRunner(links: LinkPublisher, clock: Clock = systemClock): JobRunner<'download'> {
  return async (ctx) => {
    const p = ctx.params;
    const { runDownload } = await import('./run-download.ts');
    const accountId = p.sourceAccountId ?? ctx.account.id;
    const work = links.workDir(ctx.job.id);
    try {
      // Named after the address a person knows (another account's archive: its id, all we hold here)
      // and the day in the relay's zone, which is the user's: the relay runs on their machine.
      const address = accountId === ctx.account.id ? (ctx.account.email ?? ctx.account.user) : accountId;
      const fileName = exportFileName({ address, format: p.format, at: clock.now(), timeZone: clock.timeZone(), taken: links.namesGiven?.() ?? [] });
      const out = path.join(work.dir, fileName);
      const result = await runDownload(
        {
          archiveDir: archiveDirOf(ctx.dataDir, accountId),
          format: p.format,
          out,
          timeZone: clock.timeZone(),
          scope: {
            ...(p.folder !== undefined ? { folder: p.folder } : {}),
            ...(p.since !== undefined ? { since: new Date(p.since) } : {}),
            ...(p.until !== undefined ? { until: new Date(p.until) } : {}),
            ...(p.messageIds !== undefined ? { ids: p.messageIds } : {}),
          },
        },
        {
          signal: ctx.signal,
          onStatus: (status, detail) => {
            if (status === 'running' || status === 'retrying') ctx.setStatus(status, detail.errorCode ?? null);
          },
          onProgress: (pr) => ctx.reportProgress({ folder: pr.folder, folderIndex: pr.folderIndex, folderCount: pr.folderCount, messagesDone: pr.messages, bytes: pr.bytes }),
        },
      );
      if (result.status !== 'completed_link') return { status: result.status, errorCode: result.errorCode, ...(result.message ? { outcome: { message: result.message.slice(0, 1024) } } : {}) };
      const link = links.register(ctx.job.id, out, fileName, p.linkTtlMinutes !== undefined ? p.linkTtlMinutes * 60_000 : undefined);
      ctx.reportProgress({ messagesDone: result.messages, messagesTotal: result.messages, bytes: result.bytes });
      return { status: 'completed_link', errorCode: null, outcome: { link, counts: { messages: result.messages, folders: result.folders } } };
    } finally {
      work.release();
    }
  };
}
