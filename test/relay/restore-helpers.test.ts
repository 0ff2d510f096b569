import { describe, expect, it } from 'vitest';
import { parseDateOption, parseSource } from '../../relay/cli/restore-command.ts';
import type { ImapFlow } from 'imapflow';
import { retryOrStop } from '../../relay/jobs/append-job.ts';
import { FolderPresence } from '../../relay/jobs/restore-presence.ts';
import type { RestoreCandidate } from '../../relay/jobs/restore-select.ts';

describe('restore command-line values', () => {
  it('reads USER@HOST[:PORT], with an @ in the user name', () => {
    expect(parseSource('alice@imap.example.org')).toEqual({ user: 'alice', host: 'imap.example.org' });
    expect(parseSource('alice@example.org@imap.example.org:993')).toEqual({ user: 'alice@example.org', host: 'imap.example.org', port: 993 });
    expect(() => parseSource('nobody')).toThrow(/USER@HOST/);
  });

  it('takes a plain --until date as the end of that day (UTC) and refuses what is not a date', () => {
    expect(parseDateOption('2024-03-31', 'until', true)!.toISOString()).toBe('2024-04-01T00:00:00.000Z');
    expect(parseDateOption('2024-03-31', 'since')!.toISOString()).toBe('2024-03-31T00:00:00.000Z');
    expect(parseDateOption('2024-03-31T12:00:00+02:00', 'until', true)!.toISOString()).toBe('2024-03-31T10:00:00.000Z');
    expect(() => parseDateOption('yesterday', 'since')).toThrow(/date/);
  });
});

describe('restore presence check', () => {
  const candidate: RestoreCandidate = {
    folder: 'INBOX', delimiter: '/', uidvalidity: 1, uid: 7, hash: 'ab'.repeat(32), flags: [], keywords: [],
    internalDate: new Date(Date.UTC(2020, 0, 1)), size: 120, messageId: '<x@example.org>',
  };
  /** Just enough of an ImapFlow: SEARCH answers `search`, FETCH yields one message and records its range. */
  const fakeClient = (search: () => Promise<unknown>, ranges: string[]): ImapFlow =>
    ({
      usable: true,
      search,
      async *fetch(range: string) {
        ranges.push(range);
        yield { uid: 3, size: 120, internalDate: new Date(Date.UTC(2020, 0, 1)), headers: Buffer.from('Message-ID: <x@example.org>\r\n\r\n') };
      },
    }) as unknown as ImapFlow;

  it('reads the whole folder when the server refuses a SEARCH, instead of taking "refused" for "absent"', async () => {
    const ranges: string[] = [];
    const p = await FolderPresence.read(fakeClient(async () => false, ranges), { exists: 500 }, { candidates: [{ c: candidate }] });
    expect(ranges).toEqual(['1:*']);
    expect(await p.take(fakeClient(async () => false, ranges), candidate)).toBe(true);
  });

  it('fetches only the SEARCH hits when the server answers, and a copy answers for one archived copy only', async () => {
    const ranges: string[] = [];
    const client = fakeClient(async () => [3], ranges);
    const p = await FolderPresence.read(client, { exists: 500 }, { candidates: [{ c: candidate }, { c: candidate }] });
    expect(ranges).toEqual(['3']);
    expect(await p.take(client, candidate)).toBe(true);
    expect(await p.take(client, candidate)).toBe(false);
  });
});

describe('the retry decision Restore and Migrate share', () => {
  const base = { maxAttempts: 2, baseDelayMs: 1, code: 'CONNECTION_LOST' as const, message: 'gone', signal: undefined, cancelledMessage: 'job cancelled' };

  it('waits and retries before the limit, announcing the delay', async () => {
    const announced: (number | undefined)[] = [];
    expect(await retryOrStop({ ...base, attempt: 1, opened: true, announce: (ms) => announced.push(ms) })).toBeNull();
    expect(announced).toEqual([1]);
  });

  it('at the limit: Connection Error when it never logged in, Cancelled (RETRY_LIMIT) when sessions kept breaking', async () => {
    const announced: (number | undefined)[] = [];
    const announce = (ms: number | undefined): void => void announced.push(ms);
    expect(await retryOrStop({ ...base, attempt: 2, opened: false, announce })).toEqual({ status: 'connection_error', code: 'CONNECTION_LOST', message: 'gone' });
    expect(await retryOrStop({ ...base, attempt: 2, opened: true, announce })).toEqual({ status: 'cancelled', code: 'RETRY_LIMIT', message: 'gave up after 2 attempts: gone' });
    expect(announced).toEqual([undefined, undefined]); // Retrying is announced, without a next try
  });

  it('a signal during the wait cancels the job', async () => {
    const signal = AbortSignal.abort();
    expect(await retryOrStop({ ...base, attempt: 1, opened: true, signal, announce: () => undefined })).toEqual({ status: 'cancelled', code: 'CANCELLED', message: 'job cancelled' });
  });
});

describe('a refused APPEND, classified', () => {
  it('is APPENDLIMIT_EXCEEDED for a size refusal (imapflow APPENDLIMIT, RFC 7889 TOOBIG, RFC 5530 LIMIT), QUOTA_EXCEEDED for OVERQUOTA, else left to the usual classification', async () => {
    const { classifyAppendRefusal } = await import('../../relay/imap/classify-error.ts');
    const { mailkeepError } = await import('../../lib/protocol/error-codes.ts');
    const no = (code: string, status = 'NO') => Object.assign(new Error('Command failed'), { responseStatus: status, serverResponseCode: code });
    expect(classifyAppendRefusal(Object.assign(new Error('Message content too big for APPENDLIMIT=10'), { serverResponseCode: 'APPENDLIMIT' }))).toBe('APPENDLIMIT_EXCEEDED');
    expect(classifyAppendRefusal(no('TOOBIG'))).toBe('APPENDLIMIT_EXCEEDED');
    expect(classifyAppendRefusal(no('limit'))).toBe('APPENDLIMIT_EXCEEDED');
    expect(classifyAppendRefusal(no('OVERQUOTA'))).toBe('QUOTA_EXCEEDED');
    expect(classifyAppendRefusal(no('LIMIT', 'BAD'))).toBeNull(); // a malformed command, not a size
    expect(classifyAppendRefusal(no('TRYCREATE'))).toBeNull();
    expect(classifyAppendRefusal(mailkeepError('CONNECTION_TIMEOUT', 'slow'))).toBeNull();
  });
});
