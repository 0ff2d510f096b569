import { useEffect, useState } from 'preact/hooks';
import { browser } from 'wxt/browser';
import { EXTENSION_LIMITS } from '../limits.ts';
import type { LocalStore } from '../background/pairing-store.ts';
import { DOWNLOAD_RECORDS_KEY, downloadRecordOf, type DownloadRecord } from '../download/download-records.ts';
import { downloadView, refusedView, type DownloadItemLike, type DownloadView } from '../download/download-state.ts';

/**
 * How the save of one job's file stands, as Chrome says: the job's recorded download id (storage,
 * so a reopened page or another page finds it) looked up with downloads.search, again on every
 * downloads.onChanged of that id, and every EXTENSION_LIMITS.downloadProgressPollMs while Chrome
 * is still receiving (onChanged does not report bytes). null: never saved in this browser.
 */
export function useDownloadState(jobId: string | null): DownloadView | null {
  const [view, setView] = useState<DownloadView | null>(null);
  useEffect(() => {
    // null: a row that is not a finished download (every job row calls this hook; only those look).
    if (jobId === null) return setView(null);
    let stopped = false;
    let record: DownloadRecord | null = null;
    let poll: ReturnType<typeof setTimeout> | undefined;
    const store = browser.storage.local as unknown as LocalStore;

    const look = async (): Promise<void> => {
      clearTimeout(poll);
      record = await downloadRecordOf(store, jobId!);
      if (stopped) return;
      if (!record) return setView(null);
      if (record.downloadId === null) return setView(refusedView(record.refused ?? 'no reason given'));
      const [item] = (await browser.downloads.search({ id: record.downloadId })) as DownloadItemLike[];
      if (stopped) return;
      const next = downloadView(item, record.fileName);
      setView(next);
      if (next.state === 'saving') poll = setTimeout(() => void look(), EXTENSION_LIMITS.downloadProgressPollMs);
    };
    const onChanged = (delta: { id: number }): void => {
      if (record?.downloadId === delta.id) void look();
    };
    const onStorage = (changes: Record<string, unknown>, area: string): void => {
      if (area === 'local' && DOWNLOAD_RECORDS_KEY in changes) void look();
    };
    browser.downloads.onChanged.addListener(onChanged);
    browser.downloads.onErased.addListener(look as () => void);
    browser.storage.onChanged.addListener(onStorage);
    void look();
    return () => {
      stopped = true;
      clearTimeout(poll);
      browser.downloads.onChanged.removeListener(onChanged);
      browser.downloads.onErased.removeListener(look as () => void);
      browser.storage.onChanged.removeListener(onStorage);
    };
  }, [jobId]);
  return view;
}
