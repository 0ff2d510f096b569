import { describe, expect, it } from 'vitest';
import { totalsLine } from '@/lib/ui/archive-text';

describe('the archive totals line of the History section', () => {
  it('says the archive holds what it holds when no backup runs', () => {
    expect(totalsLine({ hasArchive: true, messages: 15, bytes: 20_480, folders: 2 }, false)).toMatch(/^In the archive: 15 messages in 2 folders/);
    expect(totalsLine({ hasArchive: false, messages: 0, bytes: 0 }, false)).toBe('No archive yet');
  });

  it('never says "0 messages" while the first backup is storing them, and dates the totals while a later one runs', () => {
    expect(totalsLine({ hasArchive: true, messages: 0, bytes: 0, folders: 0 }, true)).toBe('The first backup is running: what it stores is counted when it ends.');
    expect(totalsLine({ hasArchive: false, messages: 0, bytes: 0 }, true)).toBe('The first backup is running: what it stores is counted when it ends.');
    expect(totalsLine({ hasArchive: true, messages: 15, bytes: 20_480, folders: 2 }, true)).toMatch(/^In the archive at the last finished backup: 15 messages/);
  });
});
