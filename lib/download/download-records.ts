import { EXTENSION_LIMITS } from '../limits.ts';
import type { LocalStore } from '../background/pairing-store.ts';
import { z } from '../zod.ts';

/**
 * Which Chrome download saved which job's file, in browser.storage.local: a reopened page, a second
 * page or a restarted service worker asks Chrome (downloads.search by this id) how that download
 * stands, instead of remembering "Saving…" in memory (lost on close) or guessing (false).
 * A refusal to start (downloads.download threw) has no id; its words are kept instead.
 */
export const DownloadRecord = z.strictObject({
  jobId: z.string().min(1),
  /** Chrome's id, or null when Chrome refused to start it. */
  downloadId: z.number().int().nullable(),
  /** The name the relay suggested, shown until Chrome has a path. */
  fileName: z.string(),
  startedAt: z.number(),
  refused: z.string().optional(),
});
export type DownloadRecord = z.infer<typeof DownloadRecord>;

export const DOWNLOAD_RECORDS_KEY = 'mailkeepDownloads';
const Records = z.array(DownloadRecord);

export async function readDownloadRecords(store: Pick<LocalStore, 'get'>): Promise<DownloadRecord[]> {
  const parsed = Records.safeParse((await store.get(DOWNLOAD_RECORDS_KEY))[DOWNLOAD_RECORDS_KEY]);
  return parsed.success ? parsed.data : [];
}

/** The latest save of this job's file, if one was started in this browser. */
export async function downloadRecordOf(store: Pick<LocalStore, 'get'>, jobId: string): Promise<DownloadRecord | null> {
  return (await readDownloadRecords(store)).find((r) => r.jobId === jobId) ?? null;
}

/** Records a save of the job's file; a later one (Try again) replaces it. Keeps the newest only. */
export async function writeDownloadRecord(store: Pick<LocalStore, 'get' | 'set'>, record: DownloadRecord): Promise<void> {
  const others = (await readDownloadRecords(store)).filter((r) => r.jobId !== record.jobId);
  const kept = [DownloadRecord.parse(record), ...others].sort((a, b) => b.startedAt - a.startedAt).slice(0, EXTENSION_LIMITS.downloadRecordsMax);
  await store.set({ [DOWNLOAD_RECORDS_KEY]: kept });
}
