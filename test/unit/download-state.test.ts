import { describe, expect, it } from 'vitest';
import { downloadView, interruptWords, INTERRUPT_WORDS, refusedView, type DownloadItemLike } from '../../lib/download/download-state.ts';
import { DOWNLOAD_RECORDS_KEY, downloadRecordOf, readDownloadRecords, writeDownloadRecord } from '../../lib/download/download-records.ts';
import { saveDownload } from '../../lib/ui/save-download.ts';
import { EXTENSION_LIMITS } from '../../lib/limits.ts';
import type { LocalStore } from '../../lib/background/pairing-store.ts';

const item = (over: Partial<DownloadItemLike>): DownloadItemLike => ({ id: 7, state: 'in_progress', filename: '', bytesReceived: 0, totalBytes: 0, ...over });

function memoryStore(initial: Record<string, unknown> = {}): LocalStore & { data: Record<string, unknown> } {
  const data: Record<string, unknown> = { ...initial };
  return {
    data,
    get: async (key: string) => (key in data ? { [key]: structuredClone(data[key]) } : {}),
    set: async (items: Record<string, unknown>) => void Object.assign(data, structuredClone(items)),
    remove: async (key: string) => void delete data[key],
  };
}

const NOW = Date.parse('2026-12-01T10:00:00Z');
const link = { url: `/download/${'a'.repeat(64)}`, expiresAt: '2026-12-01T11:00:00.000Z', fileName: 'alice@example.com-2026-12-01.mbox.zip', bytes: 2048 };
const pairing = { mailkeepPairing: { port: 7412, token: 'T'.repeat(40), pairedAt: NOW - 1000 } };

describe('what the page says about a save, from Chrome\'s own record', () => {
  it('says "Saving" only while Chrome is receiving, with the bytes Chrome reports', () => {
    expect(downloadView(item({ bytesReceived: 0, totalBytes: 0 }), 'x.zip')).toMatchObject({ state: 'saving', text: 'Saving to your downloads folder…' });
    expect(downloadView(item({ bytesReceived: 1536, totalBytes: 3 * 1024 * 1024 }), 'x.zip')).toMatchObject({ state: 'saving', text: 'Saving to your downloads folder: 1.5 KB of 3.0 MB' });
    expect(downloadView(item({ bytesReceived: 2048, totalBytes: 0 }), 'x.zip').state).toBe('saving');
    expect(downloadView(item({ bytesReceived: 10, totalBytes: 20, paused: true }), 'x.zip')).toMatchObject({ text: 'Saving to your downloads folder: 10 bytes of 20 bytes (paused)' });
  });

  it('says "Saved" with the file name Chrome wrote once it is complete, and offers Show in folder', () => {
    const v = downloadView(item({ state: 'complete', filename: '/home/u/Downloads/alice@example.com-2026-12-01.mbox.zip', bytesReceived: 2048, exists: true }), 'ignored.zip');
    expect(v).toEqual({ state: 'saved', downloadId: 7, fileName: 'alice@example.com-2026-12-01.mbox.zip', fileGone: false, text: 'Saved as alice@example.com-2026-12-01.mbox.zip (2.0 KB).' });
    expect(downloadView(item({ state: 'complete', filename: 'C:\\Users\\u\\Downloads\\a.zip', bytesReceived: 5 }), 'x').state === 'saved' && 'a.zip').toBe('a.zip');
  });

  it('says when a saved file was since deleted from its folder', () => {
    expect(downloadView(item({ state: 'complete', filename: '/d/a.zip', exists: false }), 'a.zip')).toMatchObject({ state: 'saved', fileGone: true, text: 'Saved as a.zip, but the file is no longer in its folder.' });
  });

  it.each([
    ['NETWORK_FAILED', 'Not saved: the relay could not be reached (is it running?).'],
    ['SERVER_FAILED', 'Not saved: the relay no longer has this file (the link expired or the relay was restarted without it).'],
    ['SERVER_BAD_CONTENT', 'Not saved: the relay does not know this link any more (it expired).'],
    ['SERVER_UNAUTHORIZED', 'Not saved: the relay refused this browser (pair again in Options).'],
    ['FILE_NO_SPACE', 'Not saved: the disk is full.'],
    ['USER_CANCELED', 'Not saved: it was cancelled.'],
  ])('a download Chrome interrupted with %s says why in words', (reason, text) => {
    expect(downloadView(item({ state: 'interrupted', error: reason }), 'x.zip')).toEqual({ state: 'failed', downloadId: 7, reason, text });
  });

  it('has words for every interrupt reason Chrome documents, and names an unknown one as Chrome does', () => {
    const documented = ['FILE_FAILED', 'FILE_ACCESS_DENIED', 'FILE_NO_SPACE', 'FILE_NAME_TOO_LONG', 'FILE_TOO_LARGE', 'FILE_VIRUS_INFECTED', 'FILE_TRANSIENT_ERROR', 'FILE_BLOCKED', 'FILE_SECURITY_CHECK_FAILED', 'FILE_TOO_SHORT', 'FILE_HASH_MISMATCH', 'FILE_SAME_AS_SOURCE', 'NETWORK_FAILED', 'NETWORK_TIMEOUT', 'NETWORK_DISCONNECTED', 'NETWORK_SERVER_DOWN', 'NETWORK_INVALID_REQUEST', 'SERVER_FAILED', 'SERVER_NO_RANGE', 'SERVER_BAD_CONTENT', 'SERVER_UNAUTHORIZED', 'SERVER_CERT_PROBLEM', 'SERVER_FORBIDDEN', 'SERVER_UNREACHABLE', 'SERVER_CONTENT_LENGTH_MISMATCH', 'SERVER_CROSS_ORIGIN_REDIRECT', 'USER_CANCELED', 'USER_SHUTDOWN', 'CRASH'];
    for (const r of documented) expect(Object.keys(INTERRUPT_WORDS)).toContain(r);
    expect(interruptWords('SOMETHING_NEW')).toBe('the browser stopped it (SOMETHING_NEW)');
    expect(interruptWords(undefined)).toBe('the browser stopped it without saying why');
  });

  it('a download no longer in Chrome\'s list is "forgotten", not saved or saving', () => {
    expect(downloadView(undefined, 'x.zip')).toEqual({ state: 'forgotten' });
  });

  it('a refusal to start is a failure with Chrome\'s message', () => {
    expect(refusedView('Invalid filename')).toEqual({ state: 'failed', downloadId: null, reason: 'REFUSED', text: 'Not saved: the browser refused to start the download.', detail: 'Invalid filename' });
  });
});

describe('the record of which Chrome download saved which job', () => {
  it('keeps the latest save per job (Try again replaces it) and survives a re-read (a reopened page)', async () => {
    const store = memoryStore();
    await writeDownloadRecord(store, { jobId: 'j1', downloadId: 3, fileName: 'a.zip', startedAt: 1 });
    await writeDownloadRecord(store, { jobId: 'j2', downloadId: 4, fileName: 'b.zip', startedAt: 2 });
    await writeDownloadRecord(store, { jobId: 'j1', downloadId: 5, fileName: 'a.zip', startedAt: 3 });
    expect(await downloadRecordOf(store, 'j1')).toMatchObject({ downloadId: 5 });
    expect((await readDownloadRecords(store)).map((r) => r.jobId)).toEqual(['j1', 'j2']);
  });

  it('keeps only the newest records, so storage does not grow for ever', async () => {
    const store = memoryStore();
    for (let i = 0; i < EXTENSION_LIMITS.downloadRecordsMax + 5; i++) await writeDownloadRecord(store, { jobId: `j${i}`, downloadId: i, fileName: 'a', startedAt: i });
    const all = await readDownloadRecords(store);
    expect(all).toHaveLength(EXTENSION_LIMITS.downloadRecordsMax);
    expect(await downloadRecordOf(store, 'j0')).toBeNull();
  });

  it('a damaged record reads as none rather than as a made-up state', async () => {
    expect(await readDownloadRecords(memoryStore({ [DOWNLOAD_RECORDS_KEY]: [{ jobId: 1 }] }))).toEqual([]);
  });
});

describe('Download hands the file to Chrome and records its id', () => {
  it('records the id Chrome gives, with the relay\'s suggested name', async () => {
    const store = memoryStore(pairing);
    const asked: unknown[] = [];
    const code = await saveDownload('j1', link, { store, now: () => NOW, download: async (o) => (asked.push(o), 42) });
    expect(code).toBeNull();
    expect(asked).toHaveLength(1);
    expect(await downloadRecordOf(store, 'j1')).toEqual({ jobId: 'j1', downloadId: 42, fileName: 'alice@example.com-2026-12-01.mbox.zip', startedAt: NOW });
  });

  it('records a refusal to start with Chrome\'s message, so the page says "Not saved"', async () => {
    const store = memoryStore(pairing);
    await saveDownload('j1', link, { store, now: () => NOW, download: async () => { throw new Error('Invalid filename'); } });
    expect(await downloadRecordOf(store, 'j1')).toMatchObject({ downloadId: null, refused: 'Invalid filename' });
  });

  it('an expired link or a missing pairing asks Chrome nothing and says which', async () => {
    let asked = 0;
    const download = async () => ++asked;
    expect(await saveDownload('j1', link, { store: memoryStore(pairing), now: () => Date.parse(link.expiresAt) + 1, download })).toBe('EXPIRED');
    expect(await saveDownload('j1', link, { store: memoryStore(), now: () => NOW, download })).toBe('RELAY_UNPAIRED');
    expect(asked).toBe(0);
  });
});
