import { describe, expect, it } from 'vitest';
import { ARCHIVE_BROWSE_LIMITS } from '../../lib/limits.ts';
import {
  ARCHIVE_METHODS,
  ArchiveCall,
  ArchiveResultByMethod,
  ClientFrame,
  DownloadParams,
  JobStartBody,
  RequestFrame,
  ResultByMethod,
  RestoreParams,
} from '../../lib/protocol/index.ts';
import { Message } from '../../lib/background/messages.ts';
import { downloadDetailText } from '../../lib/ui/job-detail-text.ts';
import { restoreScopeText } from '../../lib/ui/restore-plan-text.ts';

const req = (method: string, params: unknown) => ({ type: 'request', id: 'r1', method, params });
const hit = {
  id: '3f2a9c0d1e2b4a5c-3',
  account: 'work',
  folder: 'INBOX',
  date: '2026-03-02T10:00:00.000Z',
  from: 'Ann <ann@example.org>',
  to: 'bob@example.org',
  subject: 'The contract from March',
  size: 2048,
  flags: ['\\Seen'],
  goneOnServer: true,
  hasAttachment: false,
  snippet: 'the \u0002contract\u0003 is attached',
};

describe('the archive browsing contract', () => {
  it('has one request and one result schema for each of the five archive methods', () => {
    expect(ARCHIVE_METHODS.sort()).toEqual(['archive.folders', 'archive.messages', 'archive.runs', 'archive.search', 'archive.show']);
    for (const m of ARCHIVE_METHODS) expect(ResultByMethod[m]).toBe(ArchiveResultByMethod[m]);
  });

  it('accepts each method with its params and fills the page size in when it is left out', () => {
    for (const [method, params] of [
      ['archive.runs', { accountId: 'work' }],
      ['archive.folders', { accountId: 'work', atRun: 3 }],
      ['archive.messages', { accountId: 'work', folder: 'Projekte/2024', cursor: 'c1' }],
      ['archive.search', { accountId: 'work', query: 'from:ann "the contract"', atRun: 2 }],
      ['archive.show', { accountId: 'work', id: '42' }],
    ] as const) {
      const parsed = ClientFrame.safeParse(req(method, params));
      expect(parsed.success, method).toBe(true);
    }
    const page = RequestFrame.parse(req('archive.search', { accountId: 'work', query: 'x' }));
    expect(page.method === 'archive.search' && page.params.limit).toBe(ARCHIVE_BROWSE_LIMITS.pageDefault);
  });

  it('refuses pages larger than the cap, empty folders, over-long queries, bad runs, bad ids and extra fields', () => {
    const refused = [
      req('archive.messages', { accountId: 'work', folder: 'INBOX', limit: ARCHIVE_BROWSE_LIMITS.pageMax + 1 }),
      req('archive.messages', { accountId: 'work', folder: 'INBOX', limit: 0 }),
      req('archive.messages', { accountId: 'work', folder: '' }),
      req('archive.search', { accountId: 'work', query: 'x'.repeat(ARCHIVE_BROWSE_LIMITS.queryMaxChars + 1) }),
      req('archive.folders', { accountId: 'work', atRun: 0 }),
      req('archive.folders', { accountId: 'work', atRun: 1.5 }),
      req('archive.show', { accountId: 'work', id: '../../etc/passwd' }),
      req('archive.show', { accountId: 'work', id: '' }),
      req('archive.runs', { accountId: 'work/../other' }),
      req('archive.runs', { accountId: 'work', extra: true }),
      req('archive.delete', { accountId: 'work' }),
    ];
    for (const frame of refused) expect(RequestFrame.safeParse(frame).success, JSON.stringify(frame).slice(0, 80)).toBe(false);
  });

  it('checks answers: a hit with all its fields passes, one missing the deleted-on-server mark or with an unknown field does not', () => {
    const page = ArchiveResultByMethod['archive.search'];
    expect(page.safeParse({ hits: [hit], nextCursor: 'n', total: 7 }).success).toBe(true);
    const { goneOnServer: _, ...withoutMark } = hit;
    expect(page.safeParse({ hits: [withoutMark] }).success).toBe(false);
    expect(page.safeParse({ hits: [{ ...hit, html: '<b>' }] }).success).toBe(false);
    expect(page.safeParse({ hits: Array.from({ length: ARCHIVE_BROWSE_LIMITS.pageMax + 1 }, () => hit) }).success).toBe(false);
  });

  it('checks a preview: headers, text, optional HTML, attachments with sizes, and whether it was cut', () => {
    const show = ArchiveResultByMethod['archive.show'];
    const view = { id: '42', account: 'work', folder: 'INBOX', headers: [{ name: 'Subject', value: 'Hi' }], text: 'hello', html: '<p>hello</p>', truncated: false, attachments: [{ filename: 'a.pdf', size: 10, contentType: 'application/pdf' }], size: 900, flags: ['\\Seen'], date: null, goneOnServer: false };
    expect(show.safeParse(view).success).toBe(true);
    expect(show.safeParse({ ...view, html: undefined }).success).toBe(true);
    expect(show.safeParse({ ...view, text: 'x'.repeat(ARCHIVE_BROWSE_LIMITS.previewTextMaxChars + 1) }).success).toBe(false);
    expect(show.safeParse({ ...view, attachments: [{ filename: 'a.pdf', contentType: 'x' }] }).success).toBe(false);
  });

  it('passes through the service worker as a validated archive message, and nothing else does', () => {
    expect(Message.safeParse({ type: 'archive', call: { method: 'archive.show', params: { accountId: 'work', id: '42' } } }).success).toBe(true);
    expect(Message.safeParse({ type: 'archive', call: { method: 'job.start', params: {} } }).success).toBe(false);
    expect(Message.safeParse({ type: 'archive', call: { method: 'archive.show', params: { accountId: 'work', id: 'a/b' } } }).success).toBe(false);
    expect(ArchiveCall.safeParse({ method: 'archive.search', params: { accountId: 'work', query: 'x' } }).success).toBe(true);
  });
});

describe('a selection of archived messages in restore and download jobs', () => {
  it('a restore names messages by id, into their folders, a new folder or another account', () => {
    expect(RestoreParams.safeParse({ messageIds: ['1', '2'] }).success).toBe(true);
    expect(RestoreParams.safeParse({ messageIds: ['1'], into: 'Restored', sourceAccountId: 'home' }).success).toBe(true);
    const body = JobStartBody.safeParse({ kind: 'restore', accountId: 'work', idempotencyKey: 'restore-12345678', params: { messageIds: ['7'] } });
    expect(body.success).toBe(true);
  });

  it('refuses an empty selection, one larger than the cap, and ids that are not archive ids', () => {
    expect(RestoreParams.safeParse({ messageIds: [] }).success).toBe(false);
    expect(RestoreParams.safeParse({ messageIds: Array.from({ length: ARCHIVE_BROWSE_LIMITS.selectionMax + 1 }, (_, i) => String(i + 1)) }).success).toBe(false);
    expect(RestoreParams.safeParse({ messageIds: ['1 OR 1=1'] }).success).toBe(false);
    expect(DownloadParams.safeParse({ format: 'eml-zip', messageIds: [] }).success).toBe(false);
  });

  it('a download of one message is an .eml; an .eml of none or of several is refused', () => {
    expect(DownloadParams.safeParse({ format: 'eml', messageIds: ['3'] }).success).toBe(true);
    expect(DownloadParams.safeParse({ format: 'eml', messageIds: ['3', '4'] }).success).toBe(false);
    expect(DownloadParams.safeParse({ format: 'eml' }).success).toBe(false);
    expect(DownloadParams.safeParse({ format: 'eml-zip', messageIds: ['3', '4'] }).success).toBe(true);
  });

  it('the dashboard and popup name a selection\'s job by its size, not as "all folders"', () => {
    expect(restoreScopeText({ messageIds: ['3f2a9c0d1e2b4a5c-3', '9b0c11aa22bb33cc-7'] })).toBe('2 selected messages');
    expect(restoreScopeText({ messageIds: ['3f2a9c0d1e2b4a5c-3'], into: 'Restored' })).toBe('1 selected message into "Restored"');
    const job = (params: unknown) => ({ kind: 'download' as const, params: params as never, outcome: null });
    expect(downloadDetailText(job({ format: 'eml', messageIds: ['3f2a9c0d1e2b4a5c-3'] }), 'UTC')).toBe('.eml, 1 selected message');
    expect(downloadDetailText(job({ format: 'eml-zip', messageIds: ['a0a0a0a0a0a0a0a0-1', 'b0b0b0b0b0b0b0b0-1'] }), 'UTC')).toBe('.eml files, 2 selected messages');
  });
});
