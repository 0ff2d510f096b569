import { describe, expect, it } from 'vitest';
import { browserDownloadOptions, linkIsLive } from '../../lib/download/browser-download.ts';

const link = { url: `/download/${'a'.repeat(64)}`, expiresAt: '2026-11-26T23:10:31.000Z', fileName: 'mailkeep-work-2026-11-25.mbox.zip', bytes: 10 };

describe('handing a relay download to the browser', () => {
  it('sends the pairing token as a header, never in the URL', () => {
    const o = browserDownloadOptions({ port: 7412, token: 'T'.repeat(40) }, link);
    expect(o.url).toBe(`http://127.0.0.1:7412/download/${'a'.repeat(64)}`);
    expect(o.url).not.toContain('TTTT');
    expect(o.headers).toEqual([{ name: 'Authorization', value: `Bearer ${'T'.repeat(40)}` }]);
    expect(o.filename).toBe('mailkeep-work-2026-11-25.mbox.zip');
  });

  it('keeps the suggested name a plain file name', () => {
    expect(browserDownloadOptions({ port: 1, token: 'x'.repeat(40) }, { ...link, fileName: '../a/b:c.zip' }).filename).toBe('__a_b_c.zip');
  });

  it('knows when a link has expired', () => {
    expect(linkIsLive(link, Date.parse('2026-11-26T23:10:30.000Z'))).toBe(true);
    expect(linkIsLive(link, Date.parse('2026-11-26T23:10:32.000Z'))).toBe(false);
  });
});
